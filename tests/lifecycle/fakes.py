"""Fakes of the outside parties for the lifecycle tests: in memory, with the real rules."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from sqlalchemy import select

from activation.parties.ports import BillingRecord, BillingUnavailable
from activation.services import Services
from activation.store.models import Transaction
from switch_adapters.port import LineDown, Subscriber, SwitchDenied, SwitchTimeout


@dataclass(frozen=True)
class Held:
    """What the fake switch says of a MID."""

    mid: str
    esn: str
    features: str
    state: str


@dataclass
class FakeSwitch:
    """Switches in memory with a real switch's rules, and faults on demand.

    A MID is held once; an ESN on one MID only. `late` does the change and loses the answer
    (the caller sees a timeout); `down` fails before anything is done.
    """

    held: dict[str, str] = field(default_factory=dict)  # mid -> esn, every switch at once
    features: dict[str, str] = field(default_factory=dict)  # mid -> features
    suspended: set[str] = field(default_factory=set)
    faults: deque[str] = field(default_factory=deque)

    def open(self, defn: object) -> FakeLine:
        return FakeLine(self)


class FakeLine:
    """One session on the fake switches."""

    def __init__(self, switch: FakeSwitch) -> None:
        self.switch = switch

    def _fault(self) -> str:
        return self.switch.faults.popleft() if self.switch.faults else ""

    def insert(self, subscriber: Subscriber) -> None:
        fault = self._fault()
        if fault == "down":
            raise LineDown("FAKE", "no line")
        held = self.switch.held
        if subscriber.mid in held:
            raise SwitchDenied("FAKE", "SNVS", "MID in service")
        if subscriber.esn in held.values():
            raise SwitchDenied("FAKE", "SAIN", "ESN in use")
        held[subscriber.mid] = subscriber.esn
        self.switch.features[subscriber.mid] = subscriber.features
        if fault == "late":
            raise SwitchTimeout("FAKE", "no answer in time")

    def _change(self, mid: str) -> str:
        fault = self._fault()
        if fault == "down":
            raise LineDown("FAKE", "no line")
        if fault == "deny":
            raise SwitchDenied("FAKE", "IICT", "refused by the switch")
        if mid not in self.switch.held:
            raise SwitchDenied("FAKE", "SNVS", "no such MID")
        return fault

    def delete(self, mid: str) -> None:
        fault = self._change(mid)
        self.switch.held.pop(mid)
        self.switch.features.pop(mid, None)
        self.switch.suspended.discard(mid)
        if fault == "late":
            raise SwitchTimeout("FAKE", "no answer in time")

    def modify(self, mid: str, *, esn: str | None = None, features: str | None = None) -> None:
        fault = self._change(mid)
        if esn is not None and esn != self.switch.held[mid] and esn in self.switch.held.values():
            raise SwitchDenied("FAKE", "SAIN", "ESN in use")
        if esn is not None:
            self.switch.held[mid] = esn
        if features is not None:
            self.switch.features[mid] = features
        if fault == "late":
            raise SwitchTimeout("FAKE", "no answer in time")

    def suspend(self, mid: str) -> None:
        if self._change(mid) == "late":
            self.switch.suspended.add(mid)
            raise SwitchTimeout("FAKE", "no answer in time")
        self.switch.suspended.add(mid)

    def restore(self, mid: str) -> None:
        if self._change(mid) == "late":
            self.switch.suspended.discard(mid)
            raise SwitchTimeout("FAKE", "no answer in time")
        self.switch.suspended.discard(mid)

    def query(self, mid: str) -> Held | None:
        esn = self.switch.held.get(mid)
        if esn is None:
            return None
        state = "suspended" if mid in self.switch.suspended else "active"
        return Held(mid, esn, self.switch.features.get(mid, ""), state)

    def close(self) -> None:
        return None


class CheckingBilling:
    """A billing system that, as each record arrives, checks whom CAS says holds its MID."""

    def __init__(self) -> None:
        self.records: dict[str, BillingRecord] = {}
        self.violations: list[str] = []
        self.services: Services | None = None
        self.down = 0  # records refused (billing unreachable) before it answers again

    def submit(self, record: BillingRecord) -> None:
        assert self.services is not None
        if self.down:
            self.down -= 1
            raise BillingUnavailable("billing is down")
        with self.services.db.read() as session:
            tx = session.scalar(
                select(Transaction).where(Transaction.code == record.transaction_code)
            )
            if tx is None or tx.mid != record.mid or tx.status not in ("active", "suspended"):
                holder = None if tx is None else (tx.status, tx.mid)
                self.violations.append(f"billed {record.mid} while the transaction is {holder}")
        self.records[record.transaction_code] = record

    def inquire(self, transaction_code: str) -> BillingRecord | None:
        return self.records.get(transaction_code)

    def delete(self, transaction_code: str) -> bool:
        return self.records.pop(transaction_code, None) is not None
