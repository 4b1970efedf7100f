"""The keys of one whole activation call, shared by the benchmarks that dial it."""

from __future__ import annotations


def keys_for(esn: str, agent: str = "1001") -> list[str]:
    """The keys of one activation of Jane Q Public on HOU1 (713555), as in the README."""
    return [
        f"{agent}#",
        "2468#",
        "#",
        "2",
        f"{esn}#",
        "1",  # the ESN read back: right
        "1",  # individual
        "123456789#",
        "1",
        "1",
        "10#",
        "1",  # the rate plan read back: right
        "713555#",
        "1",
        "2",
    ]
