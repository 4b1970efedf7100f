"""The warehouse adapter against its simulator, as a process and in-process: a re-order sent
again is one re-order; a reference reused for another is refused."""

from __future__ import annotations

import pytest

from activation.parties.ports import ReorderRequest, WarehouseUnavailable
from activation.parties.simulators import SimulatedWarehouse
from activation.parties.warehouse import HttpWarehouse, warehouse_client

from .conftest import DEADLINE, KINDS, TOKEN


@pytest.fixture(params=KINDS)
def warehouse(request, sims, tmp_path) -> HttpWarehouse:  # type: ignore[no-untyped-def]
    if request.param == "process":
        return HttpWarehouse(warehouse_client(sims["warehouse"].url, DEADLINE, token=TOKEN))
    return SimulatedWarehouse(tmp_path / "warehouse", deadline=DEADLINE)


def test_a_reorder_sent_twice_is_one_reorder(warehouse, tmp_path):  # type: ignore[no-untyped-def]
    reference = f"CAS-R{abs(hash(tmp_path)) % 10**9}"
    wanted = ReorderRequest(reference, "1001", "MT100", 5)
    assert warehouse.lookup(reference) is None
    warehouse.reorder(wanted, key=f"k-{reference}")
    warehouse.reorder(wanted, key=f"k2-{reference}")  # a retry with a key of its own
    assert warehouse.lookup(reference) == wanted
    with pytest.raises(WarehouseUnavailable):
        warehouse.reorder(ReorderRequest(reference, "1001", "MT100", 7), key=f"k3-{reference}")
    assert warehouse.lookup(reference) == wanted


def test_a_bad_reference_is_refused_before_sending(warehouse):  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        warehouse.reorder(ReorderRequest("../x", "1001", "MT100", 1))
