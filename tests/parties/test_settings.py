"""Each party's settings, and the refusal to start on simulated parties by accident."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from activation.parties.billing import HttpBilling
from activation.parties.simulators import SimulatedBureau, SimulatedE911, SimulatedPVS
from activation.settings import PartnersNotConfigured, PartyLink, Settings
from ivr.bootstrap import bootstrap

ALL_URLS = ["CAS_BUREAU_URL", "CAS_PVS_URL", "CAS_BILLING_URL", "CAS_E911_URL", "CAS_WAREHOUSE_URL"]


def _env(**values: str) -> dict[str, str]:
    """The test's environment without any partner setting, plus the values given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAS_", "TWILIO_"))}
    return {**env, **values}


def test_each_party_is_read_from_its_url_and_credentials() -> None:
    env = _env(
        CAS_BILLING_URL="https://billing.example.net/cas",
        CAS_BILLING_TOKEN="t0k",
        CAS_E911_URL="https://e911.example.net",
        CAS_E911_USER="cas",
        CAS_E911_PASSWORD="pw",
        CAS_PARTNER_DEADLINE="7.5",
    )
    assert Settings().partners == "simulated"  # built in code: a test's or a benchmark's
    from_env = _from(env)
    assert from_env.billing_link == PartyLink("https://billing.example.net/cas", token="t0k")
    assert from_env.e911_link == PartyLink("https://e911.example.net", user="cas", password="pw")
    assert from_env.partner_deadline == 7.5 and from_env.partners == ""
    assert from_env.partner_problems() == ["CAS_BUREAU_URL", "CAS_PVS_URL", "CAS_WAREHOUSE_URL"]


def _from(env: dict[str, str]) -> Settings:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        return Settings.from_env()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_what_keeps_the_parties_from_being_used_is_named() -> None:
    bare = Settings(partners="")
    assert bare.partner_problems() == ALL_URLS
    no_credentials = Settings(partners="", billing_link=PartyLink("http://10.0.0.9:8103"))
    assert "CAS_BILLING_TOKEN (or CAS_BILLING_USER and CAS_BILLING_PASSWORD)" in (
        no_credentials.partner_problems()
    )
    not_http = Settings(partners="simulated", pvs_link=PartyLink("ftp://pvs", token="t"))
    assert not_http.partner_problems() == ["CAS_PVS_URL (an http:// or https:// URL)"]
    typo = Settings(partners="simulate")
    assert typo.partner_problems() == [
        "CAS_PARTNERS is 'simulate'; the one value it takes is 'simulated'"
    ]
    assert Settings(partners="simulated").partner_problems() == []


def test_bootstrap_refuses_unconfigured_parties_and_picks_the_adapter_of_each(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PartnersNotConfigured, match="CAS_BUREAU_URL; CAS_PVS_URL"):
        bootstrap(Settings(data_dir=tmp_path, partners=""))
    mixed = bootstrap(
        Settings(
            data_dir=tmp_path,
            partners="simulated",
            billing_link=PartyLink("http://127.0.0.1:9", token="t"),
        )
    )
    try:
        assert isinstance(mixed.billing, HttpBilling)
        assert not isinstance(mixed.billing, SimulatedE911)
        assert isinstance(mixed.bureau, SimulatedBureau) and isinstance(mixed.pvs, SimulatedPVS)
        assert isinstance(mixed.e911, SimulatedE911)
    finally:
        mixed.db.dispose()


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_refuse_to_start_with_a_party_unconfigured(command, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = _env(
        CAS_DATA_DIR=str(tmp_path),
        CAS_BUREAU_URL="https://bureau.example.net",
        CAS_BUREAU_TOKEN="t",
    )
    done = subprocess.run(
        [sys.executable, "-m", "ivr", command],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "outside parties are not configured" in done.stderr
    assert "CAS_PVS_URL; CAS_BILLING_URL; CAS_E911_URL" in done.stderr
    assert "CAS_BUREAU_URL" not in done.stderr.split("configured:")[1].split(".")[0]
    assert "CAS_PARTNERS=simulated" in done.stderr
    assert not (tmp_path / "cas.sqlite3").exists()  # refused before touching anything
