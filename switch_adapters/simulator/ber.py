"""The BER switch side of the simulator, reusing ber_codec from the other end.

It answers the requests of data/asn1/cas-switch.asn: log-on (checked when a log-on name is
configured; until then only keep-alive is taken), insert, modify, suspend, restore, delete,
query, dump (DumpRecords ordered by MID, written part_size at a time, then EndOfDump),
keep-alive and log-off. A duplicate MID is refused with subscriberExists, an ESN already in
use (insert, modify) with esnInUse, an unknown MID with unknownSubscriber, a modify that
changes nothing with badRequest, suspending a suspended line with alreadySuspended and
restoring an active one with notSuspended; a denial on request with switchBusy (or the code
asked for). Octets that are not frames of the dialect make the switch hang up, as a framing
error would on a real link.
"""

from __future__ import annotations

from switch_adapters import ber_codec as ber
from switch_adapters import ber_dump
from switch_adapters.port import ACTIVE, SUSPENDED, Record, Subscriber
from switch_adapters.simulator.faults import Fault
from switch_adapters.simulator.server import Connection, Switch
from switch_adapters.simulator.store import DuplicateMid, EsnActive

CODES = ber.ERROR_CODES


def serve(switch: Switch, conn: Connection) -> None:
    """Act as a BER switch on one connection until it hangs up."""
    BERSwitch(switch, conn).run()


class BERSwitch:
    """One BER association as the switch holds it."""

    def __init__(self, switch: Switch, conn: Connection) -> None:
        self.switch = switch
        self.conn = conn
        self.logged_on = not switch.logon_name
        self._decoder = ber.FrameDecoder()

    def run(self) -> None:
        """Answer requests until the line goes."""
        while True:
            data = self.conn.read()
            if not data:
                return
            try:
                messages = self._decoder.feed(data)
            except ber.BerError:
                self.switch.stats.count("framing")
                self.conn.hang_up()
                return
            for message in messages:
                if not self.handle(message):
                    return

    def handle(self, message: ber.Message) -> bool:
        """Answer one request as the faults say; tell whether the line is still up."""
        faults, stats = self.switch.faults, self.switch.stats
        fault = faults.take()
        if fault.silent:
            stats.count("silenced")
            return True
        if fault.garbage:
            stats.count("garbled")
            self.conn.write(faults.noise())
            return True
        if fault.deny is not None:
            stats.count("denied")
            code = int(fault.deny) if fault.deny.isdigit() else CODES["switchBusy"]
            return self._send(ber.Refused(message.invoke_id, code, "switch busy"), fault)
        if isinstance(message, ber.Dump) and self.logged_on:
            return self._dump(message, fault)
        return self._send(self._execute(message), fault)

    def _execute(self, message: ber.Message) -> ber.Answer:
        invoke_id, stats = message.invoke_id, self.switch.stats
        if isinstance(message, ber.LogOn):
            stats.count("logon")
            wanted = (self.switch.logon_name, self.switch.secret.encode())
            if self.switch.logon_name and (message.name, message.secret) != wanted:
                return _refused(invoke_id, "authorizationFailure", "invalid name or secret")
            self.logged_on = True
            return ber.Response(invoke_id, "LOGGED ON")
        if isinstance(message, ber.KeepAlive):
            return ber.Response(invoke_id, "ALIVE")
        if not self.logged_on:
            return _refused(invoke_id, "notLoggedOn", "log on first")
        store = self.switch.store()
        if isinstance(message, ber.Insert):
            stats.count("insert")
            subscriber = message.subscriber
            try:
                store.insert(subscriber)
            except DuplicateMid:
                return _refused(invoke_id, "subscriberExists", f"{subscriber.mid} in service")
            except EsnActive:
                return _refused(invoke_id, "esnInUse", f"ESN {subscriber.esn} already active")
            return ber.Response(invoke_id, "SUBSCRIBER INSERTED")
        if isinstance(message, ber.Modify):
            stats.count("modify")
            if message.esn is None and message.features is None:
                return _refused(invoke_id, "badRequest", "nothing to modify")
            try:
                known = store.modify(message.mid, esn=message.esn, features=message.features)
            except EsnActive:
                return _refused(invoke_id, "esnInUse", f"ESN {message.esn} already active")
            if not known:
                return _refused(invoke_id, "unknownSubscriber", f"no subscriber on {message.mid}")
            return ber.Response(invoke_id, "SUBSCRIBER MODIFIED")
        if isinstance(message, ber.Suspend | ber.Restore):
            return self._state_change(message)
        if isinstance(message, ber.Delete):
            stats.count("delete")
            if not store.delete(message.mid):
                return _refused(invoke_id, "unknownSubscriber", f"no subscriber on {message.mid}")
            return ber.Response(invoke_id, "SUBSCRIBER DELETED")
        if isinstance(message, ber.Query):
            stats.count("query")
            held = store.get(message.mid)
            if held is None:
                return _refused(invoke_id, "unknownSubscriber", f"no subscriber on {message.mid}")
            return ber.Response(invoke_id, "SUBSCRIBER DATA", held)
        if isinstance(message, ber.LogOff):
            self.logged_on = not self.switch.logon_name
            return ber.Response(invoke_id, "LOGGED OFF")
        return _refused(invoke_id, "badRequest", f"{type(message).__name__} is not a request")

    def _state_change(self, message: ber.Suspend | ber.Restore) -> ber.Answer:
        suspending = isinstance(message, ber.Suspend)
        self.switch.stats.count("suspend" if suspending else "restore")
        invoke_id, mid = message.invoke_id, message.mid
        was = self.switch.store().set_state(mid, SUSPENDED if suspending else ACTIVE)
        if was is None:
            return _refused(invoke_id, "unknownSubscriber", f"no subscriber on {mid}")
        if suspending and was == SUSPENDED:
            return _refused(invoke_id, "alreadySuspended", f"{mid} already suspended")
        if not suspending and was == ACTIVE:
            return _refused(invoke_id, "notSuspended", f"{mid} is not suspended")
        return ber.Response(
            invoke_id, "SUBSCRIBER SUSPENDED" if suspending else "SUBSCRIBER RESTORED"
        )

    def _dump(self, request: ber.Dump, fault: Fault) -> bool:
        """Stream every subscriber after request.after; the fault acts on the first part."""
        self.switch.stats.count("dump")
        size, invoke_id = self.switch.part_size, request.invoke_id
        pending: list[Record] = []
        count, first = 0, True
        # Pages of store rows become parts of part_size records, written a part at a time.
        for page in self.switch.store().pages(after=request.after or ""):
            pending += page
            while len(pending) >= size:
                part = pending[:size]
                del pending[:size]
                count += len(part)
                if not self._write(_records(invoke_id, part), fault if first else None):
                    return False
                first = False
        count += len(pending)
        end = ber.encode(ber.EndOfDump(invoke_id, count))
        return self._write(_records(invoke_id, pending) + end, fault if first else None)

    def _send(self, answer: ber.Answer, fault: Fault) -> bool:
        return self._write(ber.encode(answer), fault)

    def _write(self, data: bytes, fault: Fault | None) -> bool:
        if fault is None:
            self.conn.write(data)
            return True
        if fault.drop:
            self.switch.stats.count("dropped")
        return self.conn.answer(data, fault)


def _records(invoke_id: int, records: list[Record]) -> bytes:
    """DumpRecord frames of the records, all at once (one by one when a value is odd)."""
    octets = ber_dump.dump_page(invoke_id, records)
    if octets is None:  # a value the module cannot carry: written one by one, and refused
        dump_records = (ber.DumpRecord(invoke_id, Subscriber(*record)) for record in records)
        octets = b"".join(ber.encode(record) for record in dump_records)
    return octets


def _refused(invoke_id: int, code: str, reason: str) -> ber.Refused:
    return ber.Refused(invoke_id, CODES[code], reason)


__all__ = ["BERSwitch", "serve"]
