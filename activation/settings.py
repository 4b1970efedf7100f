"""Settings read from the environment, with defaults that run the embedded demo."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

# data/ sits beside the packages in the source tree; the package is installed editable.
DATA_DIR = Path(__file__).resolve().parent.parent / "data"

# The outside parties, each reached at CAS_<PARTY>_URL (see the README, "Outside parties").
PARTIES = ("bureau", "pvs", "billing", "e911", "warehouse")
SIMULATED = "simulated"


@dataclass(frozen=True)
class PartyLink:
    """Where an outside party answers, and the credentials CAS gives it."""

    url: str = ""
    token: str = field(default="", repr=False)  # sent as a bearer token
    user: str = ""  # or basic credentials
    password: str = field(default="", repr=False)

    @property
    def credentials(self) -> dict[str, str]:
        """The credentials as the adapters take them."""
        return {"token": self.token, "user": self.user, "password": self.password}

    @classmethod
    def from_env(cls, party: str, env: Mapping[str, str]) -> PartyLink:
        """Read CAS_<PARTY>_URL, _TOKEN, _USER and _PASSWORD."""
        prefix = f"CAS_{party.upper()}_"
        return cls(
            url=env.get(prefix + "URL", "").strip(),
            token=env.get(prefix + "TOKEN", ""),
            user=env.get(prefix + "USER", ""),
            password=env.get(prefix + "PASSWORD", ""),
        )


class PartnersNotConfigured(Exception):
    """CAS would run on simulated outside parties without having been told to."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "CAS cannot start: outside parties are not configured: "
            + "; ".join(problems)
            + '. Set them (README, "Outside parties"), or CAS_PARTNERS=simulated to run'
            " the parties without a URL on the built-in simulators on purpose."
        )


@dataclass(frozen=True)
class Settings:
    """What CAS needs to know about where it runs."""

    data_dir: Path = field(default_factory=lambda: Path(os.environ.get("CAS_DATA_DIR", "var")))
    database_url: str = ""
    secret_key: str = ""  # master secret for SSN hashing/encryption; a key file when empty
    twilio_auth_token: str = ""
    twilio_account_sid: str = ""
    twilio_api_url: str = "https://api.twilio.com"
    public_url: str = ""
    trusted_proxies: int = 0  # proxy hops whose X-Forwarded-* headers the web app believes
    csr_number: str = ""
    switch_deadline: float = 20.0  # the switch's time to answer an insertion
    pvs_deadline: float = 4.0  # the positive validation system's time to answer, caller waiting
    hold_pause: int = 2  # seconds the caller waits between two polls
    max_login_failures: int = 5  # failed PIN attempts before an agent is locked
    caller_id: str = ""  # the number call-backs come from (a Twilio number of the account)
    letters_cron: str = "0 2 * * *"  # the nightly welcome-letter batch (crontab, local time)
    compare_cron: str = "30 2 * * *"  # the nightly telephone-number comparison
    letters_online: bool = False  # a welcome letter as soon as billing has the record
    number_aging_days: int = 45  # a disconnected number's rest before it is handed out again
    metrics_token: str = ""  # when set, /metrics answers only a scraper bearing it
    # "simulated": parties without a URL run on the in-process simulators. Settings built in
    # code (tests, benchmarks) default to it; read from the environment, CAS_PARTNERS must
    # say so, or every party needs its URL and credentials.
    partners: str = SIMULATED
    bureau_link: PartyLink = PartyLink()
    pvs_link: PartyLink = PartyLink()
    billing_link: PartyLink = PartyLink()
    e911_link: PartyLink = PartyLink()
    warehouse_link: PartyLink = PartyLink()
    partner_deadline: float = 10.0  # seconds the bureau, billing, E911 or warehouse has

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Build settings from CAS_* and TWILIO_* environment variables."""
        env = os.environ
        base = cls(
            data_dir=Path(env.get("CAS_DATA_DIR", "var")),
            database_url=env.get("CAS_DATABASE_URL", ""),
            secret_key=env.get("CAS_SECRET_KEY", ""),
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN", ""),
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID", ""),
            twilio_api_url=env.get("CAS_TWILIO_API_URL", "https://api.twilio.com"),
            public_url=env.get("CAS_PUBLIC_URL", ""),
            trusted_proxies=int(env.get("CAS_TRUSTED_PROXIES", "0") or 0),
            csr_number=env.get("CAS_CSR_NUMBER", ""),
            switch_deadline=float(env.get("CAS_SWITCH_DEADLINE", "20")),
            pvs_deadline=float(env.get("CAS_PVS_DEADLINE", "4")),
            hold_pause=int(env.get("CAS_HOLD_PAUSE", "2")),
            caller_id=env.get("CAS_CALLER_ID", ""),
            letters_cron=env.get("CAS_LETTERS_CRON", "0 2 * * *"),
            compare_cron=env.get("CAS_COMPARE_CRON", "30 2 * * *"),
            letters_online=env.get("CAS_LETTERS_ONLINE", "0") in ("1", "true", "yes"),
            number_aging_days=int(env.get("CAS_NUMBER_AGING_DAYS", "45")),
            metrics_token=env.get("CAS_METRICS_TOKEN", ""),
            partners=env.get("CAS_PARTNERS", "").strip().lower(),
            bureau_link=PartyLink.from_env("bureau", env),
            pvs_link=PartyLink.from_env("pvs", env),
            billing_link=PartyLink.from_env("billing", env),
            e911_link=PartyLink.from_env("e911", env),
            warehouse_link=PartyLink.from_env("warehouse", env),
            partner_deadline=float(env.get("CAS_PARTNER_DEADLINE", "10")),
        )
        return replace(base, **overrides)  # type: ignore[arg-type]

    def link(self, party: str) -> PartyLink:
        """The link of one outside party (see PARTIES)."""
        link: PartyLink = getattr(self, f"{party}_link")
        return link

    def partner_problems(self) -> list[str]:
        """What keeps the outside parties from being used as configured (empty: nothing)."""
        if self.partners not in ("", SIMULATED):
            return [f"CAS_PARTNERS is {self.partners!r}; the one value it takes is 'simulated'"]
        simulated = self.partners == SIMULATED
        problems = []
        for party in PARTIES:
            link, name = self.link(party), f"CAS_{party.upper()}"
            if not link.url:
                if not simulated:
                    problems.append(f"{name}_URL")
            elif not link.url.startswith(("http://", "https://")):
                problems.append(f"{name}_URL (an http:// or https:// URL)")
            elif not simulated and not (link.token or (link.user and link.password)):
                problems.append(f"{name}_TOKEN (or {name}_USER and {name}_PASSWORD)")
        return problems

    @property
    def db_url(self) -> str:
        """The database URL: CAS_DATABASE_URL, or a SQLite file in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'cas.sqlite3').resolve()}"


def settings_for(data_dir: str | None) -> Settings:
    """Settings from the environment, with the data dir a command line gave (children see it)."""
    if data_dir:
        os.environ["CAS_DATA_DIR"] = data_dir
    return Settings.from_env()
