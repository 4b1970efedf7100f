"""The life every line-based dialect session shares: deadlines, reconnect, failover and retries.

A dialect subclasses ``LineSession``, sets ``DIALECT``, ``DEFAULT_COMMANDS`` (and ``STATES``,
``FORMER_COMMANDS`` where it has them), and writes only the exchanges over one open line. Each
hook gets the open ``Line`` and an absolute deadline (``until``, a ``time.monotonic()`` value) it
must not block past, and raises the typed errors of ``switch_adapters.port`` (a codec's
``CodecError`` becomes ``Garbled``):

    _greet(line, until)               log on over a freshly opened line; reset codec state here
    _keepalive(line, until)           a harmless command proving the switch still answers
    _insert(line, subscriber, until)  -> None; the subscriber is always ACTIVE
    _modify(line, mid, esn, features, until)
                                      -> None; change what is not None, leave the rest as is
                                         (at least one of esn and features is given)
    _suspend(line, mid, until)        -> None; bar the line, keeping the subscriber
    _restore(line, mid, until)        -> None; lift the bar
    _delete(line, mid, until)         -> None
    _query(line, mid, until)          -> Subscriber | None  (None: the switch has no such MID);
                                         the Subscriber carries the line's state
    _dump(line, part_seconds)         -> Iterator[Subscriber], ordered by MID, streamed; each
                                         part of the answer must come within part_seconds
    _dump_records(line, part_seconds) -> Iterator[list[Record]]: instead of _dump, for a
                                         dialect that reads a whole part of a dump at once
    _log_off(line, until)             optional, best effort on close()

A change hook sends its command and checks the answer; it raises ``SwitchDenied`` for any
refusal, including one that says the switch already holds what was asked (a line already
suspended): the rule below turns that into success.

The base class gives every dialect the same rules:

- Every public command finishes or raises within ``deadline`` seconds (a dump: per part).
- The constructor connects and logs on, primary line first, failing over to the backup line
  (``switch_adapters.line.Trunk``); a line idle for ``keepalive_interval`` is checked with the
  keep-alive before a command goes into it.
- A command whose answer timed out, was cut off or garbled leaves the line unusable (a late
  answer could be taken for the next one), so the line is hung up and reconnected.
- A change (insert, modify, suspend, restore, delete) that failed that way may still have been
  done. The first attempt gets half the time left; before sending again the session queries
  the MID, and sends only if the switch does not already hold the wanted state. A change the
  switch denies is checked the same way, so a retry from a new session (the activity queue) is
  not refused for what an earlier, unanswered attempt did: the call succeeds when the switch
  holds exactly the subscriber (insert), holds the MID with the new ESN and features (modify),
  holds it suspended (suspend) or active (restore), or no longer holds it (delete).
- Templates, the values filled into them and the subscribers read back with their patterns
  are the switch row's (``switch_adapters.templates.SwitchRow``, whose helpers dialects use).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Generator, Iterator
from typing import ClassVar, TypeVar

from switch_adapters.line import Line, Trunk, remaining
from switch_adapters.port import (
    ACTIVE,
    DEFAULT_DEADLINE,
    SUSPENDED,
    Garbled,
    LineDown,
    Record,
    Subscriber,
    SwitchDefinition,
    SwitchDenied,
    SwitchError,
    SwitchTimeout,
    batched_records,
)
from switch_adapters.templates import SAFE_VALUE, SwitchRow

log = logging.getLogger(__name__)

T = TypeVar("T")

# Failures after which a command may or may not have been done, and the line is suspect.
UNCERTAIN = (SwitchTimeout, LineDown, Garbled)
ATTEMPTS = 2
FIRST_ATTEMPT_SHARE = 0.5


class LineSession(SwitchRow):
    """A logged-on session over a switch's lines; dialects fill in the exchanges."""

    KEEPALIVE_SECONDS: ClassVar[float] = 60.0

    def __init__(
        self,
        defn: SwitchDefinition,
        deadline: float = DEFAULT_DEADLINE,
        *,
        keepalive_interval: float | None = None,
    ) -> None:
        self.defn = defn
        self.switch = defn.name
        self.deadline = deadline
        self._patterns: dict[str, re.Pattern[str]] = {}
        self._uncertain: set[str] = set()
        self._dumping = False
        urls = [defn.primary_url] + ([defn.backup_url] if defn.backup_url else [])
        self.trunk = Trunk(
            defn.name,
            urls,
            self._greet,
            keepalive=self._keepalive,
            keepalive_interval=(
                self.KEEPALIVE_SECONDS if keepalive_interval is None else keepalive_interval
            ),
        )
        self.trunk.connect(self._until())

    # -- the SwitchSession protocol ------------------------------------------------------------

    def insert(self, subscriber: Subscriber) -> None:
        """Put a subscriber on the switch, never twice."""
        if subscriber.state != ACTIVE:
            raise ValueError(f"{subscriber.mid}: insert a subscriber active, then suspend it")
        self._check(subscriber.mid, subscriber.esn, subscriber.features)
        self._change(
            subscriber.mid,
            lambda line, until: self._insert(line, subscriber, until),
            lambda held: held == subscriber,
        )

    def modify(self, mid: str, *, esn: str | None = None, features: str | None = None) -> None:
        """Change the handset and/or the features of a subscriber the switch holds."""
        if esn is None and features is None:
            raise ValueError(f"{mid}: a modify changes the ESN, the features or both")
        self._check(mid, *(value for value in (esn, features) if value is not None))

        def done(held: Subscriber | None) -> bool:
            return (
                held is not None and esn in (None, held.esn) and features in (None, held.features)
            )

        self._change(mid, lambda line, until: self._modify(line, mid, esn, features, until), done)

    def suspend(self, mid: str) -> None:
        """Bar a line; the subscriber stays on the switch, suspended."""
        self._check(mid)
        self._change(
            mid,
            lambda line, until: self._suspend(line, mid, until),
            lambda held: held is not None and held.state == SUSPENDED,
        )

    def restore(self, mid: str) -> None:
        """Lift the bar on a suspended line."""
        self._check(mid)
        self._change(
            mid,
            lambda line, until: self._restore(line, mid, until),
            lambda held: held is not None and held.state == ACTIVE,
        )

    def delete(self, mid: str) -> None:
        """Take a MID off the switch."""
        self._check(mid)
        self._change(mid, lambda line, until: self._delete(line, mid, until), lambda h: h is None)

    def query(self, mid: str) -> Subscriber | None:
        """Return what the switch holds for a MID, or None."""
        self._check(mid)
        self._not_dumping()
        return self._retrying(self._until(), lambda line, until: self._query(line, mid, until))

    def dump(self) -> Iterator[Subscriber]:
        """Stream every subscriber, ordered by MID; each part of the answer within the deadline."""
        records = self.dump_records()
        last = ""
        try:
            for batch in records:
                for mid, esn, features, state in batch:
                    if mid < last:  # a repeated MID passes: the comparison reports it
                        raise Garbled(self.switch, f"dump out of MID order at {mid}")
                    last = mid
                    yield Subscriber(mid, esn, features, state)
        finally:
            records.close()

    def dump_records(self) -> Generator[list[Record], None, None]:
        """Stream every subscriber as (MID, ESN, features, state) records, a batch at a time.

        The bulk read behind ``dump``, for whoever reads a whole switch (the nightly
        comparison): no object per subscriber. Records come in the switch's order, which should
        be MID order; checking that is the caller's (``dump`` does).
        """
        self._not_dumping()
        line = self.trunk.ensure(self._until())
        self._dumping = True
        finished = False
        try:
            yield from self._dump_records(line, self.deadline)
            finished = True
        finally:
            self._dumping = False
            if not finished:
                # Failed or abandoned half-way: the rest of the answer is still on the line.
                self.trunk.hang_up()

    def keepalive(self) -> None:
        """Prove the line answers now, reconnecting (or failing over) if it does not."""
        self._not_dumping()
        until = self._until()
        line = self.trunk.ensure(until)
        try:
            self._keepalive(line, until)
        except UNCERTAIN as exc:
            log.warning("%s: keep-alive failed: %s", self.switch, exc.message)
            self.trunk.connect(until)

    def close(self) -> None:
        """Log off (best effort) and close the line."""
        line = self.trunk.line
        if line is not None and not line.closed and not self._dumping:
            try:
                self._log_off(line, time.monotonic() + min(self.deadline, 2.0))
            except SwitchError as exc:
                log.debug("%s: log-off failed: %s", self.switch, exc.message)
        self.trunk.close()

    def __enter__(self) -> LineSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        """The URL of the line in use."""
        return self.trunk.url

    # -- what dialects write -------------------------------------------------------------------

    def _greet(self, line: Line, until: float) -> None:
        raise NotImplementedError

    def _keepalive(self, line: Line, until: float) -> None:
        raise NotImplementedError

    def _insert(self, line: Line, subscriber: Subscriber, until: float) -> None:
        raise NotImplementedError

    def _modify(
        self, line: Line, mid: str, esn: str | None, features: str | None, until: float
    ) -> None:
        raise NotImplementedError

    def _suspend(self, line: Line, mid: str, until: float) -> None:
        raise NotImplementedError

    def _restore(self, line: Line, mid: str, until: float) -> None:
        raise NotImplementedError

    def _delete(self, line: Line, mid: str, until: float) -> None:
        raise NotImplementedError

    def _query(self, line: Line, mid: str, until: float) -> Subscriber | None:
        raise NotImplementedError

    def _dump(self, line: Line, part_seconds: float) -> Iterator[Subscriber]:
        raise NotImplementedError

    def _dump_records(self, line: Line, part_seconds: float) -> Iterator[list[Record]]:
        """Batch _dump's subscribers; a dialect that reads whole parts gives this instead."""
        return batched_records(self._dump(line, part_seconds))

    def _log_off(self, line: Line, until: float) -> None:
        """Log off; dialects without a log-off leave this as is."""

    # -- the shared rules ----------------------------------------------------------------------

    def _until(self) -> float:
        return time.monotonic() + self.deadline

    def _check(self, *values: str) -> None:
        for value in values:
            if not SAFE_VALUE.fullmatch(value):
                raise ValueError(f"{value!r} cannot be sent to a switch")

    def _not_dumping(self) -> None:
        if self._dumping:
            raise RuntimeError(f"{self.switch}: a dump is still streaming on this session")

    def _retrying(self, until: float, action: Callable[[Line, float], T]) -> T:
        """Run an exchange, once more on a fresh line if the first one failed uncertainly."""
        for attempt in range(1, ATTEMPTS + 1):
            line = self.trunk.ensure(until)
            last = attempt == ATTEMPTS
            share = 1.0 if last else FIRST_ATTEMPT_SHARE
            attempt_until = time.monotonic() + remaining(until) * share
            try:
                return action(line, attempt_until)
            except UNCERTAIN as exc:
                self.trunk.hang_up()
                if last or remaining(until) <= 0:
                    raise
                log.warning("%s: %s; trying again on a fresh line", self.switch, exc.message)
        raise AssertionError("unreachable")

    def _change(
        self,
        mid: str,
        send: Callable[[Line, float], None],
        done: Callable[[Subscriber | None], bool],
    ) -> None:
        """Make a change at most once: after a failed attempt, query before sending again."""
        self._not_dumping()
        until = self._until()

        def attempt(line: Line, attempt_until: float) -> None:
            if mid in self._uncertain:
                held = self._query(line, mid, attempt_until)
                self._uncertain.discard(mid)
                if done(held):
                    log.info("%s: %s was already done before the retry", self.switch, mid)
                    return
            try:
                send(line, attempt_until)
            except UNCERTAIN:
                self._uncertain.add(mid)
                raise

        try:
            self._retrying(until, attempt)
        except SwitchDenied as denied:
            try:
                held = self._retrying(until, lambda line, t: self._query(line, mid, t))
            except SwitchError:
                raise denied from None
            self._uncertain.discard(mid)
            if not done(held):
                raise
            log.info("%s: %s denied but already done: %s", self.switch, mid, denied.message)
        self._uncertain.discard(mid)


__all__ = ["ATTEMPTS", "FIRST_ATTEMPT_SHARE", "SAFE_VALUE", "LineSession", "UNCERTAIN"]
