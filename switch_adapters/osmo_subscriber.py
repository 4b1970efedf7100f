"""How a CAS subscriber is named in an HLR: its IMSI from the MID, its IMEI from the handset.

- The IMSI is MIN-based: MCC + MNC + MID (15 digits). MCC and MNC come from the switch's
  code, written "310-00" or "31000"; a code that names no PLMN (letters, or empty) means
  310-00. A 3-digit MNC is refused: it leaves no room for a 10-digit MIN in 15 digits.
- The HLR's IMEI column keeps 14 digits without the check digit. An 11-digit ESN is kept as
  "000" + ESN (reporting body 00 marks test IMEIs, so it is not taken for a real handset's IMEI
  and reads back as the ESN); a 15-digit IMEI is kept as its first 14 digits and reads back
  with its Luhn digit.
"""

from __future__ import annotations

import re

DEFAULT_PLMN = ("310", "00")
_PLMN = re.compile(r"^(\d{3})[-/ ]?(\d{2})$")


def plmn_from_code(code: str) -> tuple[str, str]:
    """Return the (MCC, MNC) a switch code names, or the default for a code naming none."""
    code = code.strip()
    if not code or re.search(r"[A-Za-z]", code):
        return DEFAULT_PLMN
    match = _PLMN.match(code)
    if not match:
        raise ValueError(f"switch code {code!r} is not an MCC-MNC with a 2-digit MNC (310-00)")
    return match[1], match[2]


def imsi_for(mid: str, plmn: tuple[str, str]) -> str:
    """Return the MIN-based IMSI of a MID."""
    if not re.fullmatch(r"\d{10}", mid):
        raise ValueError(f"MID {mid!r} is not 10 digits")
    return plmn[0] + plmn[1] + mid


def luhn_digit(digits: str) -> str:
    """Return the Luhn check digit of a digit string (the IMEI's 15th digit)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str(-total % 10)


def imei_from_esn(esn: str) -> str:
    """Return the 14 digits the HLR's IMEI column keeps for a handset ("" for none)."""
    if not esn:
        return ""
    if re.fullmatch(r"\d{11}", esn):
        return "000" + esn
    if re.fullmatch(r"\d{15}", esn) and luhn_digit(esn[:14]) == esn[14]:
        return esn[:14]
    raise ValueError(f"{esn!r} is neither an 11-digit ESN nor a 15-digit IMEI")


def esn_from_imei(imei: str) -> str:
    """Return the handset identity an IMEI shown by the HLR stands for ("" for none)."""
    if not re.fullmatch(r"\d{14,15}", imei):
        return ""
    body = imei[:14]
    return body[3:] if body.startswith("000") else body + luhn_digit(body)
