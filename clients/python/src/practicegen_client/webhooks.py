"""Checks that a webhook came from the service: Standard Webhooks signatures.

The service signs `"{webhook-id}.{webhook-timestamp}.{body}"` with HMAC-SHA256 under the key in
its `whsec_...` secret (the base64 after the prefix) and sends `webhook-signature: v1,<base64>`;
during a secret rotation every live secret signs, space-separated. Written here, not imported,
so the client needs nothing of the server; the public `standardwebhooks` library checks the
same signatures.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping

_PREFIX = "whsec_"


class InvalidSignature(Exception):
    """The headers do not prove the body came from the holder of the secret, recently."""


def _signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(_PREFIX))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify_webhook(
    headers: Mapping[str, str], body: bytes, secret: str, *, tolerance_s: int = 300
) -> None:
    """Raise InvalidSignature unless one signature matches and the timestamp is recent."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        msg_id, stamp = lower["webhook-id"], int(lower["webhook-timestamp"])
        offered = lower["webhook-signature"].split()
    except (KeyError, ValueError) as exc:
        raise InvalidSignature("missing or malformed webhook headers") from exc
    if abs(time.time() - stamp) > tolerance_s:
        raise InvalidSignature("timestamp outside the tolerance")
    expected = _signature(secret, msg_id, stamp, body)
    if not any(hmac.compare_digest(expected, o) for o in offered):
        raise InvalidSignature("no signature matches")
