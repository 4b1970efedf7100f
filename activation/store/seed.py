"""Load reference data and the demo data of data/ into an empty database."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from activation.secrets import Vault, hash_pin
from activation.settings import DATA_DIR
from activation.store.comparison import BILLING
from activation.store.inventory import HandsetMovement, Product, StockLevel
from activation.store.models import (
    Agent,
    DepositRule,
    Handset,
    NpaNxxBlock,
    RatePlan,
    Switch,
    TelephoneNumber,
)
from activation.store.salespeople import Salesperson


def _json(path: Path) -> Any:
    return json.loads(path.read_text())


def load_reference(session: Session, data_dir: Path = DATA_DIR) -> None:
    """Load what every installation needs: the deposit table."""
    if session.scalar(select(DepositRule.id).limit(1)) is not None:
        return
    with (data_dir / "deposit_table.csv").open() as fh:
        for row in csv.DictReader(fh):
            session.add(
                DepositRule(
                    min_score=int(row["min_score"]),
                    max_score=int(row["max_score"]),
                    decision=row["decision"],
                    deposit_cents=int(row["deposit_dollars"]) * 100,
                )
            )


def add_switch(
    session: Session,
    vault: Vault,
    row: dict[str, Any],
    *,
    first_suffix: int = 1,
    last_suffix: int = 9999,
) -> Switch:
    """Add a switch with its NPA-NXX blocks and their free numbers."""
    from switch_adapters import default_commands

    if row["name"].strip().lower() == BILLING:
        raise ValueError(f"a switch may not be named {BILLING!r}: the comparison's billing side is")

    commands = row.get("commands") or {
        name: {"format": tpl.format, "expect": tpl.expect}
        for name, tpl in default_commands(row["dialect"]).items()
    }
    secret = row.get("logon_secret", "")
    switch = Switch(
        name=row["name"],
        dialect=row["dialect"],
        code=row.get("code", ""),
        primary_url=row["primary_url"],
        backup_url=row.get("backup_url", ""),
        logon_name=row.get("logon_name", ""),
        logon_secret_encrypted=vault.encrypt(secret) if secret else "",
        commands=commands,
        active=row.get("active", not row.get("optional")),
    )
    session.add(switch)
    session.flush()
    for npa_nxx in row.get("npa_nxx", []):
        add_block(session, switch, npa_nxx, first_suffix, last_suffix)
    return switch


def add_block(session: Session, switch: Switch, npa_nxx: str, first: int, last: int) -> None:
    """Add an NPA-NXX block to a switch and put its numbers in the inventory as free."""
    session.add(
        NpaNxxBlock(npa_nxx=npa_nxx, switch_id=switch.id, first_suffix=first, last_suffix=last)
    )
    session.flush()
    session.execute(
        insert(TelephoneNumber),
        [
            {"mid": f"{npa_nxx}{suffix:04d}", "npa_nxx": npa_nxx, "status": "free"}
            for suffix in range(first, last + 1)
        ],
    )


def load_demo(session: Session, vault: Vault, data_dir: Path = DATA_DIR) -> None:
    """Load data/demo: products, agents with their stock, rate plans, switches, numbers."""
    demo = data_dir / "demo"
    products = {row["code"]: row for row in _json(demo / "products.json")}
    for row in products.values():
        session.add(Product(code=row["code"], model=row["model"], kind=row["kind"]))
    agents: dict[str, Agent] = {}
    agent_rows = _json(demo / "agents.json")
    for row in agent_rows:
        agent = agents[row["agent_code"]] = Agent(
            agent_code=row["agent_code"],
            name=row["name"],
            pin_hash=hash_pin(row["pin"]),
            callback_number=row.get("callback_number", ""),
            locked=row.get("locked", False),
            restrictions=row.get("restrictions", {}),
            unstocked_esn=row.get("unstocked_esn", "allow_and_note"),
            language=row.get("language", "en"),
        )
        session.add(agent)
    session.flush()
    for row in agent_rows:
        for person in row.get("salespeople", []):
            session.add(
                Salesperson(
                    agent_id=agents[row["agent_code"]].id,
                    code=person["code"],
                    name=person["name"],
                    pin_hash=hash_pin(person["pin"]),
                    restrictions=person.get("restrictions", {}),
                )
            )
        for product, level in row.get("stock_levels", {}).items():
            session.add(
                StockLevel(
                    agent_id=agents[row["agent_code"]].id,
                    product_code=product,
                    minimum=level["minimum"],
                    reorder_quantity=level["reorder"],
                )
            )
    for row in _json(demo / "handsets.json"):
        holder = agents.get(row.get("agent", ""))
        active = row["status"] == "active"
        location = "sold" if active else "at_agent" if holder else "headquarters"
        handset = Handset(
            esn=row["esn"],
            model=products[row["product"]]["model"],
            product_code=row["product"],
            status=row["status"],
            location=location,
            agent_id=holder.id if holder and not active else None,
        )
        session.add(handset)
        session.flush()
        session.add(
            HandsetMovement(
                esn=handset.esn,
                product_code=handset.product_code,
                to_location=location,
                to_agent_id=handset.agent_id,
                actor="init-db",
                reason="demo stock",
            )
        )
    for row in _json(demo / "rate_plans.json"):
        session.add(
            RatePlan(
                code=row["code"],
                name=row["name"],
                monthly_cents=row["monthly_dollars"] * 100,
                features=row["features"],
            )
        )
    for row in _json(demo / "switches.json"):
        add_switch(session, vault, row)
