"""Validators, speech and secrets: the small rules the call flow stands on."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from cryptography.fernet import Fernet

from activation.call.outcomes import Answer, Hold, Prompt, Transfer
from activation.call.speech import digits, dollars, phone_number
from activation.secrets import Vault, check_pin, hash_pin
from activation.validators import ein_problem, esn_problem, npa_nxx_problem, ssn_problem


@pytest.mark.parametrize(
    ("esn", "ok"),
    [
        ("13803186457", True),
        ("13899999999", True),
        ("25599999999", True),
        ("25600000000", False),  # manufacturer code 256
        ("1380318645", False),
        ("1380318645a", False),
        ("490154203237518", True),  # IMEI with a right Luhn digit
        ("490154203237519", False),
    ],
)
def test_esn_rules(esn, ok):
    assert (esn_problem(esn) is None) is ok


@pytest.mark.parametrize(
    ("ssn", "ok"),
    [
        ("123456789", True),
        ("000123456", False),
        ("666123456", False),
        ("912345678", False),
        ("123006789", False),
        ("123450000", False),
        ("12345678", False),
    ],
)
def test_ssn_rules(ssn, ok):
    assert (ssn_problem(ssn) is None) is ok


def test_ein_rules():
    assert ein_problem("123456789") is None
    assert ein_problem("073456789") is not None


@pytest.mark.parametrize(
    ("npa_nxx", "ok"),
    [
        ("713555", True),
        ("212555", True),
        ("113555", False),
        ("793555", False),
        ("811555", False),
        ("713155", False),
        ("713911", False),
        ("71355", False),
    ],
)
def test_nanp_rules(npa_nxx, ok):
    assert (npa_nxx_problem(npa_nxx) is None) is ok


def test_numbers_are_spoken_digit_by_digit():
    assert phone_number("7135550123") == "7 1 3, 5 5 5, 0 1 2 3"
    assert digits("123456789", (3, 2)) == "1 2 3, 4 5, 6 7 8 9"
    assert dollars(20000) == "200 dollars" and dollars(1050) == "10 dollars and 50 cents"


def test_pins_are_salted_hashes():
    first, second = hash_pin("2468"), hash_pin("2468")
    assert first != second and "2468" not in first
    assert check_pin("2468", first) and not check_pin("2469", first)
    assert not check_pin("2468", "garbage")


def test_vault_hashes_for_lookup_and_encrypts_the_copy():
    vault = Vault("secret")
    token = vault.encrypt("123456789")
    assert "123456789" not in token and vault.decrypt(token) == "123456789"
    assert vault.lookup_hash("123456789") == Vault("secret").lookup_hash("123456789")
    assert vault.lookup_hash("123456789") != Vault("other").lookup_hash("123456789")
    with pytest.raises(ValueError):
        Vault("other").decrypt(token)


def test_vault_seals_each_value_apart_and_refuses_a_changed_token():
    vault = Vault("secret")
    first, second = vault.encrypt("123456789"), vault.encrypt("123456789")
    assert first != second  # a fresh nonce each time: equal SSNs do not look equal
    assert vault.decrypt(first) == vault.decrypt(second) == "123456789"
    raw = bytearray(base64.urlsafe_b64decode(first[3:]))
    raw[-1] ^= 1
    for changed in (first[:3] + base64.urlsafe_b64encode(bytes(raw)).decode(), first[:10], "s1."):
        with pytest.raises(ValueError):
            vault.decrypt(changed)


def test_vault_opens_what_it_stored_before_with_fernet():
    """Rows written before the vault sealed with AES-GCM-SIV hold Fernet tokens of the same
    master secret: they still open, and a wrong secret still cannot open them."""
    root = hashlib.sha256(b"secret").digest()
    key = base64.urlsafe_b64encode(hmac.new(root, b"cas-encryption", hashlib.sha256).digest())
    stored = Fernet(key).encrypt(b"123456789").decode()
    assert Vault("secret").decrypt(stored) == "123456789"
    with pytest.raises(ValueError):
        Vault("other").decrypt(stored)


@pytest.mark.parametrize(
    "outcome",
    [Prompt(("a", "b"), 8), Hold(("hold",), 2), Transfer(("bye",), "why", "12345678")],
)
def test_answers_survive_storage(outcome):
    answer = Answer(7, outcome)
    assert Answer.from_dict(answer.to_dict()) == answer
