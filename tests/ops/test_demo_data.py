"""`cas demo` and its data dir: `--fresh` starts over, a busy port is refused, and someone's
real database is left alone (a restart keeping the data is test_make_demo's)."""

from __future__ import annotations

import socket
import sqlite3
import subprocess

from click.testing import CliRunner

from activation.settings import Settings
from activation.store.setup import init_database
from ivr.demo import demo
from ivr.demo_folder import DemoCard

from .demo_process import clean_env, free_port


def _partners(clone) -> list[str]:  # type: ignore[no-untyped-def]
    with sqlite3.connect(clone / "var" / "cas.sqlite3") as db:
        rows = db.execute(
            "SELECT p.name FROM api_keys k JOIN partners p ON p.id = k.partner_id ORDER BY p.name"
        )
        return [row[0] for row in rows]


def test_fresh_starts_over_from_what_a_demo_left(start_demo, clone):
    home = clone / "var"
    init_database(Settings(data_dir=home), demo=True)
    DemoCard("http://127.0.0.1:1", "token", "AC" + "d" * 32, "http://127.0.0.1:2", 1).write(home)
    (home / "letters").mkdir()
    (home / "letters" / "99999999.pdf").write_bytes(b"%PDF")
    added = subprocess.run(
        [".venv/bin/cas", "api-key", "add", "acme"], cwd=clone, env=clean_env(), timeout=60
    )
    assert added.returncode == 0 and _partners(clone) == ["acme"]

    fresh = start_demo("--port", str(free_port()), "--fresh")
    fresh.wait_for("Press Ctrl-C")
    assert _partners(clone) == []
    assert not (home / "letters").exists()
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


def test_a_database_the_demo_did_not_make_is_left_alone(tmp_path):
    real = tmp_path / "var"
    init_database(Settings(data_dir=real, secret_key="x"), demo=False)
    before = (real / "cas.sqlite3").read_bytes()
    for fresh in ([], ["--fresh"]):
        args = ["--port", str(free_port()), "--data-dir", str(real), *fresh]
        done = CliRunner().invoke(demo, args)
        assert done.exit_code == 1
        assert "holds a CAS database that `cas demo` did not create" in done.output
    assert (real / "cas.sqlite3").read_bytes() == before
