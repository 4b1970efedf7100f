"""Lines and trunks on their own: pyserial URLs, deadlines, hang-ups, failover, keep-alive."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from switch_adapters.line import Line, Trunk
from switch_adapters.port import LineDown, SwitchDenied, SwitchTimeout

SLACK = 0.5


def soon(seconds: float = 1.0) -> float:
    return time.monotonic() + seconds


@pytest.fixture
def tcp_peer() -> Iterator[Callable[[Callable[[socket.socket], None]], str]]:
    """Serve each connection on a local port with the given function; return its URL."""
    servers: list[socket.socket] = []

    def serve(handle: Callable[[socket.socket], None]) -> str:
        server = socket.create_server(("127.0.0.1", 0))
        servers.append(server)

        def loop() -> None:
            while True:
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                threading.Thread(target=handle, args=(conn,), daemon=True).start()

        threading.Thread(target=loop, daemon=True).start()
        return f"socket://127.0.0.1:{server.getsockname()[1]}"

    yield serve
    for server in servers:
        server.close()


def echo(conn: socket.socket) -> None:
    with conn:
        while data := conn.recv(1024):
            conn.sendall(data)


def silent(conn: socket.socket) -> None:
    with conn:
        while conn.recv(1024):
            pass


def hang_up(conn: socket.socket) -> None:
    conn.recv(1024)
    conn.close()


def test_loop_url_reads_back_what_was_written() -> None:
    line = Line.open("HOU1", "loop://", soon())
    line.write(b"RTRV-HDR:::1;")
    assert line.read(soon()) == b"RTRV-HDR:::1;"
    began = time.monotonic()
    with pytest.raises(SwitchTimeout):
        line.read(soon(0.2))
    assert time.monotonic() - began < 0.2 + SLACK
    line.close()
    with pytest.raises(LineDown):
        line.read(soon())


def test_socket_url_echo_and_deadline(tcp_peer) -> None:  # type: ignore[no-untyped-def]
    line = Line.open("HOU1", tcp_peer(echo), soon())
    line.write(b"x" * 100_000)
    got = b""
    while len(got) < 100_000:
        got += line.read(soon())
    assert got == b"x" * 100_000
    began = time.monotonic()
    with pytest.raises(SwitchTimeout):
        line.read(soon(0.3))
    assert 0.25 < time.monotonic() - began < 0.3 + SLACK
    line.close()


def test_peer_hanging_up_is_line_down(tcp_peer) -> None:  # type: ignore[no-untyped-def]
    line = Line.open("HOU1", tcp_peer(hang_up), soon())
    line.write(b"hello")
    with pytest.raises(LineDown):
        line.read(soon(2))
    assert line.closed


def test_unopenable_urls_are_line_down(refused_url) -> None:  # type: ignore[no-untyped-def]
    for url in (refused_url, "/dev/no-such-tty", "bogus://x"):
        began = time.monotonic()
        with pytest.raises(LineDown):
            Line.open("HOU1", url, soon())
        assert time.monotonic() - began < 1.0 + SLACK


def greet_with_echo(line: Line, until: float) -> None:
    line.write(b"hi")
    data = b""
    while data != b"hi":
        data += line.read(until)


def test_trunk_fails_over_from_refused_and_from_silent_lines(tcp_peer, refused_url) -> None:  # type: ignore[no-untyped-def]
    good = tcp_peer(echo)
    trunk = Trunk("HOU1", [refused_url, tcp_peer(silent), good], greet_with_echo)
    began = time.monotonic()
    line = trunk.connect(soon(1.5))
    assert time.monotonic() - began < 1.5 + SLACK
    assert line.url == good and trunk.url == good
    # The line that worked is tried first next time.
    trunk.hang_up()
    began = time.monotonic()
    assert trunk.ensure(soon()).url == good
    assert time.monotonic() - began < 0.2
    assert trunk.connects == 2
    trunk.close()


def test_trunk_with_no_line_answering(tcp_peer, refused_url) -> None:  # type: ignore[no-untyped-def]
    trunk = Trunk("HOU1", [refused_url, refused_url], greet_with_echo)
    with pytest.raises(LineDown):
        trunk.connect(soon())
    trunk = Trunk("HOU1", [refused_url, tcp_peer(silent)], greet_with_echo)
    began = time.monotonic()
    with pytest.raises(SwitchTimeout):
        trunk.connect(soon(0.5))
    assert time.monotonic() - began < 0.5 + SLACK


def test_trunk_does_not_fail_over_a_refused_log_on(tcp_peer) -> None:  # type: ignore[no-untyped-def]
    greeted: list[str] = []

    def refuse(line: Line, until: float) -> None:
        greeted.append(line.url)
        raise SwitchDenied("HOU1", "PIUI", "invalid user or password")

    primary, backup = tcp_peer(echo), tcp_peer(echo)
    with pytest.raises(SwitchDenied):
        Trunk("HOU1", [primary, backup], refuse).connect(soon())
    assert greeted == [primary]


def test_keepalive_runs_on_an_idle_line_and_reconnects_a_dead_one(tcp_peer) -> None:  # type: ignore[no-untyped-def]
    pings: list[str] = []

    def ping(line: Line, until: float) -> None:
        pings.append(line.url)
        greet_with_echo(line, until)

    url = tcp_peer(echo)
    trunk = Trunk("HOU1", [url], greet_with_echo, keepalive=ping, keepalive_interval=0.05)
    first = trunk.connect(soon())
    assert trunk.ensure(soon()) is first and pings == []  # not idle yet
    time.sleep(0.1)
    assert trunk.ensure(soon()) is first and pings == [url]
    first.close()  # as if the line had died under us
    assert trunk.ensure(soon()) is not first
    assert trunk.connects == 2
    trunk.close()
