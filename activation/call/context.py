"""What a step sees while it handles one answer, and the moves it can make."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from activation.call.outcomes import Hangup, Hold, Outcome, Prompt, Transfer
from activation.call.speech import say
from activation.lifecycle.escalations import escalate
from activation.lifecycle.states import FINISHED
from activation.services import Services
from activation.store.models import Call, Transaction, utcnow

# Steps that belong to a transaction: where it stopped is kept for a later resume.
TRANSACTION_STEPS = frozenset(
    {
        "esn",
        "esn_confirm",
        "kind",
        "ssn",
        "ssn_confirm",
        "credit_wait",
        "name_confirm",
        "deposit",
        "decline",
        "rate_plan",
        "plan_confirm",
        "npa_nxx",
        "npa_confirm",
        "assign_wait",
        "delayed",
        "mid",
    }
)


@dataclass(frozen=True)
class Step:
    """One prompt of the call and the rules its entry must follow."""

    name: str
    prompt: Callable[[Ctx], tuple[str, ...]]
    handle: Callable[[Ctx, str], Outcome]
    max_digits: int = 1
    min_digits: int = 1
    choices: str = ""  # for one-key menus: the keys that mean something
    # The prompt key saying what a well-formed entry is, heard after a wrong one.
    wrong: str = ""
    # How the step is named to people (escalation reasons, the console).
    label: str = ""
    validate: Callable[[Ctx, str], str | None] | None = None
    timeout: int = 6
    max_failures: int = 2
    max_timeouts: int = 2
    # '#' is itself an answer here (the menu: '#' starts a new transaction), so the entry is
    # submitted by count or timeout: Twilio takes the finish key alone for no input at all.
    pound_is_answer: bool = False
    hold: bool = False  # polled while background work runs; takes no keys
    # '*' alone here switches the call's language (the first prompt offers it) instead of
    # repeating the prompt.
    star_switches_language: bool = False
    # Slow work on the entry (a PIN hash) done before the step's write transaction opens,
    # so no lock is held meanwhile; its result reaches the handler as ctx.checked.
    precheck: Callable[[Services, Call, str], object] | None = None

    @property
    def fixed_length(self) -> bool:
        """Tell whether the entry is submitted by count, without '#'."""
        return bool(self.choices) or self.pound_is_answer


def open_call(
    call_sid: str, from_number: str, direction: str, transaction: Transaction | None = None
) -> Call:
    """Return a new call at its first step, every counter at zero."""
    return Call(
        call_sid=call_sid,
        from_number=from_number,
        direction=direction,
        step="agent_id",
        transaction=transaction,
        seq=0,
        failures={},
        timeouts=0,
        login_failures=0,
        ended=False,
    )


@dataclass
class Ctx:
    """The call, its transaction and the services, inside one database transaction."""

    session: Session
    call: Call
    services: Services
    steps: dict[str, Step]
    checked: object = None
    now: datetime = field(default_factory=utcnow)

    @property
    def tx(self) -> Transaction | None:
        """The call's transaction, if one is started or resumed."""
        return self.call.transaction

    def require_tx(self) -> Transaction:
        """The call's transaction; a transaction step without one is a bug."""
        if self.call.transaction is None:
            raise LookupError(f"step {self.call.step} needs a transaction")
        return self.call.transaction

    def enter(self, name: str) -> Step:
        """Move the call (and its transaction) to a step."""
        if self.call.step != name:
            self.call.step = name
            self.call.timeouts = 0
        tx = self.tx
        if tx is not None and name in TRANSACTION_STEPS and tx.status not in FINISHED:
            # Where the transaction stopped changes with its step; a poll or a prompt asked
            # again at the same step leaves its row alone.
            if tx.step != name:
                tx.step = name
                tx.updated_at = self.now
        return self.steps[name]

    def prompt(self, name: str, *preface: str) -> Outcome:
        """Ask the prompt of a step, after anything to say first."""
        step = self.enter(name)
        if step.hold:
            return self.hold(name, *preface)
        return Prompt(
            say=(*preface, *step.prompt(self)),
            # A code may end with '#' where '#' alone is an answer: one key more lets it in.
            max_digits=step.max_digits + (1 if step.pound_is_answer else 0),
            timeout=step.timeout,
            finish_on_key="" if step.fixed_length else "#",
            fixed_length=step.fixed_length,
        )

    def hold(self, name: str, *say_first: str) -> Hold:
        """Keep the caller on hold at a polled step: its sentence is said once, when the hold
        begins; every poll after it plays the hold audio alone."""
        step = self.enter(name)
        words: tuple[str, ...] = ()
        if self.call.hold_started_at is None:
            self.call.hold_started_at = self.now
            words = step.prompt(self)
        return Hold(say=(*say_first, *words), pause=self.services.settings.hold_pause)

    def fail(self, name: str, reason: str, *say_first: str, kind: str = "bad_entry") -> Outcome:
        """Count a bad entry at a step and ask again; the second one goes to a CSR, with a
        reason naming every wrong entry the step had (not only the last)."""
        failures = dict(self.call.failures or {})
        failures[name] = failures.get(name, 0) + 1
        history = [*failures.get(f"{name} why", []), reason]
        failures[f"{name} why"] = history
        self.call.failures = failures
        if failures[name] >= self.steps[name].max_failures:
            step = self.steps[name]
            said = f"{reason}, {len(history)} times" if len(set(history)) == 1 else None
            told = f"{step.label or name}: " + (said or "; then ".join(history))
            return self.transfer(told, *say_first, kind=kind)
        return self.prompt(name, *say_first)

    def transfer(self, reason: str, *preface: str, kind: str = "other") -> Transfer:
        """Hand the call to a CSR, escalating the transaction (kind: one of escalations.KINDS)."""
        tx = self.tx
        escalate(
            self.session,
            reason,
            self.call.step,
            tx=tx,
            call_sid=self.call.call_sid,
            agent_id=self.call.agent_id,
            kind=kind,
        )
        self.call.ended = True
        return Transfer(
            say=(*preface, say("to_csr")),
            reason=reason,
            transaction_code=tx.code if tx else None,
        )

    def hangup(self, *words: str) -> Hangup:
        """End the call."""
        self.call.ended = True
        return Hangup(say=words)
