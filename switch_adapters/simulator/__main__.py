"""Run the switch simulator: python -m switch_adapters.simulator --help."""

from switch_adapters.simulator.cli import switch_sim

if __name__ == "__main__":
    switch_sim(prog_name="switch-sim")
