"""Password hashing with Argon2id (argon2-cffi's defaults: RFC 9106's low-memory profile).

A memory-hard hash makes each guess against a stolen database cost 64 MiB and tens of
milliseconds; the same cost is why sign-in is rate limited and why API tokens use
SHA-256 instead (DESIGN §4: a per-request argon2 would cost more than the send path).
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified when the email is unknown, so that a miss takes as long as a wrong password
# and response times do not tell which addresses have accounts.
_DECOY = _hasher.hash("occur-decoy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DECOY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's defaults."""
    return _hasher.check_needs_rehash(password_hash)
