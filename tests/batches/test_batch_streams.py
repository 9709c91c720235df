"""Following a batch live over a real socket, on both backends: the batch now, each student's
job as it changes, then one end once all have ended; refusals before the stream starts."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import delete
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from practicegen.batches.positions import Position
from practicegen.batches.tasks import child_id
from practicegen.db.engine import create_engine
from practicegen.db.models import Job
from tests.api.test_auth import bearer
from tests.batches.test_batches import PRACTICE, new_class, node, until_ended
from tests.conftest import ADMIN_KEY, make_settings

Event = tuple[str | None, dict[str, Any]]
_ENDS = ("completed", "failed", "cancelled")


def assert_batch_stream(messages: list[dict[str, Any]], students: list[str]) -> None:
    """The whole batch first, `job` news of each student's job ending, the batch's end last."""
    first, *middle, end = messages
    assert first["type"] == "batch" and len(first["jobs"]) == len(students)
    assert end["type"] == "completed" and end["result"]["counts"]["completed"] == len(students)
    assert {m["type"] for m in middle} <= {"job", "status"}
    ended = {m["student_id"] for m in middle if m["type"] == "job" and m["status"] == "completed"}
    assert ended == set(students)
    assert all("result" not in m for m in middle)  # a student's assignment is read from its job


async def test_a_batch_followed_by_websocket_and_event_stream(database_url: str) -> None:
    async with node(database_url) as http:
        class_id, students = await new_class(http, ["Ada", "Bo", "Cy"])
        started = await http.post(f"/api/v1/classes/{class_id}/assign/async", json=PRACTICE)
        batch_id = started.json()["batch_id"]
        url = str(http.base_url).replace("http://", "ws://") + f"/api/v1/batches/{batch_id}/ws"
        messages: list[dict[str, Any]] = []
        async with connect(url, additional_headers=bearer(ADMIN_KEY)) as socket:
            async for raw in socket:
                messages.append(json.loads(raw))
        assert_batch_stream(messages, students)

        events: list[dict[str, Any]] = []
        async with http.stream("GET", f"/api/v1/batches/{batch_id}/events") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line.removeprefix("data: ")))
        assert events[0]["type"] == "batch" and events[0]["status"] == "completed"
        assert events[-1]["type"] == "completed"  # an ended batch: what it is, then its end
        await until_ended(http, batch_id)


async def test_batch_streams_refuse_before_they_start(database_url: str) -> None:
    async with node(database_url, run_worker=False) as http:
        class_id, students = await new_class(http, ["Ada"])
        started = await http.post(f"/api/v1/classes/{class_id}/assign/async", json=PRACTICE)
        batch_id = started.json()["batch_id"]
        missing = await http.get(f"/api/v1/batches/{uuid.uuid4()}/events")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "batch_not_found"
        token = await http.post("/api/v1/tokens", json={"student_id": students[0]})
        as_student = bearer(token.json()["data"]["token"])
        refused = await http.get(f"/api/v1/batches/{batch_id}/events", headers=as_student)
        assert refused.status_code == 403
        # a student's own job is not a batch: its id answers as no batch
        job_id = started.json()["jobs"][0]["job_id"]
        assert (await http.get(f"/api/v1/batches/{job_id}")).status_code == 404
        url = str(http.base_url).replace("http://", "ws://") + f"/api/v1/batches/{batch_id}/ws"
        async with connect(url, additional_headers=as_student) as socket:
            with pytest.raises(ConnectionClosed) as closed:
                await socket.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
        anonymous = httpx.AsyncClient(base_url=str(http.base_url))
        async with anonymous:
            assert (await anonymous.get(f"/api/v1/batches/{batch_id}/events")).status_code == 401


async def read_events(response: httpx.Response, *, until_first_end: bool = False) -> list[Event]:
    """The stream's events, `(id, data)`; with `until_first_end`, up to a student's first end,
    after which the connection is dropped."""
    events: list[Event] = []
    block: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line.startswith(("id:", "data:")):
            key, _, value = line.partition(": ")
            block[key] = value
        elif line == "" and "data" in block:
            event = (block.get("id"), json.loads(block["data"]))
            events.append(event)
            block = {}
            if until_first_end and event[1]["type"] == "job" and event[1]["status"] == "completed":
                break
    return events


async def test_a_dropped_batch_event_stream_resumes_with_last_event_id(database_url: str) -> None:
    async with node(database_url) as http:
        class_id, students = await new_class(http, ["Ada", "Bo", "Cy", "Di"])
        started = await http.post(f"/api/v1/classes/{class_id}/assign/async", json=PRACTICE)
        path = f"/api/v1/batches/{started.json()['batch_id']}/events"
        async with http.stream("GET", path) as response:
            before = await read_events(response, until_first_end=True)
        last_id = before[-1][0]
        assert before[0][1]["type"] == "batch" and last_id is not None
        headers = {"Last-Event-ID": last_id}
        async with http.stream("GET", path, headers=headers) as response:
            after = await read_events(response)
        assert after and all(event_id is not None for event_id, _ in after)
        assert after[0][1]["type"] != "batch"  # resumed: not the whole batch again
        messages = [data for _, data in before + after]
        ends = [m["student_id"] for m in messages if m["type"] == "job" and m["status"] in _ENDS]
        assert sorted(ends) == sorted(students)  # each student's end once, across the drop
        assert [m["type"] for m in messages if m["type"] in _ENDS] == ["completed"]
        assert messages[-1]["type"] == "completed"
        # resumed past the end: the stream has nothing more to say and ends
        finished = await http.get(path, headers={"Last-Event-ID": after[-1][0] or ""})
        assert finished.status_code == 200 and "data:" not in finished.text


def places_told(events: list[Event]) -> dict[str, int]:
    """Each student's place as the stream's positions tell it: the one its job's end adds."""
    places: dict[str, int] = {}
    ended: frozenset[int] = frozenset()
    for event_id, data in events:
        if data["type"] == "job" and data["status"] in _ENDS:
            now_ended = ended_places(event_id or "")
            (place,) = now_ended - ended
            places[data["student_id"]] = place
            ended = now_ended
    return places


def ended_places(token: str) -> frozenset[int]:
    """The ended places a position token names (its batch seq may be -1: no batch news yet)."""
    position = Position.parse("0." + token.partition(".")[2])
    assert position is not None, token
    return position.ended


async def test_a_batch_streams_places_stay_when_a_students_job_is_gone(database_url: str) -> None:
    async with node(database_url) as http:
        class_id, students = await new_class(http, ["Ada", "Bo", "Cy"])
        started = await http.post(f"/api/v1/classes/{class_id}/assign/async", json=PRACTICE)
        batch_id = started.json()["batch_id"]
        await until_ended(http, batch_id)
        path = f"/api/v1/batches/{batch_id}/events"
        async with http.stream("GET", path) as response:
            before = places_told(await read_events(response))
        assert sorted(before) == sorted(students)
        engine = create_engine(make_settings(database_url))
        try:
            async with engine.begin() as conn:
                gone = child_id(uuid.UUID(batch_id), uuid.UUID(students[1]))
                assert (await conn.execute(delete(Job).where(Job.id == gone))).rowcount == 1
        finally:
            await engine.dispose()
        async with http.stream("GET", path) as response:
            after = places_told(await read_events(response))
        kept = [students[0], students[2]]
        assert {s: after[s] for s in kept} == {s: before[s] for s in kept}


@pytest.mark.parametrize("batch_seq", [-1, 0, 12])  # -1: students' ends told before any batch news
@pytest.mark.parametrize("ended", [set(), {0}, {1, 7, 8}, set(range(500))])
def test_a_batch_stream_position_reads_back_what_it_wrote(batch_seq: int, ended: set[int]) -> None:
    position = Position(batch_seq=batch_seq, ended=frozenset(ended))
    assert Position.parse(position.token()) == position
    assert len(position.token()) <= 90


@pytest.mark.parametrize("token", [None, "", "12", "x.AQ", "-2.AQ", "--1.AQ", "3.@@"])
def test_a_batch_stream_position_not_of_its_own_making_starts_afresh(token: str | None) -> None:
    assert Position.parse(token) is None
