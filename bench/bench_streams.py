"""WebSocket fan-out and webhook delivery latency on PostgreSQL, each beside a bare baseline.

    python bench/bench_streams.py [--subscribers 1000] [--processes 1] [--per-job 1]
                                  [--writes 2000] [--rate 100] [--jobs 200] [--job-rate 10]
                                  [--no-webhooks]

1. Streams: `--subscribers` WebSockets held open on `--processes` `practicegen serve` processes
   (running no worker; the sockets dealt to them in turn), following `subscribers / per-job`
   processing jobs that this script moves itself. Each progress write is the worker's own
   (`JobRepository.progress_many`: an UPDATE and a NOTIFY in one transaction) on the next job
   in turn, `--rate` writes a second, made by a process of its own (`stream_writer.py`);
   latency runs from the start of the write to a subscriber's receipt of the message it
   caused, and each write's own time to its commit is printed beside. Each API process learns
   of it through LISTEN and sends the guide's `status` message from the signal. Baseline, in
   the same run: as many WebSockets on as many processes of a bare FastAPI app (`create_bare`
   below, on uvicorn too) that LISTENs on a channel and forwards each NOTIFY's payload, the
   same JSON message, to the sockets of its key; its write is one `pg_notify` in a
   transaction through the same kind of engine, from the same kind of writing process.
2. Webhooks: practice jobs with a `webhook_url` pointing at a receiver in this process, created
   at `--job-rate` on a serving process that runs the worker; latency runs from the job's
   stored `finished_at` to the receipt of its webhook (the delivery is a queued job, so this
   includes dispatching it). Baseline: httpx POSTing the same body to the same receiver.

The load generator shares the machine with the server: compare with the same run's baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import random
import resource
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import uvicorn
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support import postgres
from tests.support.jobs import running_job

from bench import stream_writer
from bench.bench_assign import KEY, seed
from bench.bench_jobs import env_for
from bench.harness import bare_command, free_port, serve_command, server_process
from practicegen.bootstrap import prepare
from practicegen.config import Settings
from practicegen.db.engine import SessionMaker, create_engine, create_sessionmaker
from practicegen.db.migrator import postgres_conninfo


def create_bare() -> FastAPI:
    """The baseline: LISTEN, and send each NOTIFY payload `key|text` to the sockets of `key`."""
    settings = Settings()
    sockets: dict[str, set[WebSocket]] = {}

    async def forward() -> None:
        conninfo = postgres_conninfo(settings.database_url)
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
            await conn.execute(f"LISTEN {stream_writer.BARE_CHANNEL}")
            async for note in conn.notifies():
                key, _, text = note.payload.partition("|")
                for socket in list(sockets.get(key, ())):
                    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                        await socket.send_text(text)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(forward())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.websocket("/bare/ws/{key}")
    async def follow(websocket: WebSocket, key: str) -> None:
        await websocket.accept()
        sockets.setdefault(key, set()).add(websocket)
        try:
            await websocket.send_text(json.dumps({"type": "status", "progress_message": "ready"}))
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            sockets[key].discard(websocket)

    return app


@dataclass
class Latencies:
    name: str
    values_ms: list[float] = field(default_factory=list)
    expected: int = 0

    def line(self) -> str:
        if not self.values_ms:
            return f"{self.name:<34} no messages received ({self.expected} expected)"
        return (
            f"{self.name:<34} p50 {statistics.median(self.values_ms):7.1f} ms  "
            f"p99 {self.p99:7.1f} ms  max {max(self.values_ms):7.1f} ms  "
            f"({len(self.values_ms)} of {self.expected} received)"
        )

    @property
    def p99(self) -> float:
        ordered = sorted(self.values_ms)
        return ordered[max(0, int(len(ordered) * 0.99) - 1)] if ordered else float("nan")


def raise_file_limit(sockets: int) -> None:
    """Room for `sockets` open files here and in the servers, which inherit the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = sockets + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))


async def processing_jobs(sessionmaker: SessionMaker, count: int) -> list[uuid.UUID]:
    jobs = [running_job() for _ in range(count)]
    async with sessionmaker() as session, session.begin():
        session.add_all(jobs)
    return [job.id for job in jobs]


async def settle(done: Callable[[], bool], changed: asyncio.Event, limit_s: float) -> None:
    """Wait until `done()`, re-checking each time `changed` is set, for at most `limit_s`."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(limit_s):
            while not done():
                changed.clear()
                await changed.wait()


async def fan_out(
    name: str, urls: dict[uuid.UUID, list[str]], url: str, bare: bool, args: argparse.Namespace
) -> tuple[Latencies, Latencies]:
    """Open every socket, then have `--writes` writes made (`stream_writer.py`) and time each
    message they cause; and each write's own time to its commit."""
    result = Latencies(name, expected=args.writes * args.per_job)
    sockets: list[ClientConnection] = []
    everyone_in = asyncio.Event()
    got = asyncio.Event()
    handshakes = asyncio.Semaphore(32)
    total = sum(len(u) for u in urls.values())

    async def subscriber(url: str) -> None:
        async with handshakes:
            socket = await connect(
                url,
                additional_headers={"Authorization": f"Bearer {KEY}"},
                open_timeout=60,
                ping_interval=None,
                proxy=None,
            )
        async with socket:
            await socket.recv()  # the first message: the job as it is now
            sockets.append(socket)
            if len(sockets) == total:
                everyone_in.set()
            with contextlib.suppress(ConnectionClosed):
                async for raw in socket:
                    arrived = time.perf_counter()
                    sent = stream_writer.parse(json.loads(raw).get("progress_message") or "")
                    if sent is not None:
                        result.values_ms.append((arrived - sent[1]) * 1000)
                        got.set()

    async with asyncio.TaskGroup() as group:
        for job_urls in urls.values():
            for socket_url in job_urls:
                group.create_task(subscriber(socket_url))
        began = time.perf_counter()
        await asyncio.wait_for(everyone_in.wait(), 300)
        print(f"{name}: {total} sockets open in {time.perf_counter() - began:.1f} s", flush=True)
        durations = await stream_writer.write_in_a_process(
            url, bare=bare, jobs=list(urls), count=args.writes, rate=args.rate
        )
        await settle(lambda: len(result.values_ms) >= result.expected, got, 10)
        await asyncio.gather(*(socket.close() for socket in sockets))
    written = Latencies("  of which the write to its commit", durations, expected=args.writes)
    return result, written


async def streams(url: str, args: argparse.Namespace) -> None:
    settings = Settings(_env_file=None, database_url=url, api_key=KEY, demo_bank=False)
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    jobs = await processing_jobs(sessionmaker, max(1, args.subscribers // args.per_job))

    try:
        with servers(bare_commands(args.processes), env_for(url)) as bases:
            urls = socket_urls(bases, "/bare/ws", jobs, args.per_job)
            baseline, bare_writes = await fan_out("bare LISTEN -> WebSocket", urls, url, True, args)
        serve = [serve_command(free_port()) for _ in range(args.processes)]
        with servers(serve, env_for(url, PRACTICEGEN_RUN_WORKER="false")) as bases:
            urls = socket_urls(bases, "/api/v1/jobs", jobs, args.per_job, suffix="/ws")
            service, service_writes = await fan_out(
                "progress write -> job WebSocket", urls, url, False, args
            )
    finally:
        await engine.dispose()
    print("\n".join(part.line() for part in (baseline, bare_writes, service, service_writes)))
    print(
        f"p99 ratio job WebSocket / bare: {service.p99 / baseline.p99:.2f}x "
        f"({args.subscribers} subscribers on {args.processes} API process(es), "
        f"{args.per_job} per job)"
    )


def bare_commands(count: int) -> list[list[str]]:
    """The harness's baseline command, serving this module's baseline app, on `count` ports."""
    return [
        [
            arg.replace("bench.bare_app:create", "bench.bench_streams:create_bare")
            for arg in bare_command(free_port())
        ]
        for _ in range(count)
    ]


@contextlib.contextmanager
def servers(commands: list[list[str]], env: dict[str, str]) -> Iterator[list[str]]:
    """Each command's server (its port follows `--port`) running; their WebSocket base URLs."""
    with contextlib.ExitStack() as stack:
        bases = []
        for command in commands:
            port = int(command[command.index("--port") + 1])
            base = stack.enter_context(server_process(command, env, port))
            bases.append(base.replace("http://", "ws://", 1))
        yield bases


def socket_urls(
    bases: list[str], prefix: str, jobs: list[uuid.UUID], per_job: int, suffix: str = ""
) -> dict[uuid.UUID, list[str]]:
    """Each job's subscribers' URLs, the sockets dealt to the servers in turn."""
    dealt = itertools.cycle(bases)
    return {j: [f"{next(dealt)}{prefix}/{j}{suffix}" for _ in range(per_job)] for j in jobs}


@asynccontextmanager
async def receiver() -> AsyncIterator[tuple[str, dict[str, float], asyncio.Event]]:
    """A webhook receiver in this process: its URL, the wall-clock receipt time of each job's
    webhook, and an event set at each receipt."""
    received: dict[str, float] = {}
    got = asyncio.Event()

    async def hook(request: Request) -> Response:
        body = await request.body()
        at = time.time()
        job_id = json.loads(body).get("data", {}).get("job_id")
        if job_id is not None:
            received.setdefault(job_id, at)
            got.set()
        return Response(status_code=204)

    port = free_port()
    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event for this)
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/hook", received, got
    finally:
        server.should_exit = True
        await task


async def webhooks(url: str, students: list[str], args: argparse.Namespace) -> None:
    port = free_port()
    serve = serve_command(port)
    extra = {"PRACTICEGEN_RUN_WORKER": "true", "PRACTICEGEN_SSRF_ALLOWLIST": "127.0.0.1"}
    async with receiver() as (hook_url, received, got):
        with server_process(serve, env_for(url, **extra), port) as base:
            async with httpx.AsyncClient(
                base_url=base, headers={"Authorization": f"Bearer {KEY}"}, timeout=60
            ) as client:
                ids = []
                start = time.perf_counter()
                for n in range(args.jobs):
                    await asyncio.sleep(max(0.0, start + n / args.job_rate - time.perf_counter()))
                    body = {
                        "student_id": random.choice(students),
                        "subject": "Algebra",
                        "num_items": 5,
                        "webhook_url": hook_url,
                    }
                    response = await client.post("/api/v1/practice/assign/async", json=body)
                    ids.append(response.json()["job_id"])
                await settle(lambda: set(ids) <= set(received), got, 60)
        with psycopg.connect(postgres_conninfo(url)) as conn:
            rows = conn.execute(
                "SELECT id::text, extract(epoch FROM finished_at) FROM jobs "
                "WHERE finished_at IS NOT NULL AND id = ANY(%s::uuid[])",
                (ids,),
            ).fetchall()
            sample = conn.execute(
                "SELECT request->'body' FROM jobs WHERE job_type = 'webhook_delivery' LIMIT 1"
            ).fetchone()
        delivered = Latencies("job end -> webhook received", expected=len(ids))
        for job_id, finished in rows:
            if job_id in received:
                delivered.values_ms.append((received[job_id] - float(finished)) * 1000)
        payload = json.dumps(sample[0] if sample else {}, separators=(",", ":")).encode()
        floor = Latencies("bare POST round trip", expected=200)
        async with httpx.AsyncClient(timeout=10) as client:
            for _ in range(floor.expected):
                began = time.perf_counter()
                await client.post(hook_url, content=payload)
                floor.values_ms.append((time.perf_counter() - began) * 1000)
    print(floor.line())
    print(delivered.line())
    print(
        f"p99 ratio webhook after job end / bare POST: {delivered.p99 / floor.p99:.1f}x "
        f"({args.jobs} jobs at {args.job_rate:g}/s)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=1, help="API processes (and bare).")
    parser.add_argument("--no-webhooks", action="store_true", help="Measure the streams only.")
    parser.add_argument("--per-job", type=int, default=1, help="Subscribers following each job.")
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100, help="Progress writes per second.")
    parser.add_argument("--jobs", type=int, default=200, help="Jobs with a webhook.")
    parser.add_argument("--job-rate", type=float, default=10)
    args = parser.parse_args()
    raise_file_limit(args.subscribers * 2)  # each run's sockets, and the server's ends
    name = postgres.create_database(prefix="pgbenchstreams")
    try:
        url = postgres.database_url(name)
        settings = Settings(_env_file=None, database_url=url, api_key=KEY, demo_bank=False)
        await prepare(settings)
        await streams(url, args)
        if args.no_webhooks:
            return
        students = [str(s) for s in await seed(settings, 2000, 200)]
        await webhooks(url, students, args)
    finally:
        postgres.drop_database(name)


if __name__ == "__main__":
    asyncio.run(main())
