"""Rules for what an agent keys: ESN/IMEI, SSN/EIN and NANP NPA-NXX."""

from __future__ import annotations

from activation.keyed import is_digits


def luhn_ok(digits: str) -> bool:
    """Tell whether the digits carry a valid Luhn check digit (IMEI)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def esn_problem(esn: str) -> str | None:
    """Say what is wrong with a handset identity, or None when it is well formed.

    An ESN in decimal is 11 digits: a 3-digit manufacturer code (000-255) and an 8-digit
    serial. A 15-digit IMEI is accepted when its Luhn check digit is right.
    """
    if not is_digits(esn):
        return "not digits"
    if len(esn) == 11:
        return None if int(esn[:3]) <= 255 else "manufacturer code above 255"
    if len(esn) == 15:
        return None if luhn_ok(esn) else "IMEI check digit wrong"
    return "wrong length"


def ssn_problem(ssn: str) -> str | None:
    """Say what is wrong with an SSN under the SSA's rules, or None."""
    if not is_digits(ssn, 9, 9):
        return "an SSN has nine digits"
    area, group, serial = ssn[:3], ssn[3:5], ssn[5:]
    if area in ("000", "666") or area.startswith("9"):
        return "area number never issued"
    if group == "00" or serial == "0000":
        return "group or serial number of zeros"
    return None


# EIN prefixes the IRS never assigns.
_EIN_UNUSED_PREFIXES = {
    "00",
    "07",
    "08",
    "09",
    "17",
    "18",
    "19",
    "28",
    "29",
    "49",
    "69",
    "70",
    "78",
    "79",
    "89",
    "96",
    "97",
}


def ein_problem(ein: str) -> str | None:
    """Say what is wrong with a business tax id (EIN), or None."""
    if not is_digits(ein, 9, 9):
        return "a tax I D has nine digits"
    if ein[:2] in _EIN_UNUSED_PREFIXES:
        return "prefix never assigned"
    return None


def npa_nxx_problem(npa_nxx: str) -> str | None:
    """Say what breaks the NANP rules for an NPA-NXX, or None."""
    if not is_digits(npa_nxx, 6, 6):
        return "an N P A N X X has six digits"
    npa, nxx = npa_nxx[:3], npa_nxx[3:]
    if npa[0] in "01" or npa[1] == "9" or npa[1:] == "11":
        return "area code not valid"
    if nxx[0] in "01" or nxx[1:] == "11":
        return "exchange not valid"
    return None
