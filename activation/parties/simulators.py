"""Deterministic simulators of the credit bureau, positive validation and billing system."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from activation.keyed import is_digits
from activation.parties.ports import BillingRecord, BillingUnavailable, CreditReport
from activation.settings import DATA_DIR


class SimulatedBureau:
    """A credit bureau answering from data/demo/bureau.json."""

    def __init__(self, path: Path = DATA_DIR / "demo" / "bureau.json") -> None:
        self._reports = {
            row["ssn"]: CreditReport(row["name"], row["address"], int(row["score"]))
            for row in json.loads(path.read_text())
        }

    def report(self, kind: str, tax_id: str) -> CreditReport | None:
        """Return the report on file for the tax id, or None."""
        return self._reports.get(tax_id)


class SimulatedPVS:
    """A positive validation system listing the ESNs of data/demo/pvs.json."""

    def __init__(self, path: Path = DATA_DIR / "demo" / "pvs.json") -> None:
        self._listed = frozenset(json.loads(path.read_text())["listed"])

    def is_listed(self, esn: str) -> bool:
        """Tell whether the ESN is listed as in service elsewhere."""
        return esn in self._listed


class SimulatedBilling:
    """A billing system keeping one record per transaction in a directory; can be set down.

    It is down while the file `DOWN` exists in its directory, so an operator or a test can
    take it down and bring it back from another process.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)

    @property
    def down(self) -> bool:
        """Tell whether the billing system refuses records now."""
        return (self.directory / "DOWN").exists()

    def set_down(self, down: bool) -> None:
        """Take the billing system down or bring it back."""
        flag = self.directory / "DOWN"
        if down:
            flag.touch()
        elif flag.exists():
            flag.unlink()

    def submit(self, record: BillingRecord) -> None:
        """Store the record under its transaction code (a resubmission replaces it)."""
        if self.down:
            raise BillingUnavailable("billing system is down")
        path = self.directory / f"{record.transaction_code}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(record)))
        os.replace(tmp, path)

    def inquire(self, transaction_code: str) -> BillingRecord | None:
        """Return the record held for a transaction, or None."""
        if self.down:
            raise BillingUnavailable("billing system is down")
        path = self._path(transaction_code)
        return BillingRecord(**json.loads(path.read_text())) if path.exists() else None

    def delete(self, transaction_code: str) -> bool:
        """Remove the record of a transaction; tell whether there was one."""
        if self.down:
            raise BillingUnavailable("billing system is down")
        path = self._path(transaction_code)
        if not path.exists():
            return False
        path.unlink()
        return True

    def _path(self, transaction_code: str) -> Path:
        # Codes are digits; anything else would name a file outside the record directory.
        if not is_digits(transaction_code):
            raise ValueError("a transaction code is digits")
        return self.directory / f"{transaction_code}.json"

    def records(self) -> list[BillingRecord]:
        """Return every record held, ordered by transaction code."""
        return [
            BillingRecord(**json.loads(p.read_text()))
            for p in sorted(self.directory.glob("*.json"))
        ]
