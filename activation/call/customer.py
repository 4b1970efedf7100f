"""Steps 4-6 of the call: the handset, the customer, and the credit check with its deposit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from activation.call.context import Ctx, Step
from activation.call.login import resume
from activation.call.outcomes import Outcome
from activation.call.speech import dollars, handset, say, tax_id
from activation.inventory import stock
from activation.lifecycle import states
from activation.lifecycle.customers import keep_customer
from activation.lifecycle.orders import handset_in_service
from activation.lifecycle.states import Move, MoveRefused, TxStatus
from activation.queue import activities
from activation.services import Services
from activation.store.models import Agent, Call
from activation.validators import ein_problem, esn_problem, ssn_problem

# A credit check that has not answered in this long goes to a CSR.
CREDIT_PATIENCE_SECONDS = 30


def _esn(ctx: Ctx, entry: str) -> Outcome:
    tx = ctx.require_tx()
    tx.esn = entry  # kept whatever comes of it: a CSR sees the handset with the transaction
    spoken = handset(entry)
    with ctx.session.no_autoflush:  # the ESN pending is this transaction's, which it leaves out
        in_service = handset_in_service(ctx.session, entry, besides=tx.id)
    if in_service:
        # Often a handset picked up by mistake: the agent may key another once.
        return ctx.fail(
            "esn",
            f"handset {entry} already active",
            say("esn_active", esn=spoken),
            say("esn_other"),
            kind="handset",
        )
    checked = ctx.checked
    pvs = checked if isinstance(checked, PvsAnswer) and checked.esn == entry else None
    if pvs is None:  # asked before the transaction opened; only a race gets here
        pvs = ask_pvs(ctx.services, ctx.call, entry) or PvsAnswer(entry, None, "not asked")
    if pvs.listed is None:
        return ctx.transfer(
            f"PVS did not answer: {pvs.failure}",
            say("pvs_unavailable", esn=spoken),
            kind="handset",
        )
    if pvs.listed:
        return ctx.fail(
            "esn",
            f"handset {entry} listed by PVS",
            say("esn_listed", esn=spoken),
            say("esn_other"),
            kind="handset",
        )
    return ctx.prompt("esn_confirm")


def _esn_confirm_prompt(ctx: Ctx) -> tuple[str, ...]:
    return (say("esn_confirm", esn=handset(ctx.require_tx().esn or "")),)


def _esn_confirm(ctx: Ctx, entry: str) -> Outcome:
    if entry == "2":
        return ctx.prompt("esn")
    # The handset the agent confirmed: from its own stock, or as the agent's setting says.
    tx = ctx.require_tx()
    esn = tx.esn or ""
    if not stock.in_stock_of(ctx.session, esn, tx.agent_id):
        spoken = handset(esn)
        agent = ctx.session.get_one(Agent, tx.agent_id)
        if agent.unstocked_esn == "to_csr":
            heard = say("esn_unstocked_csr", esn=spoken)
            return ctx.transfer("ESN not in the agent's stock", heard, kind="handset")
        states.note(ctx.session, tx, "ivr", f"ESN {esn} not in the agent's stock")
        return ctx.prompt("kind", say("esn_unstocked_noted", esn=spoken))
    return ctx.prompt("kind")


@dataclass(frozen=True)
class PvsAnswer:
    """What the positive validation system said of an ESN; listed None: it did not say."""

    esn: str
    listed: bool | None
    failure: str = ""


# Asks in flight to the positive validation system; one that hangs occupies a thread, never a
# webhook past its deadline.
_PVS_ASKS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="cas-pvs")


def ask_pvs(services: Services, call: Call | None, entry: str) -> PvsAnswer | None:
    """Ask the positive validation system about a keyed ESN, before any lock, within its deadline.

    The ESN step's precheck: a slow PVS holds up this caller only, never the database, and
    one that does not answer in time sends the caller to a CSR rather than past Twilio's wait.
    """
    if esn_problem(entry) is not None:
        return None  # the step re-prompts; nothing to ask
    deadline = services.settings.pvs_deadline
    try:
        listed = _PVS_ASKS.submit(services.pvs.is_listed, entry).result(timeout=deadline)
    except TimeoutError:
        return PvsAnswer(entry, None, f"no answer in {deadline:g} s")
    except Exception as exc:  # whatever the PVS adapter raises, the caller is not lost
        return PvsAnswer(entry, None, f"{type(exc).__name__}: {exc}"[:120])
    return PvsAnswer(entry, bool(listed))


def _kind(ctx: Ctx, entry: str) -> Outcome:
    ctx.require_tx().customer_kind = "individual" if entry == "1" else "business"
    return ctx.prompt("ssn")


def _ssn_prompt(ctx: Ctx) -> tuple[str, ...]:
    business = ctx.require_tx().customer_kind == "business"
    return (say("ssn_business" if business else "ssn_individual"),)


def _ssn_rules(ctx: Ctx, entry: str) -> str | None:
    business = ctx.require_tx().customer_kind == "business"
    return ein_problem(entry) if business else ssn_problem(entry)


def _ssn(ctx: Ctx, entry: str) -> Outcome:
    tx, vault = ctx.require_tx(), ctx.services.vault
    tx.ssn_encrypted = vault.encrypt(entry)
    tx.ssn_hash = vault.lookup_hash(entry)
    tx.ssn_last4 = entry[-4:]
    tx.credit_decision = None
    return ctx.prompt("ssn_confirm")


def _ssn_confirm_prompt(ctx: Ctx) -> tuple[str, ...]:
    tx = ctx.require_tx()
    entered = ctx.services.vault.decrypt(tx.ssn_encrypted or "")
    business = tx.customer_kind == "business"
    return (say("ssn_confirm", digits=tax_id(entered, business)),)


def _ssn_confirm(ctx: Ctx, entry: str) -> Outcome:
    if entry == "2":
        return ctx.prompt("ssn")
    tx = ctx.require_tx()
    try:
        states.move(ctx.session, tx, Move.ASK_CREDIT, "ivr", "credit check asked")
    except MoveRefused:
        return resume(ctx, tx)
    # Its row waits for the commit: no worker could see it before then anyway.
    activities.enqueue(
        ctx.session, "credit_check", {}, target="bureau", transaction_id=tx.id, flush=False
    )
    ctx.call.hold_started_at = None
    return ctx.hold("credit_wait")


def _credit_wait(ctx: Ctx, entry: str) -> Outcome:
    tx = ctx.require_tx()
    if tx.status == TxStatus.CREDIT_CHECK:
        waited = (ctx.now - (ctx.call.hold_started_at or ctx.now)).total_seconds()
        if waited >= CREDIT_PATIENCE_SECONDS:
            return ctx.transfer("credit bureau not answering", kind="credit")
        return ctx.hold("credit_wait")
    ctx.call.hold_started_at = None
    if tx.status != TxStatus.INCOMPLETE:  # a CSR has it now, or it moved on without this call
        return resume(ctx, tx)
    if tx.credit_decision == "unknown":
        return ctx.fail("ssn", "unknown to the credit bureau", say("bureau_unknown"))
    return ctx.prompt("name_confirm")


def _name_confirm_prompt(ctx: Ctx) -> tuple[str, ...]:
    tx = ctx.require_tx()
    return (say("name_confirm", name=tx.bureau_name or "", address=tx.bureau_address or ""),)


def _name_confirm(ctx: Ctx, entry: str) -> Outcome:
    if entry == "2":
        return ctx.fail("name_confirm", "name and address not confirmed")
    tx = ctx.require_tx()
    if tx.credit_decision == "decline":
        try:
            states.move(ctx.session, tx, Move.DECLINE, "ivr", "credit declined")
        except MoveRefused:
            return resume(ctx, tx)
        return ctx.prompt("decline")
    keep_customer(ctx.session, tx)
    if tx.deposit_cents:
        return ctx.prompt("deposit")
    return ctx.prompt("rate_plan", say("no_deposit"))


def _decline(ctx: Ctx, entry: str) -> Outcome:
    if entry == "1":
        return ctx.transfer("credit declined", kind="credit")
    return ctx.hangup(say("goodbye"))


def _deposit_prompt(ctx: Ctx) -> tuple[str, ...]:
    return (say("deposit", amount=dollars(ctx.require_tx().deposit_cents or 0)),)


def _deposit(ctx: Ctx, entry: str) -> Outcome:
    tx = ctx.require_tx()
    tx.deposit_method = "cash" if entry == "1" else "check"
    if tx.customer is not None:
        tx.customer.deposit_method = tx.deposit_method
    return ctx.prompt("rate_plan")


CUSTOMER_STEPS = [
    Step(
        "esn",
        lambda ctx: (say("esn"),),
        _esn,
        max_digits=15,
        min_digits=11,
        validate=lambda ctx, entry: esn_problem(entry),
        precheck=ask_pvs,
        wrong="esn_wrong",
        label="ESN",
    ),
    Step("esn_confirm", _esn_confirm_prompt, _esn_confirm, choices="12", label="ESN read-back"),
    Step("kind", lambda ctx: (say("kind"),), _kind, choices="12", label="customer kind"),
    Step(
        "ssn",
        _ssn_prompt,
        _ssn,
        max_digits=9,
        min_digits=9,
        validate=_ssn_rules,
        wrong="tax_id_wrong",
        label="SSN or tax ID",
    ),
    Step("ssn_confirm", _ssn_confirm_prompt, _ssn_confirm, choices="12", label="SSN read-back"),
    Step(
        "credit_wait",
        lambda ctx: (say("credit_hold"),),
        _credit_wait,
        hold=True,
        label="credit check",
    ),
    Step(
        "name_confirm",
        _name_confirm_prompt,
        _name_confirm,
        choices="12",
        label="name and address",
    ),
    Step("decline", lambda ctx: (say("declined"),), _decline, choices="12", label="credit decline"),
    Step("deposit", _deposit_prompt, _deposit, choices="12", label="deposit"),
]
