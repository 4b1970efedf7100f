"""`cas demo` and its data dir: kept across restarts, `--fresh` starts over, one demo at a time,
a busy port refused, and someone's real database left alone."""

from __future__ import annotations

import socket
import sqlite3
import subprocess

from activation.settings import Settings
from activation.store.setup import init_database

from .demo_process import clean_env, free_port


def _partners(clone) -> list[str]:  # type: ignore[no-untyped-def]
    with sqlite3.connect(clone / "var" / "cas.sqlite3") as db:
        return [row[0] for row in db.execute("SELECT partner FROM api_keys ORDER BY partner")]


def test_a_restart_keeps_the_data_and_fresh_starts_over(start_demo, clone):
    port = free_port()
    first = start_demo("--port", str(port))
    first.wait_for("Press Ctrl-C")
    added = first.cas("api-key", "add", "acme")  # from the same folder, no --data-dir
    assert added.startswith("exit 0") and "API key for acme: cas_" in added, added
    other = start_demo("--port", str(free_port()))
    assert other.proc.wait(60) == 1
    assert "a demo already runs on" in other.output and f"127.0.0.1:{port}" in other.output
    assert first.stop() == 0

    second = start_demo("--port", str(port))
    second.wait_for("Press Ctrl-C")
    assert second.stop() == 0
    assert _partners(clone) == ["acme"]

    fresh = start_demo("--port", str(port), "--fresh")
    fresh.wait_for("Press Ctrl-C")
    assert _partners(clone) == []
    assert fresh.stop() == 0


def test_a_port_already_taken_is_refused_naming_it(clone):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [".venv/bin/cas", "demo", "--port", str(port)],
            cwd=clone,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in done.stderr
    assert "--port N" in done.stderr and "CAS is running" not in done.stdout
    assert not (clone / "var").exists()  # refused before anything was made


def test_a_database_the_demo_did_not_make_is_left_alone(clone):
    real = clone / "var"
    init_database(Settings(data_dir=real, secret_key="x"), demo=False)
    before = (real / "cas.sqlite3").read_bytes()
    for fresh in ([], ["--fresh"]):
        done = subprocess.run(
            [".venv/bin/cas", "demo", "--port", str(free_port()), *fresh],
            cwd=clone,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1
        assert "holds a CAS database that `cas demo` did not create" in done.stderr
    assert (real / "cas.sqlite3").read_bytes() == before
