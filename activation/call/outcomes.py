"""What the call flow tells the caller next, without saying how (TwiML is the web layer's job)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from activation.call.speech import Said


@dataclass(frozen=True)
class Prompt:
    """Say something and collect keys."""

    say: tuple[str, ...]
    max_digits: int
    timeout: int = 6
    finish_on_key: str = "#"
    fixed_length: bool = False  # submit as soon as max_digits keys are in


@dataclass(frozen=True)
class Hold:
    """Say a hold message, pause, then poll for the background work."""

    say: tuple[str, ...]
    pause: int


@dataclass(frozen=True)
class Transfer:
    """Hand the call to a CSR with the transaction."""

    say: tuple[str, ...]
    reason: str
    transaction_code: str | None


@dataclass(frozen=True)
class Hangup:
    """Say goodbye and end the call."""

    say: tuple[str, ...]


Outcome = Prompt | Hold | Transfer | Hangup

_KINDS: dict[str, type] = {cls.__name__: cls for cls in (Prompt, Hold, Transfer, Hangup)}


@dataclass(frozen=True)
class Answer:
    """An outcome with the number the caller's next webhook will carry."""

    seq: int
    outcome: Outcome
    # Not stored: which step the webhook answered and its transaction, for metrics and logs.
    step: str = ""
    transaction_code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Serialize for storage (to replay the same answer to a repeated webhook)."""
        fields = dict(vars(self.outcome))  # plain values but `say`: no deep copy needed
        fields["say"] = [str(sentence) for sentence in self.outcome.say]
        keys = [getattr(sentence, "key", "") for sentence in self.outcome.say]
        languages = [getattr(sentence, "language", "en") for sentence in self.outcome.say]
        kind = type(self.outcome).__name__
        return {"seq": self.seq, "kind": kind, **fields, "keys": keys, "languages": languages}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        """Rebuild a stored answer."""
        data = dict(data)
        seq, kind = data.pop("seq"), _KINDS[data.pop("kind")]
        keys = data.pop("keys", None) or [""] * len(data["say"])
        languages = data.pop("languages", None) or ["en"] * len(data["say"])
        data["say"] = tuple(
            Said(text, key, language)
            for text, key, language in zip(data["say"], keys, languages, strict=True)
        )
        return cls(seq, kind(**data))
