"""PIN hashing and SSN protection: nothing secret is stored or logged in clear."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
from collections import OrderedDict
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV

# OWASP's Password Storage Cheat Sheet (2023) for PBKDF2-HMAC-SHA256. A hash stored with fewer
# still verifies (its count is part of it) and is replaced at the next good log-on.
_PIN_ITERATIONS = 600_000


def hash_pin(pin: str) -> str:
    """Hash a PIN (or password) with a fresh salt (PBKDF2-SHA256)."""
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, _PIN_ITERATIONS)
    return f"pbkdf2${_PIN_ITERATIONS}${salt.hex()}${digest.hex()}"


def check_pin(pin: str, stored: str) -> bool:
    """Tell whether a keyed PIN matches its stored hash, in constant time."""
    try:
        _scheme, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    candidate = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), int(iterations))
    return hmac.compare_digest(candidate.hex(), digest)


def pin_hash_outdated(stored: str) -> bool:
    """Tell whether a stored hash was made with less work than new ones are."""
    try:
        return int(stored.split("$")[1]) < _PIN_ITERATIONS
    except (IndexError, ValueError):
        return True


class VerifiedPins:
    """PINs this process has verified against a stored hash, kept only as keyed MACs in memory.

    An agent's next log-on with the same PIN against the same stored hash is then a keyed MAC,
    not a second slow hash. Nothing is written anywhere: a database copy gains nothing, and
    the key is derived from the master secret, which whoever reads this memory holds anyway.
    A changed PIN has a new stored hash and takes the slow path again; so does every PIN
    that did not match, so guessing stays as slow as ever.
    """

    def __init__(self, key: bytes, size: int = 10_000) -> None:
        self._key, self._size = key, size
        self._macs: OrderedDict[bytes, None] = OrderedDict()
        self._lock = threading.Lock()
        # The same PIN against the same hash being checked by another thread right now: its
        # result is waited for, not hashed again (a burst of one agent's log-ons, or webhooks
        # retried, would otherwise each pay the slow hash at once).
        self._checking: dict[bytes, threading.Lock] = {}

    def _mac(self, pin: str, stored: str) -> bytes:
        return hmac.new(self._key, f"{stored}\0{pin}".encode(), hashlib.sha256).digest()

    def known(self, pin: str, stored: str) -> bool:
        """Tell whether this PIN was verified against this very stored hash."""
        mac = self._mac(pin, stored)
        with self._lock:
            if mac not in self._macs:
                return False
            self._macs.move_to_end(mac)
            return True

    def check(self, pin: str, stored: str) -> bool:
        """Check a PIN: slowly the first time it matches this stored hash, then by its MAC."""
        if self.known(pin, stored):
            return True
        mac = self._mac(pin, stored)
        with self._lock:
            turn = self._checking.setdefault(mac, threading.Lock())
        with turn:  # one thread a PIN and hash hashes; the others find its result
            if self.known(pin, stored):
                return True
            try:
                matched = check_pin(pin, stored)
                if matched:
                    self.remember(pin, stored)
            finally:
                with self._lock:
                    self._checking.pop(mac, None)
        return matched

    def remember(self, pin: str, stored: str) -> None:
        """Keep that this PIN matched this stored hash (the oldest entry goes when full)."""
        mac = self._mac(pin, stored)
        with self._lock:
            self._macs[mac] = None
            self._macs.move_to_end(mac)
            while len(self._macs) > self._size:
                self._macs.popitem(last=False)


# What the vault writes: this prefix, then URL-safe base64 of a random nonce and the value
# sealed with AES-256-GCM-SIV. Every webhook seals its stored answer, and Fernet (AES-CBC,
# HMAC and a timestamp) cost it about 140 us against 50. GCM-SIV, not plain GCM, because a
# nonce drawn at random for years of webhooks may repeat; under GCM-SIV a repeat reveals only
# that two sealed values were equal. Tokens written before it (Fernet's) still open.
_SEALED = "s1."
_NONCE_BYTES = 12


class Vault:
    """Keyed hashes for look-up and encryption for the copy of SSNs and other secrets."""

    def __init__(self, master: str) -> None:
        root = hashlib.sha256(master.encode()).digest()
        self._hash_key = hmac.new(root, b"cas-ssn-lookup", hashlib.sha256).digest()
        self.verified_pins = VerifiedPins(
            hmac.new(root, b"cas-pin-verified", hashlib.sha256).digest()
        )
        enc = hmac.new(root, b"cas-encryption", hashlib.sha256).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(enc))  # opens tokens written before
        self._siv = AESGCMSIV(hmac.new(root, b"cas-encryption-siv", hashlib.sha256).digest())

    def lookup_hash(self, value: str) -> str:
        """Return a keyed hash that finds a record without revealing the value."""
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, value: str) -> str:
        """Encrypt a value for storage."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = nonce + self._siv.encrypt(nonce, value.encode(), None)
        return _SEALED + base64.urlsafe_b64encode(sealed).decode()

    def decrypt(self, token: str) -> str:
        """Decrypt a stored value; a wrong key (or a token changed) raises ValueError."""
        try:
            if token.startswith(_SEALED):
                sealed = base64.urlsafe_b64decode(token[len(_SEALED) :])
                nonce, body = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
                return self._siv.decrypt(nonce, body, None).decode()
            return self._fernet.decrypt(token.encode()).decode()
        except (InvalidTag, InvalidToken, ValueError) as exc:
            raise ValueError("stored value cannot be decrypted with this key") from exc


def load_master_secret(configured: str, data_dir: Path) -> str:
    """Return the configured secret, or the data dir's key file (created on first use)."""
    if configured:
        return configured
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(32))
    return path.read_text().strip()
