"""Fixtures for switch adapter tests: simulator processes, free ports, subscribers."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

from switch_adapters.simulator.process import SimulatorProcess, start_simulator

NAME, SECRET, SID = "cas", "hou1-secret", "HOU1"


def _present(module: str) -> bool:
    try:
        return find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def simulated_dialects() -> list[str]:
    """Dialects with both an adapter and a simulator side in this checkout."""
    return [
        dialect
        for dialect in ("tl1", "mml", "ber")
        if _present(f"switch_adapters.{dialect}")
        and _present(f"switch_adapters.simulator.{dialect}")
    ]


StartSimulator = Callable[..., SimulatorProcess]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[StartSimulator]:
    """Start simulator processes (log-on cas/hou1-secret, SID HOU1); all stop at teardown."""
    started: list[SimulatorProcess] = []

    def starter(dialect: str = "tl1", store: Path | None = None, **kwargs: Any) -> SimulatorProcess:
        kwargs.setdefault("name", NAME)
        kwargs.setdefault("secret", SECRET)
        kwargs.setdefault("sid", SID)
        path = store or tmp_path / f"switch{len(started)}.db"
        sim = start_simulator(dialect, path, **kwargs)
        started.append(sim)
        return sim

    yield starter
    for sim in started:
        sim.stop()


@pytest.fixture(params=simulated_dialects())
def dialect(request: pytest.FixtureRequest) -> str:
    """Each dialect the simulator speaks."""
    return str(request.param)


@pytest.fixture
def sim(start: StartSimulator) -> SimulatorProcess:
    """A TL1 simulator on TCP."""
    return start("tl1")


@pytest.fixture
def refused_url() -> str:
    """A socket:// URL on which nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"socket://127.0.0.1:{port}"
