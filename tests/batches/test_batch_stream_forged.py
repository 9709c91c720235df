"""A `Last-Event-ID` the batch stream never wrote, from a broken client or a forger: a fresh
stream for anything unreadable, a clear 422 for one too long, and for a well-formed position
naming places the batch does not have, each real student's end told at most once and the
stream ended, never an error mid-stream."""

from __future__ import annotations

from typing import Any

from practicegen.batches.positions import Position
from tests.batches.test_batch_streams import read_events
from tests.batches.test_batches import PRACTICE, new_class, node, until_ended

STUDENTS = ["Ada", "Bo", "Cy"]


def data_of(events: list[tuple[str | None, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [data for _, data in events]


async def test_forged_positions_on_an_ended_batch(database_url: str) -> None:
    async with node(database_url) as http:
        class_id, students = await new_class(http, STUDENTS)
        started = await http.post(f"/api/v1/classes/{class_id}/assign/async", json=PRACTICE)
        batch_id = started.json()["batch_id"]
        await until_ended(http, batch_id)
        path = f"/api/v1/batches/{batch_id}/events"

        async def follow(last_event_id: str) -> list[dict[str, Any]]:
            async with http.stream("GET", path, headers={"Last-Event-ID": last_event_id}) as got:
                assert got.status_code == 200
                return data_of(await read_events(got))

        for unreadable in ("abc", "12", "3.@@", "-2.AQ", "9" * 40 + ".!"):
            fresh = await follow(unreadable)
            assert fresh[0]["type"] == "batch" and fresh[-1]["type"] == "completed", unreadable

        # places 0..2 are the batch's; 3 and 400 are not: the real ones are told once, the
        # others ignored
        beyond = await follow(Position(batch_seq=-1, ended=frozenset({3, 400})).token())
        ends = [m["student_id"] for m in beyond if m["type"] == "job"]
        assert sorted(ends) == sorted(students)
        assert [m["type"] for m in beyond if m["type"] == "completed"] == ["completed"]

        # a client claiming to have been told everything, far past the batch's seq, is told
        # nothing more, and the stream ends
        everything = Position(batch_seq=10**30, ended=frozenset(range(600))).token()
        assert await follow(everything) == []

        too_long = await http.get(path, headers={"Last-Event-ID": "1." + "A" * 3000})
        assert too_long.status_code == 422
        assert too_long.json()["error"]["code"] == "validation_error"

        assert (await http.get(f"/api/v1/batches/{batch_id}")).json()["data"]["status"] == (
            "completed"  # the stored batch untouched by any of it
        )
