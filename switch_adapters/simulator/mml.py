"""The MML switch side of the simulator, reusing mml_codec from the other end.

It speaks the commands of ``switch_adapters.mml.DEFAULT_COMMANDS``: ``HGSDC`` (``MSISDN``,
``SUBID``, ``PROFILE``) inserts, ``HGSUC`` changes ``SUBID`` and/or ``PROFILE``, ``HGSBI`` bars
a line and ``HGSBE`` lifts the bar, ``HGSDE`` deletes, ``HGSDP`` prints one ``MSISDN`` or
``ALL`` in pages (``STATE`` ``ACTIVE`` or ``BARRED``), ``CACLP`` prints the time and ``EXIT``
logs off. An idle line is woken with an empty line and asks for ``USERCODE:`` and
``PASSWORD:`` when a log-on is configured; a command sent before log-on is answered with the
log-on prompt.

Fault codes (``mml_codec``): 1 authorization failure, 3 unreasonable value, 4 function busy
(denied on request), 10 unknown command, 12 subscriber already defined, 13 SUBID already in
use, 14 subscriber not defined, 15 subscriber already barred, 16 subscriber not barred: like
the switch it stands for, it refuses a barring that changes nothing.
"""

from __future__ import annotations

import re
import time

from switch_adapters.mml_codec import (
    AUTHORIZATION_FAILURE,
    FUNCTION_BUSY,
    SUBID_IN_USE,
    SUBSCRIBER_BARRED,
    SUBSCRIBER_DEFINED,
    SUBSCRIBER_NOT_BARRED,
    SUBSCRIBER_NOT_DEFINED,
    UNKNOWN_COMMAND,
    UNREASONABLE_VALUE,
    ClientInput,
    Command,
    MMLError,
    echo,
    end,
    executed,
    logon_prompt,
    not_accepted,
    page,
    parse_command,
    prompt,
    row,
    rows,
)
from switch_adapters.port import ACTIVE, SUSPENDED, Subscriber
from switch_adapters.simulator.faults import Fault
from switch_adapters.simulator.server import Connection, Switch
from switch_adapters.simulator.store import DuplicateMid, EsnActive

TITLE = "HLR SUBSCRIBER DATA"
COLUMNS = ("MSISDN", "SUBID", "PROFILE", "STATE")
STATE_WORDS = {ACTIVE: "ACTIVE", SUSPENDED: "BARRED"}
MID = re.compile(r"\d{10}")
ESN = re.compile(r"[0-9A-Fa-f]{1,20}")
VALUE = re.compile(r"[A-Za-z0-9&+._-]*")


def serve(switch: Switch, conn: Connection) -> None:
    """Act as an MML switch on one connection until it hangs up."""
    MMLSwitch(switch, conn).run()


class MMLSwitch:
    """One MML terminal session as the switch holds it."""

    def __init__(self, switch: Switch, conn: Connection) -> None:
        self.switch = switch
        self.conn = conn
        self.logged_on = not switch.logon_name
        self._asking: str | None = None  # the log-on field prompted for
        self._usercode = ""
        self._input = ClientInput()

    def run(self) -> None:
        """Answer lines until the line goes."""
        while True:
            data = self.conn.read()
            if not data:
                return
            try:
                lines = self._input.feed(data)
            except MMLError:
                self.conn.write(not_accepted(UNREASONABLE_VALUE, "FORMAT ERROR") + prompt())
                continue
            for text in lines:
                if not self.handle(text):
                    return

    def handle(self, text: str) -> bool:
        """Answer one line as the faults say; tell whether the line is still up."""
        if self.logged_on and text:
            return self._command(text)
        if self.switch.faults.silent():
            return True
        if self.logged_on:
            self.conn.write(prompt())
            return True
        if self._asking == "USERCODE" and text:
            self._usercode = text
            self._asking = "PASSWORD"
            self.conn.write(logon_prompt("PASSWORD"))
        elif self._asking == "PASSWORD":
            self._asking = None
            self.switch.stats.count("logon")
            if (self._usercode, text) != (self.switch.logon_name, self.switch.secret):
                self.conn.write(not_accepted(AUTHORIZATION_FAILURE, "AUTHORIZATION FAILURE"))
                return True
            self.logged_on = True
            self.conn.write(prompt())
        else:
            self._asking = "USERCODE"
            self.conn.write(logon_prompt("USERCODE"))
        return True

    def _command(self, text: str) -> bool:
        faults, stats = self.switch.faults, self.switch.stats
        fault = faults.take()
        if fault.silent:
            stats.count("silenced")
            return True
        if fault.garbage:
            stats.count("garbled")
            self.conn.write(faults.noise())
            return True
        try:
            command = parse_command(text)
        except MMLError:
            self.conn.write(not_accepted(UNREASONABLE_VALUE, "FORMAT ERROR") + prompt())
            return True
        self.conn.write(echo(text))
        if fault.deny is not None:
            stats.count("denied")
            code = int(fault.deny) if fault.deny.isdigit() else FUNCTION_BUSY
            self.conn.write(not_accepted(code, "FUNCTION BUSY") + prompt())
            return True
        if command.verb == "HGSDP" and command.get("ALL") is not None:
            return self._dump(fault)
        answer = self._execute(command)
        if command.verb == "EXIT" and self.switch.logon_name:
            self.logged_on = False
        else:
            answer += prompt()
        if fault.drop:
            stats.count("dropped")
        return self.conn.answer(answer, fault)

    def _execute(self, command: Command) -> bytes:
        verb, stats, store = command.verb, self.switch.stats, self.switch.store()
        if verb == "HGSDC":
            stats.count("insert")
            return self._insert(command)
        if verb == "HGSUC":
            stats.count("modify")
            return self._modify(command)
        if verb in ("HGSBI", "HGSBE"):
            return self._barring(command)
        if verb == "HGSDE":
            stats.count("delete")
            mid = command.get("MSISDN") or ""
            if not store.delete(mid):
                return not_accepted(SUBSCRIBER_NOT_DEFINED, "SUBSCRIBER NOT DEFINED")
            return executed()
        if verb == "HGSDP":
            stats.count("query")
            held = store.get(command.get("MSISDN") or "")
            if held is None:
                return not_accepted(SUBSCRIBER_NOT_DEFINED, "SUBSCRIBER NOT DEFINED")
            return page(TITLE, 1, COLUMNS) + row(_values(held)) + end()
        if verb == "CACLP":
            now = time.localtime()
            stamp = (time.strftime("%y%m%d", now), time.strftime("%H%M%S", now))
            return page("TIME", 1, ("DATE", "TIME")) + row(stamp) + end()
        if verb == "EXIT":
            return executed()
        return not_accepted(UNKNOWN_COMMAND, f"UNKNOWN COMMAND {verb}")

    def _insert(self, command: Command) -> bytes:
        subscriber = Subscriber(
            command.get("MSISDN") or "", command.get("SUBID") or "", command.get("PROFILE") or ""
        )
        if not (
            MID.fullmatch(subscriber.mid)
            and ESN.fullmatch(subscriber.esn)
            and VALUE.fullmatch(subscriber.features)
        ):
            return not_accepted(UNREASONABLE_VALUE, "UNREASONABLE VALUE")
        try:
            self.switch.store().insert(subscriber)
        except DuplicateMid:
            return not_accepted(SUBSCRIBER_DEFINED, "SUBSCRIBER ALREADY DEFINED")
        except EsnActive:
            return not_accepted(SUBID_IN_USE, "SUBID ALREADY IN USE")
        return executed()

    def _modify(self, command: Command) -> bytes:
        mid, esn, features = (
            command.get("MSISDN") or "",
            command.get("SUBID"),
            command.get("PROFILE"),
        )
        if (
            not MID.fullmatch(mid)
            or (esn is None and features is None)
            or (esn is not None and not ESN.fullmatch(esn))
            or (features is not None and not VALUE.fullmatch(features))
        ):
            return not_accepted(UNREASONABLE_VALUE, "UNREASONABLE VALUE")
        try:
            held = self.switch.store().modify(mid, esn=esn, features=features)
        except EsnActive:
            return not_accepted(SUBID_IN_USE, "SUBID ALREADY IN USE")
        if not held:
            return not_accepted(SUBSCRIBER_NOT_DEFINED, "SUBSCRIBER NOT DEFINED")
        return executed()

    def _barring(self, command: Command) -> bytes:
        barring = command.verb == "HGSBI"
        self.switch.stats.count("suspend" if barring else "restore")
        mid = command.get("MSISDN") or ""
        was = self.switch.store().set_state(mid, SUSPENDED if barring else ACTIVE)
        if was is None:
            return not_accepted(SUBSCRIBER_NOT_DEFINED, "SUBSCRIBER NOT DEFINED")
        if barring and was == SUSPENDED:
            return not_accepted(SUBSCRIBER_BARRED, "SUBSCRIBER ALREADY BARRED")
        if not barring and was == ACTIVE:
            return not_accepted(SUBSCRIBER_NOT_BARRED, "SUBSCRIBER NOT BARRED")
        return executed()

    def _dump(self, fault: Fault) -> bool:
        """Print every subscriber, part_size rows a page; the fault acts on the first page."""
        self.switch.stats.count("dump")
        size = self.switch.part_size
        table: list[tuple[str, str, str, str]] = []
        number = 0

        def send(final: bool) -> bool:
            nonlocal number
            number += 1
            data = page(TITLE, number, COLUMNS) + rows(table[:size])
            del table[:size]
            if final:
                data += end() + prompt()
            if number > 1:
                self.conn.write(data)
                return True
            if fault.drop:
                self.switch.stats.count("dropped")
            return self.conn.answer(data, fault)

        # Pages of store rows become printout pages a block of rows at a time.
        words = STATE_WORDS
        for store_rows in self.switch.store().pages():
            table += [(mid, esn, feat, words[state]) for mid, esn, feat, state in store_rows]
            while len(table) >= size:
                if not send(final=False):
                    return False
        return send(final=True)


def _values(subscriber: Subscriber) -> tuple[str, str, str, str]:
    return (subscriber.mid, subscriber.esn, subscriber.features, STATE_WORDS[subscriber.state])


__all__ = ["MMLSwitch", "serve"]
