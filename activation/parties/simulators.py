"""The partner simulators in this process: the real adapters, talking to a desk without a socket.

Each is the party's HTTP adapter on an in-process transport to the same desk `cas
partner-sim` serves, so it answers exactly as the simulator process does: the same protocol,
the same faults (`control("slow 5")`), the same records on disk. Used when CAS_PARTNERS is
`simulated` and a party has no URL, and by the tests.
"""

from __future__ import annotations

from pathlib import Path

from activation.parties.billing import BillingDesk, HttpBilling, billing_client, record_from
from activation.parties.bureau import BureauDesk, HttpBureau, bureau_client
from activation.parties.client import InProcessTransport
from activation.parties.desk import Desk
from activation.parties.e911 import E911Desk, HttpE911, e911_client, registration_from
from activation.parties.ports import BillingRecord, E911Registration, ReorderRequest
from activation.parties.pvs import HttpPVS, PvsDesk, pvs_client
from activation.parties.warehouse import (
    HttpWarehouse,
    WarehouseDesk,
    reorder_from,
    warehouse_client,
)
from activation.settings import DATA_DIR

DEADLINE = 10.0


def _url(party: str) -> str:
    return f"http://{party}.simulated"


class _Controlled:
    desk: Desk

    def control(self, command: str) -> str:
        """Apply a fault command (down, slow N, garbage, clear); return what is in force."""
        return self.desk.faults.apply(command)


class SimulatedBureau(HttpBureau, _Controlled):
    """A credit bureau answering from data/demo/bureau.json."""

    def __init__(
        self, path: Path = DATA_DIR / "demo" / "bureau.json", deadline: float = DEADLINE
    ) -> None:
        self.desk = BureauDesk(path)
        transport = InProcessTransport(self.desk)
        super().__init__(bureau_client(_url("bureau"), deadline, transport=transport))


class SimulatedPVS(HttpPVS, _Controlled):
    """A positive validation system listing the ESNs of data/demo/pvs.json."""

    def __init__(
        self, path: Path = DATA_DIR / "demo" / "pvs.json", deadline: float = DEADLINE
    ) -> None:
        self.desk = PvsDesk(path)
        transport = InProcessTransport(self.desk)
        super().__init__(pvs_client(_url("pvs"), deadline, transport=transport))


class _Downable(_Controlled):
    directory: Path

    @property
    def down(self) -> bool:
        """Tell whether the party refuses requests now (the DOWN file)."""
        return (self.directory / "DOWN").exists()

    def set_down(self, down: bool) -> None:
        """Take the party down or bring it back, for every process sharing its directory."""
        flag = self.directory / "DOWN"
        if down:
            flag.touch()
        elif flag.exists():
            flag.unlink()


class SimulatedBilling(HttpBilling, _Downable):
    """A billing system keeping one record per transaction in a directory; can be set down."""

    def __init__(self, directory: Path, deadline: float = DEADLINE) -> None:
        self.directory = directory
        self.desk: BillingDesk = BillingDesk(directory)
        transport = InProcessTransport(self.desk)
        super().__init__(billing_client(_url("billing"), deadline, transport=transport))

    def records(self) -> list[BillingRecord]:
        """Return every record held, ordered by transaction code (read from its file)."""
        return [record_from(entry) for entry in self.desk.ledger.every()]


class SimulatedE911(HttpE911, _Downable):
    """An E911 provider keeping one registration per number in a directory; can be set down."""

    def __init__(self, directory: Path, deadline: float = DEADLINE) -> None:
        self.directory = directory
        self.desk: E911Desk = E911Desk(directory)
        transport = InProcessTransport(self.desk)
        super().__init__(e911_client(_url("e911"), deadline, transport=transport))

    def registrations(self) -> list[E911Registration]:
        """Return every registration held, ordered by MID (read from its file)."""
        return [registration_from(entry) for entry in self.desk.ledger.every()]


class SimulatedWarehouse(HttpWarehouse, _Downable):
    """Headquarters' warehouse keeping every re-order it took in a directory; can be set down."""

    def __init__(self, directory: Path, deadline: float = DEADLINE) -> None:
        self.directory = directory
        self.desk: WarehouseDesk = WarehouseDesk(directory)
        transport = InProcessTransport(self.desk)
        super().__init__(warehouse_client(_url("warehouse"), deadline, transport=transport))

    def reorders(self) -> list[ReorderRequest]:
        """Every re-order taken, by reference (read from its file)."""
        return [reorder_from(entry) for entry in self.desk.ledger.every()]
