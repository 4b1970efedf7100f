"""The switch simulator: a separate process that acts as a switch of any dialect.

``process.start_simulator`` starts one for tests and the demo; ``cli.switch_sim`` is the
``cas switch-sim`` command; ``server`` documents how a dialect plugs in its switch side.
"""
