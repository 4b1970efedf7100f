"""`make demo`'s very path: `.venv/bin/cas demo` started in a fresh folder, default data dir.

One activation is dialled through it with `cas dial` as a person would (no --url, no
--auth-token: the demo's card in var/ says both), a worker killed with SIGKILL comes back,
and SIGTERM leaves no process behind, osmo-hlr included. Started again, the demo still has the
activation (`cas letter` writes its welcome letter), and a second demo on the same folder is
refused.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import time

from .demo_process import alive, free_port, make_demo_command

ACTIVATION = "1001#\n2468#\n#\n2\n13803186457#\n1\n1\n123456789#\n1\n1\n10#\n1\n713555#\n1\n2\n"


def test_make_demo_dials_an_activation_and_stops_everything(start_demo, clone):
    command = make_demo_command()
    assert command == [".venv/bin/cas", "demo"]
    port = free_port()
    demo = start_demo("--port", str(port), command=command)
    demo.wait_for("Press Ctrl-C")
    assert f"Web server: http://127.0.0.1:{port}" in demo.output
    assert "Data: var " in demo.output and (clone / "var" / "cas.sqlite3").is_file()
    children = demo.children()
    if shutil.which("osmo-hlr"):
        assert "HOU4 (osmo-hlr) at socket://127." in demo.output
        assert any(cmd.startswith(shutil.which("osmo-hlr") or "") for cmd in children.values())
    # A quiet start: the walkthrough, no library log lines.
    assert not [line for line in demo.lines if " INFO " in line or line.startswith("{")]

    call = demo.cas("dial", "--pause-scale", "0.05", input=ACTIVATION)
    assert call.startswith("exit 0"), call
    assert "CAS: The new number is 7 1 3, 5 5 5," in call
    spoken = re.search(r"Your transaction code is ([\d ]+)\.", call)
    assert spoken is not None
    code = spoken[1].replace(" ", "")
    compared = demo.cas("compare", "--switch", "HOU1")
    assert compared.startswith("exit 0"), compared  # found the demo's data: no discrepancy
    assert '"cas_numbers": 1' in compared

    (worker,) = [pid for pid, cmd in children.items() if cmd.endswith("-m ivr worker")]
    os.kill(worker, signal.SIGKILL)
    demo.wait_for(f"worker (pid {worker}) killed by SIGKILL; restarting", timeout=30)
    line = demo.wait_for("worker restarted (pid", timeout=30)
    restarted = int(line.split("(pid ")[1].split(",")[0])
    assert alive(restarted) and restarted in demo.children()
    assert demo.proc.poll() is None  # the demo itself is still up

    everything = demo.children()
    assert demo.stop(signal.SIGTERM) == 0
    assert "stopped" in demo.lines[-1]
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in everything) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = {pid: cmd for pid, cmd in everything.items() if alive(pid)}
    assert not left, f"still running after SIGTERM: {left}"

    again = start_demo("--port", str(port), command=command)
    again.wait_for("Press Ctrl-C")
    letter = again.cas("letter", code)
    assert letter.startswith("exit 0") and f"var/letters/{code}.pdf" in letter, letter
    other = start_demo("--port", str(free_port()))
    assert other.proc.wait(60) == 1
    assert "a demo already runs on" in other.output and f"127.0.0.1:{port}" in other.output
    assert again.stop() == 0
