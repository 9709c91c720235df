"""Standard Webhooks signatures (https://www.standardwebhooks.com), made and checked; during a
rotation every live secret signs, space-separated, so a receiver holding either key verifies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping

PREFIX = "whsec_"


class InvalidSignature(Exception):
    """The headers do not prove the body came from the holder of the secret, recently."""


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(PREFIX))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secrets_: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, msg_id, timestamp, body) for s in secrets_),
        "content-type": "application/json",
    }


def verify(
    headers_: Mapping[str, str], body: bytes, secret: str, *, tolerance_s: int = 300
) -> None:
    """Raise InvalidSignature unless one signature matches and the timestamp is recent."""
    lower = {k.lower(): v for k, v in headers_.items()}
    try:
        msg_id, stamp = lower["webhook-id"], int(lower["webhook-timestamp"])
        offered = lower["webhook-signature"].split()
    except (KeyError, ValueError) as exc:
        raise InvalidSignature("missing or malformed webhook headers") from exc
    if abs(time.time() - stamp) > tolerance_s:
        raise InvalidSignature("timestamp outside the tolerance")
    expected = sign(secret, msg_id, stamp, body)
    if not any(hmac.compare_digest(expected, o) for o in offered):
        raise InvalidSignature("no signature matches")
