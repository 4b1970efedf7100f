"""Osmocom's HLR (osmo-hlr) driven as a switch over its CTRL interface.

How a CAS subscriber is kept in the HLR:

- The MID is the MSISDN, ten digits as the agent keyed it.
- The IMSI is MIN-based and the handset goes into the HLR's IMEI column, as
  switch_adapters.osmo_subscriber derives them.
- The HLR has no field for a rate plan or features: this switch type keeps none
  (KEEPS_FEATURES), query and dump report features as "", and a modify of the features alone
  changes nothing and sends nothing.
- A suspended line is one whose network access mode allows neither circuit- nor packet-switched
  service (CTRL nam_cs and nam_ps both 0, VTY "network-access-mode none", no NAM in the
  listing): suspend turns both off, restore both on. A line with one of them on is active.

osmo-hlr 1.5's CTRL interface (IPA frames: 2-byte length, protocol 0xEE, extension 0x00, then
"GET|SET <id> <variable> [value]"; answers GET_REPLY, SET_REPLY or ERROR with the same id)
creates, deletes, reads and numbers subscribers. It can neither set nor read the IMEI nor list
subscribers, so two things go through the HLR's VTY (telnet, on the CTRL port minus one, as
Osmocom pairs them, unless the URL says socket://host:4259?vty=PORT):
"subscriber imsi I update imei N", and the dump, "show subscribers msisdn %", which the HLR
answers with its own "msisdn LIKE ... ORDER BY msisdn" query: every numbered subscriber,
ordered by MID, streamed line by line.

An insert creates the IMSI, sets the IMEI, and sets the MSISDN last, so a subscriber is never
visible by MID half-made; a refusal on the way deletes the new IMSI again, and an IMSI left
without MSISDN by a dropped line is taken over by the next insert of that MID. A modify sets
the IMEI of the MSISDN over the VTY ("subscriber msisdn M update imei N"); suspend and restore
set cs-enabled and ps-enabled of the MSISDN over CTRL. As with the line-based dialects
(switch_adapters.session), a change whose answer was lost is asked about before it is sent
again, and one refused but already held (MID and handset, the new handset, the state, or no
MID at all) counts as done. The HLR itself refuses neither a state change that changes
nothing nor a handset another MID has.
"""

from __future__ import annotations

import itertools
import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TypeVar
from urllib.parse import parse_qs, urlsplit

from switch_adapters.osmo_ctrl import (
    CtrlLine,
    CtrlSyntaxError,
    Deadline,
    LineLost,
    Refused,
    TimedOut,
    VtyLine,
    connect,
    encode_ctrl,
    parse_info,
)
from switch_adapters.osmo_subscriber import (
    esn_from_imei,
    imei_from_esn,
    imsi_for,
    plmn_from_code,
)
from switch_adapters.port import (
    ACTIVE,
    DEFAULT_DEADLINE,
    SUSPENDED,
    CommandTemplate,
    Garbled,
    LineDown,
    Subscriber,
    SwitchDefinition,
    SwitchDenied,
    SwitchError,
    SwitchTimeout,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

KEEPS_FEATURES = False
# An exchange that timed out, lost its line or was garbled may or may not have been done. The
# first attempt gets this share of the deadline, so that the HLR can be asked before a resend.
UNCERTAIN = (SwitchTimeout, LineDown, Garbled)
FIRST_ATTEMPT_SHARE = 0.5

# Templates take the fields of port.CommandTemplate plus imsi, imei (modify) and nam, the
# network access domain "cs" or "ps" (suspend and restore are sent once for each); the expect
# pattern is matched against the CTRL reply's value (insert, suspend, restore, delete, query),
# the VTY's answer (modify) or the VTY table header (dump).
DEFAULT_COMMANDS: dict[str, CommandTemplate] = {
    "insert": CommandTemplate("SET {ctag} subscriber.create {imsi}", r"^\d+$"),
    "modify": CommandTemplate(
        "subscriber msisdn {mid} update imei {imei}", r"^% Updated subscriber IMSI='\d+' to IMEI="
    ),
    "suspend": CommandTemplate("SET {ctag} subscriber.by-msisdn-{mid}.{nam}-enabled 0", r"^OK$"),
    "restore": CommandTemplate("SET {ctag} subscriber.by-msisdn-{mid}.{nam}-enabled 1", r"^OK$"),
    "delete": CommandTemplate("SET {ctag} subscriber.delete {imsi}", r"^\d+$"),
    "query": CommandTemplate("GET {ctag} subscriber.by-msisdn-{mid}.info", r"(?m)^imsi\t\d{6,15}$"),
    "dump": CommandTemplate("show subscribers msisdn %", r"^ID\s+MSISDN\s+IMSI\s+IMEI\b"),
}

# -- the session ---------------------------------------------------------------------------

NETWORK_DOMAINS = ("cs", "ps")  # circuit- and packet-switched access, both off when suspended
_DUMP_ROW = re.compile(
    r"^\s*\d+\s+(?P<msisdn>\d+)\s+\d{5,15}\s+(?P<imei>\d{14,15}|-+)\s+(?P<nam>\S*)\s*$"
)
_SHOWN = re.compile(r"^\s*Subscribers Shown: (\d+)\s*$")
_IMEI_SHOWN = re.compile(r"^\s*IMEI: (\d{14,15})\s*$")


def _line_address(url: str) -> tuple[str, int, int]:
    parts = urlsplit(url)
    if parts.scheme != "socket" or not parts.hostname or not parts.port:
        raise ValueError(f"osmo-hlr is reached over TCP only (socket://host:port), not {url!r}")
    vty = parse_qs(parts.query).get("vty")
    return parts.hostname, parts.port, int(vty[0]) if vty else parts.port - 1


class OsmoHlrSession:
    """An open connection to one osmo-hlr: CTRL, and its VTY where CTRL cannot serve."""

    keeps_features = KEEPS_FEATURES

    def __init__(self, definition: SwitchDefinition, *, deadline: float = DEFAULT_DEADLINE):
        self.name = definition.name
        self.plmn = plmn_from_code(definition.code)
        urls = (definition.primary_url, definition.backup_url)
        self._addresses = [_line_address(url) for url in urls if url]
        self._secret = definition.logon_secret
        self._commands = {**DEFAULT_COMMANDS, **definition.commands}
        self._deadline = deadline
        self._ids = itertools.count(1)
        self._ctrl: CtrlLine | None = None
        self._vty: VtyLine | None = None
        self._ctrl_address = self._vty_address = ("", 0)
        with self._errors():
            self._ctrl_line(Deadline(deadline))

    def insert(self, subscriber: Subscriber) -> None:
        """Put a subscriber on the HLR, never twice."""
        mid, imsi = subscriber.mid, imsi_for(subscriber.mid, self.plmn)
        imei = imei_from_esn(subscriber.esn)
        wanted = Subscriber(mid, subscriber.esn, "")  # the HLR keeps no features
        self._change(
            mid, lambda deadline: self._insert(mid, imsi, imei, deadline), lambda h: h == wanted
        )

    def modify(self, mid: str, *, esn: str | None = None, features: str | None = None) -> None:
        """Give a subscriber a new handset; the HLR keeps no features, so those change nothing."""
        if esn is None and features is None:
            raise ValueError(f"{mid}: a modify changes the ESN, the features or both")
        imsi_for(mid, self.plmn)
        if esn is None:
            return
        imei = imei_from_esn(esn)
        if not imei:
            raise ValueError(f"{mid}: the HLR cannot take away a handset, only change it")
        self._change(
            mid,
            lambda deadline: self._set_imei_of(mid, imei, deadline),
            lambda held: held is not None and held.esn == esn,
        )

    def suspend(self, mid: str) -> None:
        """Bar a line: neither circuit- nor packet-switched service."""
        imsi_for(mid, self.plmn)
        self._change(
            mid,
            lambda deadline: self._access(mid, "suspend", deadline),
            lambda held: held is not None and held.state == SUSPENDED,
        )

    def restore(self, mid: str) -> None:
        """Lift the bar: both circuit- and packet-switched service."""
        imsi_for(mid, self.plmn)
        self._change(
            mid,
            lambda deadline: self._access(mid, "restore", deadline),
            lambda held: held is not None and held.state == ACTIVE,
        )

    def delete(self, mid: str) -> None:
        """Take a MID off the HLR."""
        imsi_for(mid, self.plmn)  # refuses a malformed MID before anything is sent
        self._change(mid, lambda deadline: self._delete(mid, deadline), lambda held: held is None)

    def query(self, mid: str) -> Subscriber | None:
        """Return what the HLR holds for a MID, or None."""
        imsi_for(mid, self.plmn)
        return self._attempts(Deadline(self._deadline), lambda deadline: self._query(mid, deadline))

    def dump(self) -> Iterator[Subscriber]:
        """Every subscriber with an MSISDN, ordered by MID, streamed from the VTY.

        The deadline bounds each wait for more of the listing, not the whole of it.
        """
        template = self._commands["dump"]
        with self._errors():
            deadline = Deadline(self._deadline)
            self._ctrl_line(deadline)  # the live line, and so the VTY beside it
            vty = VtyLine(connect(*self._vty_address, deadline), deadline)
            try:  # a line of its own, so queries between two rows do not mix with the listing
                command = self._format(template, ctag="", mid="", imsi="")
                lines = vty.run(command, deadline, idle=self._deadline)
                first = next(lines, "")
                if not re.search(template.expect, first):
                    raise CtrlSyntaxError(f"dump answered {first!r}")
                yield from _dump_rows(lines, template.expect)
            finally:
                vty.close()

    def keepalive(self) -> None:
        """Prove the HLR answers now (IPA PING), reconnecting or failing over if it does not."""
        deadline = Deadline(self._deadline)
        try:
            with self._errors():
                self._ctrl_line(deadline).ping(deadline.share(FIRST_ATTEMPT_SHARE))
        except UNCERTAIN as exc:
            log.warning("%s: keep-alive failed: %s", self.name, exc.message)
            with self._errors():
                self._ctrl_line(deadline)

    @property
    def url(self) -> str:
        """The URL of the line in use."""
        return f"socket://{self._ctrl_address[0]}:{self._ctrl_address[1]}"

    def close(self) -> None:
        """Hang up the lines."""
        self._drop()

    def __enter__(self) -> OsmoHlrSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- helpers ---------------------------------------------------------------------------

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn what went wrong on a line into port.py's typed errors."""
        try:
            yield
        except Refused as refusal:
            raise SwitchDenied(self.name, refusal.code, refusal.reason) from None
        except TimedOut as exc:
            self._drop()  # a late answer must not be taken for the next command's
            raise SwitchTimeout(self.name, str(exc)) from None
        except LineLost as exc:
            self._drop()
            raise LineDown(self.name, str(exc)) from None
        except CtrlSyntaxError as exc:
            self._drop()
            raise Garbled(self.name, str(exc)) from None

    def _attempts(self, deadline: Deadline, action: Callable[[Deadline], T]) -> T:
        """Run an exchange; after a timeout, a lost line or garble, once more on a fresh line."""
        try:
            with self._errors():
                return action(deadline.share(FIRST_ATTEMPT_SHARE))
        except UNCERTAIN as exc:
            if deadline.end <= time.monotonic():
                raise
            log.warning("%s: %s; trying again on a fresh line", self.name, exc.message)
        with self._errors():
            return action(deadline)

    def _change(
        self, mid: str, send: Callable[[Deadline], None], done: Callable[[Subscriber | None], bool]
    ) -> None:
        """Make a change at most once: after an unanswered attempt, ask before sending again.

        A change the HLR refuses but which it already holds (an earlier attempt's) is done.
        """
        deadline = Deadline(self._deadline)
        sent = False

        def attempt(attempt_deadline: Deadline) -> None:
            nonlocal sent
            if sent and done(self._query(mid, attempt_deadline)):
                return
            sent = True
            send(attempt_deadline)

        try:
            self._attempts(deadline, attempt)
        except SwitchDenied as denied:
            try:
                held = self._attempts(deadline, lambda again: self._query(mid, again))
            except SwitchError:
                raise denied from None
            if not done(held):
                raise
            log.info("%s: %s denied but already done: %s", self.name, mid, denied.message)

    def _insert(self, mid: str, imsi: str, imei: str, deadline: Deadline) -> None:
        try:
            self._templated("insert", deadline, mid=mid, imsi=imsi)
        except Refused:
            if not self._left_without_msisdn(imsi, deadline):
                raise
            log.warning("%s: taking over IMSI %s left without MSISDN", self.name, imsi)
        try:
            if imei:
                self._set_imei(imsi, imei, deadline)
            self._command(f"SET {self._id()} subscriber.by-imsi-{imsi}.msisdn {mid}", deadline)
        except Refused:
            self._forget(imsi, deadline)
            raise

    def _delete(self, mid: str, deadline: Deadline) -> None:
        info = parse_info(self._templated("query", deadline, mid=mid, imsi=""))
        self._templated("delete", deadline, mid=mid, imsi=self._field(info, "imsi"))

    def _query(self, mid: str, deadline: Deadline) -> Subscriber | None:
        try:
            info = parse_info(self._templated("query", deadline, mid=mid, imsi=""))
        except Refused as refusal:
            if refusal.reason.startswith("No such subscriber"):
                return None
            raise
        if self._field(info, "msisdn") != mid:
            raise CtrlSyntaxError(f"asked for MSISDN {mid}, got {info['msisdn']}")
        barred = all(self._field(info, f"nam_{domain}") == "0" for domain in NETWORK_DOMAINS)
        command = f"show subscriber imsi {self._field(info, 'imsi')}"
        shown = self._vty_line(deadline).run(command, deadline)
        imeis = [match[1] for match in map(_IMEI_SHOWN.match, shown) if match]
        esn = esn_from_imei(imeis[0]) if imeis else ""
        return Subscriber(mid, esn, "", SUSPENDED if barred else ACTIVE)

    def _drop(self) -> None:
        for line in (self._ctrl, self._vty):
            if line is not None:
                line.close()
        self._ctrl = self._vty = None

    def _ctrl_line(self, deadline: Deadline) -> CtrlLine:
        """Return the CTRL line, opening the primary or else the backup when it is down."""
        if self._ctrl is not None and self._ctrl.alive():
            return self._ctrl
        self._drop()
        failures = []
        for host, ctrl_port, vty_port in self._addresses:
            try:
                self._ctrl = CtrlLine(connect(host, ctrl_port, deadline))
            except LineLost as exc:
                failures.append(str(exc))
                continue
            self._ctrl_address, self._vty_address = (host, ctrl_port), (host, vty_port)
            return self._ctrl
        raise LineLost("; ".join(failures))

    def _vty_line(self, deadline: Deadline) -> VtyLine:
        """Return the VTY beside the CTRL line in use, opened and enabled."""
        self._ctrl_line(deadline)
        if self._vty is None or not self._vty.alive():
            self._vty = VtyLine(connect(*self._vty_address, deadline), deadline)
            self._vty.enable(self._secret, deadline)
        return self._vty

    def _id(self) -> str:
        return str(next(self._ids))

    def _format(self, template: CommandTemplate, **fields: str) -> str:
        return template.format.format(
            esn="", features="", name=self.name, secret=self._secret, **fields
        )

    def _templated(
        self, command: str, deadline: Deadline, *, mid: str, imsi: str, **fields: str
    ) -> str:
        template = self._commands[command]
        text = self._format(template, ctag=self._id(), mid=mid, imsi=imsi, **fields)
        value = self._command(text, deadline)
        if not re.search(template.expect, value):
            raise CtrlSyntaxError(f"{command} answered {value!r}")
        return value

    def _command(self, text: str, deadline: Deadline) -> str:
        """Send one CTRL command and return the value of its reply."""
        verb, ident, var = text.split(" ", 3)[:3]
        line = self._ctrl_line(deadline)
        line.send(encode_ctrl(text), deadline)
        reply = line.next_reply(deadline)
        while reply.ident not in (ident, "err"):  # a stale answer to an abandoned command
            reply = line.next_reply(deadline)
        if reply.verb == "ERROR":
            raise Refused(var, reply.value)
        if reply.verb != f"{verb}_REPLY" or reply.var != var:
            raise CtrlSyntaxError(f"{verb} {var} answered {reply.verb} {reply.var}")
        return reply.value

    @staticmethod
    def _field(info: dict[str, str], key: str) -> str:
        if key not in info:
            raise CtrlSyntaxError(f"subscriber info without {key}")
        return info[key]

    def _left_without_msisdn(self, imsi: str, deadline: Deadline) -> bool:
        """Tell whether the IMSI exists without an MSISDN: an insert cut short."""
        try:
            info = self._command(f"GET {self._id()} subscriber.by-imsi-{imsi}.info", deadline)
        except Refused:
            return False
        return "msisdn" not in parse_info(info)

    def _set_imei(self, imsi: str, imei: str, deadline: Deadline) -> None:
        command = f"subscriber imsi {imsi} update imei {imei}"
        output = list(self._vty_line(deadline).run(command, deadline))
        if not any(f"to IMEI='{imei}'" in line for line in output):
            raise Refused("update imei", " ".join(output).lstrip("% ") or "no answer")

    def _set_imei_of(self, mid: str, imei: str, deadline: Deadline) -> None:
        """Set the IMEI of the subscriber numbered mid (modify), over the VTY."""
        template = self._commands["modify"]
        command = self._format(template, ctag="", mid=mid, imsi="", imei=imei)
        output = [line for line in self._vty_line(deadline).run(command, deadline) if line]
        found = [line for line in output if re.search(template.expect, line)]
        if not found:
            raise Refused("update imei", " ".join(output).lstrip("% ") or "no answer")
        if f"to IMEI='{imei}'" not in found[0]:
            raise CtrlSyntaxError(f"modify answered {found[0]!r}")

    def _access(self, mid: str, change: str, deadline: Deadline) -> None:
        """Turn both network access domains off (suspend) or on (restore)."""
        for domain in NETWORK_DOMAINS:
            self._templated(change, deadline, mid=mid, imsi="", nam=domain)

    def _forget(self, imsi: str, deadline: Deadline) -> None:
        """Delete an IMSI this insert created, so a refused insert leaves nothing behind."""
        with suppress(SwitchError), self._errors():
            self._command(f"SET {self._id()} subscriber.delete {imsi}", deadline)
            return
        log.warning("%s: could not delete IMSI %s after a refused insert", self.name, imsi)


def _dump_rows(lines: Iterator[str], header: str) -> Iterator[Subscriber]:
    """Parse the rows of "show subscribers", checking their order and their count."""
    shown, last = 0, ""
    for line in lines:
        row = _DUMP_ROW.match(line)
        if row:
            if row["msisdn"] < last:  # a repeated MID passes: the comparison reports it
                raise CtrlSyntaxError(f"dump not ordered by MSISDN at {line!r}")
            shown, last = shown + 1, row["msisdn"]
            state = ACTIVE if row["nam"] else SUSPENDED  # no NAM: neither CS nor PS
            yield Subscriber(last, esn_from_imei(row["imei"]), "", state)
        elif count := _SHOWN.match(line):
            if int(count[1]) != shown:
                raise CtrlSyntaxError(f"dump says {count[1]} subscribers but listed {shown}")
        elif re.search(header, line):
            continue  # a long listing repeats its header at the foot
        elif not (set(line) <= {"-", " "} or line.startswith("% No matching")):
            raise CtrlSyntaxError(f"unexpected dump line {line!r}")
