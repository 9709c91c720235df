"""Where a client of a batch's stream is, as each event's `id:` for `Last-Event-ID`: the batch's
seq, and a bitmap of the places of the students' jobs it was told had ended."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Position:
    """What a client was told: the batch's seq, and the places of the ended jobs."""

    batch_seq: int = -1
    ended: frozenset[int] = frozenset()

    def token(self) -> str:
        """`<batch seq>.<base64url of the ended places' bitmap>`: 88 characters for 500."""
        bits = sum(1 << place for place in self.ended)
        raw = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
        return f"{self.batch_seq}.{base64.urlsafe_b64encode(raw).decode().rstrip('=')}"

    @classmethod
    def parse(cls, token: str | None) -> Position | None:
        """The position `token` names; None (start afresh) for anything `token()` did not write."""
        seq, dot, bitmap = (token or "").partition(".")
        if not ((seq.isdigit() or seq == "-1") and dot):  # -1: no batch news told yet
            return None
        try:
            padded = bitmap + "=" * (-len(bitmap) % 4)
            raw = base64.b64decode(padded, altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            return None
        bits = int.from_bytes(raw, "little")
        return cls(int(seq), frozenset(i for i in range(bits.bit_length()) if bits >> i & 1))

    def after(self, *, batch_seq: int = -1, ended: Iterable[int] = ()) -> Position:
        return Position(max(self.batch_seq, batch_seq), self.ended | frozenset(ended))
