"""Making and hashing bearer secrets: 256 random bits, so a plain SHA-256 is the right hash.
The prefix says what a leaked string is; the suffix is what logs show."""

from __future__ import annotations

import hashlib
import secrets

SERVER_KEY_PREFIX = "pgen_sk_"
STUDENT_TOKEN_PREFIX = "pgen_st_"  # noqa: S105 (a prefix, not a secret)


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def suffix(raw: str) -> str:
    return raw[-4:]
