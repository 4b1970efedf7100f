"""The TL1 switch side of the simulator, reusing tl1_codec from the other end.

It speaks the commands of ``switch_adapters.tl1.DEFAULT_COMMANDS``: ``ACT-USER``, ``CANC-USER``,
``RTRV-HDR``, ``ENT-SUB`` (``ESN=``, ``FEAT=``), ``ED-SUB`` (``ESN=`` and/or ``FEAT=``),
``RMV-SUB`` and ``RST-SUB`` (out of and back into service), ``DLT-SUB`` and ``RTRV-SUB`` (one
MID, or ``ALL`` for the whole database in parts; each line ends in its primary state, ``IS``
or ``OOS``). Like a real switch it acknowledges slow commands (``IP ctag <``) now and then, and
sends autonomous ``REPT`` messages between answers and between the parts of a dump, so clients
must cope with both.

Error codes: ``PIUI`` bad user or password, ``PLNA`` not logged on, ``IITA`` wrong target,
``ICNV`` unknown command, ``IISP`` unreadable input, ``IDNV`` bad data, ``IEAE`` MID already
held, ``SAIS`` ESN already active on a MID (insert, edit) or line already in service
(restore), ``SAOS`` line already out of service (remove), ``IENE`` no such MID, ``SROF``
(denied on request). Removing a line already out of service is refused, as a switch refuses
a state change that changes nothing; so is restoring one in service.
"""

from __future__ import annotations

import re
import time

from switch_adapters.port import ACTIVE, SUSPENDED, Record, Subscriber
from switch_adapters.simulator.faults import Fault
from switch_adapters.simulator.server import Connection, Switch
from switch_adapters.simulator.store import DuplicateMid, EsnActive
from switch_adapters.tl1_codec import (
    Ack,
    Autonomous,
    BadCommand,
    Command,
    Response,
    TL1Server,
    quote,
)

ACK_EVERY = 3  # an in-progress acknowledgement before every third answer
MID = re.compile(r"\d{10}")
VALUE = re.compile(r"[A-Za-z0-9&+._-]*")
FREE_VERBS = ("ACT-USER", "RTRV-HDR", "CANC-USER")
PST = {ACTIVE: "IS", SUSPENDED: "OOS"}  # a line's state as its primary state
REPTS = (
    ("*C", "REPT ALM EQPT", '"LINE-2:CR,LOS,SA"'),
    ("A ", "REPT EVT SESSION", '"CAS:LOGON,NSA"'),
    ("* ", "REPT ALM ENV", '"FAN-1:MN,TEMP,NSA"'),
)


def serve(switch: Switch, conn: Connection) -> None:
    """Act as a TL1 switch on one connection until it hangs up."""
    TL1Switch(switch, conn).run()


def _stamp() -> str:
    return time.strftime("%y-%m-%d %H:%M:%S")


class TL1Switch:
    """One TL1 session as the switch holds it."""

    def __init__(self, switch: Switch, conn: Connection) -> None:
        self.switch = switch
        self.conn = conn
        self.sid = switch.sid or "SIM"
        self.logged_on = not switch.logon_name
        self._codec = TL1Server()
        self._commands = 0
        self._messages = 0
        self._atag = 0

    def run(self) -> None:
        """Answer commands until the line goes."""
        while True:
            data = self.conn.read()
            if not data:
                return
            for command in self._codec.feed(data):
                if not self.handle(command):
                    return

    def handle(self, command: Command | BadCommand) -> bool:
        """Answer one command as the faults say; tell whether the line is still up."""
        faults, stats = self.switch.faults, self.switch.stats
        fault = faults.take()
        if fault.silent:
            stats.count("silenced")
            return True
        if fault.garbage:
            stats.count("garbled")
            self.conn.write(faults.noise())
            return True
        if isinstance(command, BadCommand):
            return self._send(self._deny(command.ctag, "IISP", command.reason), fault)
        if fault.deny is not None:
            stats.count("denied")
            return self._send(self._deny(command.ctag, fault.deny or "SROF", "denied"), fault)
        self._commands += 1
        if fault.delay or self._commands % ACK_EVERY == 0:
            self.conn.write(Ack("IP", command.ctag).encode())
        if command.verb == "RTRV-SUB" and command.aid.upper() == "ALL" and self.logged_on:
            return self._dump(command, fault)
        return self._send(self._execute(command), fault)

    def _execute(self, command: Command) -> Response:
        ctag, verb = command.ctag, command.verb
        if command.tid and self.switch.sid and command.tid != self.switch.sid:
            return self._deny(ctag, "IITA", f"this is {self.switch.sid}")
        if verb == "ACT-USER":
            self.switch.stats.count("logon")
            secret = command.payload[0] if command.payload else ""
            wanted = (self.switch.logon_name, self.switch.secret)
            if self.switch.logon_name and (command.aid, secret) != wanted:
                return self._deny(ctag, "PIUI", "invalid user or password")
            self.logged_on = True
            return self._done(ctag)
        if verb == "RTRV-HDR":
            return self._done(ctag)
        if verb == "CANC-USER":
            self.logged_on = not self.switch.logon_name
            return self._done(ctag)
        if not self.logged_on:
            return self._deny(ctag, "PLNA", "log on first")
        if verb == "ENT-SUB":
            return self._insert(command)
        if verb == "ED-SUB":
            return self._modify(command)
        if verb in ("RMV-SUB", "RST-SUB"):
            return self._service(command)
        if verb == "DLT-SUB":
            self.switch.stats.count("delete")
            if not self.switch.store().delete(command.aid):
                return self._deny(ctag, "IENE", f"no subscriber on {command.aid}")
            return self._done(ctag)
        if verb == "RTRV-SUB":
            self.switch.stats.count("query")
            held = self.switch.store().get(command.aid)
            if held is None:
                return self._deny(ctag, "IENE", f"no subscriber on {command.aid}")
            return self._done(
                ctag, (quote(_record(held.mid, held.esn, held.features, held.state)),)
            )
        return self._deny(ctag, "ICNV", f"unknown command {verb}")

    def _insert(self, command: Command) -> Response:
        self.switch.stats.count("insert")
        params = command.parameters()
        subscriber = Subscriber(command.aid, params.get("ESN", ""), params.get("FEAT", ""))
        if not (
            MID.fullmatch(subscriber.mid)
            and subscriber.esn.isalnum()
            and VALUE.fullmatch(subscriber.features)
        ):
            return self._deny(command.ctag, "IDNV", "MID, ESN or FEAT not valid")
        try:
            self.switch.store().insert(subscriber)
        except DuplicateMid:
            return self._deny(command.ctag, "IEAE", f"{subscriber.mid} already in service")
        except EsnActive:
            return self._deny(command.ctag, "SAIS", f"ESN {subscriber.esn} already active")
        return self._done(command.ctag)

    def _modify(self, command: Command) -> Response:
        self.switch.stats.count("modify")
        params = command.parameters()
        esn, features = params.get("ESN"), params.get("FEAT")
        if (
            (esn is None and features is None)
            or (esn is not None and not esn.isalnum())
            or (features is not None and not VALUE.fullmatch(features))
        ):
            return self._deny(command.ctag, "IDNV", "ESN or FEAT not valid")
        try:
            held = self.switch.store().modify(command.aid, esn=esn, features=features)
        except EsnActive:
            return self._deny(command.ctag, "SAIS", f"ESN {esn} already active")
        if not held:
            return self._deny(command.ctag, "IENE", f"no subscriber on {command.aid}")
        return self._done(command.ctag)

    def _service(self, command: Command) -> Response:
        removing = command.verb == "RMV-SUB"
        self.switch.stats.count("suspend" if removing else "restore")
        was = self.switch.store().set_state(command.aid, SUSPENDED if removing else ACTIVE)
        if was is None:
            return self._deny(command.ctag, "IENE", f"no subscriber on {command.aid}")
        if was == SUSPENDED and removing:
            return self._deny(command.ctag, "SAOS", f"{command.aid} already out of service")
        if was == ACTIVE and not removing:
            return self._deny(command.ctag, "SAIS", f"{command.aid} already in service")
        return self._done(command.ctag)

    def _dump(self, command: Command, fault: Fault) -> bool:
        self.switch.stats.count("dump")
        size = self.switch.part_size
        records: list[str] = []
        first = True
        for page in self.switch.store().pages():
            records += _records(page)
            while len(records) >= size:
                part = self._done(command.ctag, tuple(records[:size]), final=False)
                if not self._send(part, fault if first else None):
                    return False
                first, records = False, records[size:]
        return self._send(self._done(command.ctag, tuple(records)), fault if first else None)

    def _send(self, message: Response, fault: Fault | None) -> bool:
        """Send an answer (or a part), an autonomous message first when one is due."""
        self._messages += 1
        every = self.switch.rept_every
        if self.switch.faults.take_autonomous() or (every and self._messages % every == 0):
            self.conn.write(self._autonomous().encode())
        if fault is None:
            self.conn.write(message.encode())
            return True
        if fault.drop:
            self.switch.stats.count("dropped")
        return self.conn.answer(message.encode(), fault)

    def _autonomous(self) -> Autonomous:
        self._atag += self.switch.faults.tag_step()
        alarm, verb, line = REPTS[self._atag % len(REPTS)]
        self.switch.stats.count("autonomous")
        return Autonomous(self.sid, alarm, self._atag, verb, (line,), stamp=_stamp())

    def _done(self, ctag: str, lines: tuple[str, ...] = (), final: bool = True) -> Response:
        return Response(self.sid, ctag, "COMPLD", lines, final, _stamp())

    def _deny(self, ctag: str, code: str, reason: str) -> Response:
        lines = (code, f"/* {reason} */")
        return Response(self.sid, ctag, "DENY", lines, True, _stamp())


def _record(mid: str, esn: str, features: str, state: str) -> str:
    return f"{mid}:ESN={esn},FEAT={features}:{PST[state]}"


def _records(rows: list[Record]) -> list[str]:
    """The quoted dump lines of (mid, esn, features, state) rows."""
    # _record's line, quoted, written inline: a call per row costs a dump of a million 10%.
    pst = PST
    lines = [
        f'"{mid}:ESN={esn},FEAT={features}:{pst[state]}"' for mid, esn, features, state in rows
    ]
    joined = "".join(lines)
    if joined.count('"') != 2 * len(lines) or "\\" in joined:  # a value to escape: rare
        return [quote(_record(*row)) for row in rows]
    return lines


__all__ = ["TL1Switch", "serve"]
