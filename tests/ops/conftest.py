"""Fixtures of the operator tests: a folder standing in for a fresh clone, demos run in it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .demo_process import VENV, Demo


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A folder standing in for a fresh clone of the repo, its .venv the repo's."""
    if not (VENV / "bin" / "cas").exists():
        pytest.skip("the repo has no .venv (make venv)")
    folder = tmp_path / "clone"
    folder.mkdir()
    (folder / ".venv").symlink_to(VENV)
    return folder


@pytest.fixture
def start_demo(clone: Path) -> Iterator:  # type: ignore[type-arg]
    """Start `cas demo` in the clone folder with extra arguments; nothing is left running."""
    started: list[Demo] = []

    def start(*args: str, command: list[str] | None = None) -> Demo:
        demo = Demo(clone, [*(command or [".venv/bin/cas", "demo"]), *args])
        started.append(demo)
        return demo

    yield start
    for demo in started:
        demo.kill_leftovers()
