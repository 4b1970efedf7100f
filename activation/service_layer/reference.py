"""Changes to reference data by an admin: agents, rate plans, switches, blocks, deposit table.

Every change is checked first (Refused says why not, NotFound when there is no such row) and
written to the audit log. Each public function is one use case in its own unit of work, its
row locked; the console's views parse a form and call one of them.
"""

from __future__ import annotations

import secrets

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from activation.call.speech import LANGUAGE_NAMES, LANGUAGES
from activation.keyed import is_digits
from activation.parties.switching import logon_value_problem
from activation.secrets import Vault, hash_pin
from activation.service_layer.csr import NotFound, Refused
from activation.services import Services
from activation.store import audit, seed
from activation.store.models import (
    Agent,
    DepositRule,
    NpaNxxBlock,
    RatePlan,
    Switch,
    TelephoneNumber,
)
from activation.validators import npa_nxx_problem


def _codes(raw: str, width: int, what: str) -> list[str]:
    items = [item.strip() for item in raw.replace(";", ",").split(",") if item.strip()]
    for item in items:
        if not is_digits(item, 1, width):
            raise Refused(f"{what}: {item!r} is not a code of up to {width} digits")
    return sorted(set(items))


def _unlock_agent(session: Session, agent: Agent, actor: str) -> None:
    """Let a locked agent log on again."""
    old = "locked" if agent.locked else "active"
    agent.locked, agent.failed_attempts = False, 0
    audit.record(session, "agent", agent.agent_code, old, "active", actor, "unlocked")


def _reset_pin(session: Session, agent: Agent, pin: str, actor: str) -> str:
    """Give an agent a new PIN (a random one when none is given) and return it."""
    pin = pin.strip() or f"{secrets.randbelow(10_000):04d}"
    if not is_digits(pin, 4, 8):
        raise Refused("a PIN has 4 to 8 digits")
    agent.pin_hash, agent.failed_attempts = hash_pin(pin), 0
    audit.record(session, "agent", agent.agent_code, None, "pin_reset", actor, "PIN reset")
    return pin


def _set_restrictions(
    session: Session, agent: Agent, rate_plans: str, npa_nxx: str, actor: str
) -> None:
    """Limit what an agent may sell: rate plans and NPA-NXX blocks (empty: anything)."""
    plans = _codes(rate_plans, 4, "rate plans")
    blocks = _codes(npa_nxx, 6, "NPA-NXX")
    for block in blocks:
        if npa_nxx_problem(block):
            raise Refused(f"NPA-NXX {block}: {npa_nxx_problem(block)}")
    restrictions = {k: v for k, v in (("rate_plans", plans), ("npa_nxx", blocks)) if v}
    agent.restrictions = restrictions
    detail = "restrictions: " + (
        "; ".join(f"{k}={','.join(v)}" for k, v in restrictions.items()) or "none"
    )
    audit.record(session, "agent", agent.agent_code, None, "restricted", actor, detail)


def _add_agent(session: Session, code: str, name: str, pin: str, callback: str, actor: str) -> str:
    """Add a selling agent; return the PIN to hand over."""
    code, name = code.strip(), name.strip()
    if not is_digits(code, 1, 8):
        raise Refused("an agent ID has 1 to 8 digits")
    if not name or len(name) > 80:
        raise Refused("the agent needs a name of up to 80 characters")
    if session.scalar(select(Agent.id).where(Agent.agent_code == code)) is not None:
        raise Refused(f"agent {code} exists already")
    callback = callback.strip()
    e164 = callback.startswith("+") and is_digits(callback[1:], 1, 15)
    if callback and not e164:
        raise Refused("a call-back number is in E.164 form, like +15005550006")
    agent = Agent(
        agent_code=code,
        name=name,
        pin_hash="",
        callback_number=callback,
        restrictions={},
        failed_attempts=0,
        valid_logons=0,
        invalid_logons=0,
        locked=False,
    )
    session.add(agent)
    audit.record(session, "agent", code, None, "active", actor, f"added: {name}")
    return _reset_pin(session, agent, pin, actor)


def _save_rate_plan(
    session: Session,
    code: str,
    name: str,
    monthly_cents: int,
    features: str,
    active: bool,
    actor: str,
) -> None:
    """Add a rate plan or change one."""
    code, name, features = code.strip(), name.strip(), features.strip()
    if not is_digits(code, 1, 4):
        raise Refused("a rate plan code has 1 to 4 digits")
    if not name or len(name) > 40 or len(features) > 80:
        raise Refused("a rate plan needs a name (40 characters at most); features 80 at most")
    if not 0 <= monthly_cents <= 10_000_000:
        raise Refused("the monthly charge is out of range")
    plan = session.get(RatePlan, code)
    old = None if plan is None else ("active" if plan.active else "inactive")
    if plan is None:
        plan = RatePlan(code=code)
        session.add(plan)
    plan.name, plan.monthly_cents = name, monthly_cents
    plan.features, plan.active = features, active
    new = "active" if active else "inactive"
    detail = f"{name}, {monthly_cents} cents a month, features {features or '-'}"
    audit.record(session, "rate_plan", code, old, new, actor, detail)


def switch_lines(
    session: Session, switch: Switch, primary_url: str, backup_url: str, active: bool, actor: str
) -> None:
    """Change where a switch is reached and whether it takes new numbers."""
    primary_url, backup_url = primary_url.strip(), backup_url.strip()
    if not primary_url or len(primary_url) > 200 or len(backup_url) > 200:
        raise Refused("the primary line URL is needed (200 characters at most)")
    old = "active" if switch.active else "inactive"
    switch.primary_url, switch.backup_url, switch.active = primary_url, backup_url, active
    new = "active" if active else "inactive"
    detail = f"lines {primary_url} / {backup_url or '-'}"
    audit.record(session, "switch", switch.name, old, new, actor, detail)


def _set_switch_logon(
    session: Session,
    vault: Vault,
    switch: Switch,
    name: str,
    secret: str,
    clear_secret: bool,
    actor: str,
) -> None:
    """Change the name and secret CAS logs on to a switch with; an empty secret keeps it.

    The secret is kept encrypted and is never shown or audited, only that it changed.
    """
    name = name.strip()
    problem = logon_value_problem(name, 40)
    if problem:
        raise Refused(f"the log-on name: {problem}")
    problem = logon_value_problem(secret, 100) if secret else None
    if problem:
        raise Refused(f"the secret: {problem}")
    changes = []
    if name != switch.logon_name:
        changes.append(f"name {switch.logon_name or '-'} -> {name or '-'}")
        switch.logon_name = name
    if clear_secret and switch.logon_secret_encrypted:
        switch.logon_secret_encrypted = ""
        changes.append("secret removed")
    elif secret and not clear_secret:
        switch.logon_secret_encrypted = vault.encrypt(secret)
        changes.append("secret replaced")
    if not changes:
        raise Refused("nothing to change: give a new name or a new secret")
    state = "active" if switch.active else "inactive"
    audit.record(
        session, "switch", switch.name, state, state, actor, "log-on: " + ", ".join(changes)
    )


def _add_block(
    session: Session, switch: Switch, npa_nxx: str, first: int, last: int, actor: str
) -> None:
    """Give a switch a new NPA-NXX block and put its numbers in stock."""
    npa_nxx = npa_nxx.strip()
    problem = npa_nxx_problem(npa_nxx)
    if problem:
        raise Refused(f"NPA-NXX {npa_nxx}: {problem}")
    if not 0 <= first <= last <= 9999:
        raise Refused("the suffixes run from 0000 to 9999, first before last")
    if session.get(NpaNxxBlock, npa_nxx) is not None:
        raise Refused(f"NPA-NXX {npa_nxx} is served already")
    seed.add_block(session, switch, npa_nxx, first, last)
    detail = f"{npa_nxx} {first:04d}-{last:04d} on {switch.name}"
    audit.record(session, "npa_nxx", npa_nxx, None, "served", actor, detail)


def _remove_block(session: Session, npa_nxx: str, actor: str) -> None:
    """Remove a block no number of which was ever handed out."""
    block = session.get(NpaNxxBlock, npa_nxx)
    if block is None:
        raise Refused(f"no block {npa_nxx}")
    used = session.scalar(
        select(func.count())
        .select_from(TelephoneNumber)
        .where(TelephoneNumber.npa_nxx == npa_nxx, TelephoneNumber.status != "free")
    )
    if used:
        raise Refused(f"{used} numbers of {npa_nxx} are in use; it cannot be removed")
    session.execute(delete(TelephoneNumber).where(TelephoneNumber.npa_nxx == npa_nxx))
    session.delete(block)
    audit.record(session, "npa_nxx", npa_nxx, "served", "removed", actor, "block removed")


def _save_deposit_rule(
    session: Session,
    rule_id: int | None,
    min_score: int,
    max_score: int,
    decision: str,
    deposit_cents: int,
    actor: str,
) -> None:
    """Add or change a band of the deposit table; bands may not overlap."""
    if decision not in ("approve", "decline"):
        raise Refused("the decision is approve or decline")
    if not 0 <= min_score <= max_score <= 999:
        raise Refused("scores run from 0 to 999, lowest first")
    if not 0 <= deposit_cents <= 1_000_000:
        raise Refused("the deposit is out of range")
    overlap = session.scalar(
        select(DepositRule.id).where(
            DepositRule.min_score <= max_score,
            DepositRule.max_score >= min_score,
            DepositRule.id != (rule_id or 0),
        )
    )
    if overlap is not None:
        raise Refused("that band overlaps another one")
    rule = session.get(DepositRule, rule_id) if rule_id else None
    if rule_id and rule is None:
        raise Refused(f"no band {rule_id}")
    if rule is None:
        rule = DepositRule()
        session.add(rule)
    rule.min_score, rule.max_score = min_score, max_score
    rule.decision, rule.deposit_cents = decision, deposit_cents if decision == "approve" else 0
    session.flush()
    detail = f"{min_score}-{max_score}: {decision}, deposit {rule.deposit_cents} cents"
    audit.record(session, "deposit_rule", str(rule.id), None, "saved", actor, detail)


def _delete_deposit_rule(session: Session, rule_id: int, actor: str) -> None:
    """Remove a band of the deposit table (scores in it are then declined)."""
    rule = session.get(DepositRule, rule_id)
    if rule is None:
        raise Refused(f"no band {rule_id}")
    detail = f"{rule.min_score}-{rule.max_score} removed"
    session.delete(rule)
    audit.record(session, "deposit_rule", str(rule_id), "saved", "removed", actor, detail)


# -- the use cases ------------------------------------------------------------------------------


def _agent(session: Session, code: str) -> Agent:
    agent = session.scalar(select(Agent).where(Agent.agent_code == code).with_for_update())
    if agent is None:
        raise NotFound(f"No agent {code}.")
    return agent


def _switch(session: Session, switch_id: int) -> Switch:
    switch = session.get(Switch, switch_id, with_for_update=True)
    if switch is None:
        raise NotFound(f"No switch {switch_id}.")
    return switch


def add_agent(services: Services, code: str, name: str, pin: str, callback: str, actor: str) -> str:
    """Add a selling agent; return the PIN to hand over (shown once, kept only hashed)."""
    with services.db.transaction() as session:
        return _add_agent(session, code, name, pin, callback, actor)


def unlock_agent(services: Services, code: str, actor: str) -> str:
    """Let a locked agent log on again."""
    with services.db.transaction() as session:
        _unlock_agent(session, _agent(session, code), actor)
    return f"Agent {code} unlocked."


def reset_pin(services: Services, code: str, pin: str, actor: str) -> str:
    """Give an agent a new PIN (a random one when none is given); return it, shown once."""
    with services.db.transaction() as session:
        return _reset_pin(session, _agent(session, code), pin, actor)


def set_language(services: Services, code: str, language: str, actor: str) -> str:
    """Set the language an agent's calls speak once the agent has logged on."""
    if language not in LANGUAGES:
        raise Refused(f"the language is one of {', '.join(LANGUAGES)}")
    with services.db.transaction() as session:
        agent = _agent(session, code)
        agent.language = language
        audit.record(session, "agent", code, None, "language", actor, f"language: {language}")
    return f"Agent {code} now hears {LANGUAGE_NAMES[language]}."


def set_restrictions(
    services: Services, code: str, rate_plans: str, npa_nxx: str, actor: str
) -> str:
    """Limit what an agent may sell: rate plans and NPA-NXX blocks (empty: anything)."""
    with services.db.transaction() as session:
        _set_restrictions(session, _agent(session, code), rate_plans, npa_nxx, actor)
    return f"Restrictions of agent {code} saved."


def save_rate_plan(
    services: Services,
    code: str,
    name: str,
    monthly_cents: int,
    features: str,
    active: bool,
    actor: str,
) -> str:
    """Add a rate plan or change one."""
    with services.db.transaction() as session:
        _save_rate_plan(session, code, name, monthly_cents, features, active, actor)
    return f"Rate plan {code.strip()} saved."


def update_switch(
    services: Services, switch_id: int, primary_url: str, backup_url: str, active: bool, actor: str
) -> str:
    """Change where a switch is reached and whether it takes new numbers."""
    with services.db.transaction() as session:
        switch = _switch(session, switch_id)
        switch_lines(session, switch, primary_url, backup_url, active, actor)
        return f"Switch {switch.name} saved."


def set_switch_logon(
    services: Services, switch_id: int, name: str, secret: str, clear_secret: bool, actor: str
) -> str:
    """Change the name and secret CAS logs on to a switch with (the secret write-only)."""
    with services.db.transaction() as session:
        switch = _switch(session, switch_id)
        _set_switch_logon(session, services.vault, switch, name, secret, clear_secret, actor)
        return f"Log-on of switch {switch.name} saved."


def add_block(
    services: Services, switch_id: int, npa_nxx: str, first: int, last: int, actor: str
) -> str:
    """Give a switch a new NPA-NXX block and put its numbers in stock."""
    with services.db.transaction() as session:
        switch = _switch(session, switch_id)
        _add_block(session, switch, npa_nxx, first, last, actor)
        return f"NPA-NXX {npa_nxx.strip()} added to {switch.name}."


def remove_block(services: Services, npa_nxx: str, actor: str) -> str:
    """Remove a block no number of which was ever handed out."""
    with services.db.transaction() as session:
        _remove_block(session, npa_nxx, actor)
    return f"NPA-NXX {npa_nxx} removed."


def save_deposit_rule(
    services: Services,
    rule_id: int | None,
    min_score: int,
    max_score: int,
    decision: str,
    deposit_cents: int,
    actor: str,
) -> str:
    """Add or change a band of the deposit table; bands may not overlap."""
    with services.db.transaction() as session:
        _save_deposit_rule(session, rule_id, min_score, max_score, decision, deposit_cents, actor)
    return "Deposit table saved."


def delete_deposit_rule(services: Services, rule_id: int, actor: str) -> str:
    """Remove a band of the deposit table (scores in it are then declined)."""
    with services.db.transaction() as session:
        _delete_deposit_rule(session, rule_id, actor)
    return "Band removed."
