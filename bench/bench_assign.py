"""Sync assign latency and throughput against a 10,000-item bank, beside a bare indexed read.

    python bench/bench_assign.py [--backend sqlite|postgres|both] [--seconds 10] [--concurrency 8]

Prints p50/p99 latency, requests/s and the server process's CPU per request for `POST
/api/v1/practice/assign` (5 items from a bank of `--items` items) and for the bare endpoint in
`bench/bare_app.py`, both servers up at once and driven in turns (`--rounds` each, `--seconds`
in all per endpoint), and the ratios between them.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Endpoint, bare_command, compare, serve_command
from practicegen.auth.principal import DEFAULT_TENANT_ID
from practicegen.bootstrap import prepare
from practicegen.config import Settings
from practicegen.db.engine import create_engine, create_sessionmaker
from practicegen.db.models import Student
from practicegen.items.service import import_bank

KEY = "pgen_sk_bench_key_000000000000000000000"
TOPICS = ["Linear Equations", "Inequalities", "Systems of Equations", "Quadratic Equations"]


def synthetic_bank(count: int) -> dict[str, object]:
    rng = random.Random(7)
    items = []
    for n in range(count):
        topic = TOPICS[n % len(TOPICS)]
        skill = f"{topic.lower().replace(' ', '_')}.s{n % 5}"
        a, x = rng.randint(2, 12), rng.randint(-20, 20)
        items.append(
            {
                "subject": "Algebra",
                "topic": topic,
                "skill": skill,
                "type": "equation",
                "stem": f"Solve ${a}x = {a * x}$ (item {n}).",
                "answer": f"x = {x}",
                "answer_policy": "solution_set",
                "difficulty": rng.uniform(-3, 3),
            }
        )
    return {"format": "practicegen-bank", "version": 1, "items": items}


async def seed(settings: Settings, items: int, students: int) -> list[uuid.UUID]:
    await prepare(settings)
    engine = create_engine(settings)
    async with create_sessionmaker(engine)() as session, session.begin():
        report = await import_bank(
            session, tenant_id=DEFAULT_TENANT_ID, document=synthetic_bank(items)
        )
        assert report.imported == items, report
        rows = [Student(tenant_id=DEFAULT_TENANT_ID, display_name=f"s{i}") for i in range(students)]
        session.add_all(rows)
        await session.flush()
        ids = [r.id for r in rows]
    await engine.dispose()
    return ids


async def measure(database_url: str, args: argparse.Namespace) -> None:
    env = {
        "PRACTICEGEN_DATABASE_URL": database_url,
        "PRACTICEGEN_API_KEY": KEY,
        "PRACTICEGEN_DEMO_BANK": "false",
        "PRACTICEGEN_LOG_LEVEL": "WARNING",
    }
    settings = Settings(_env_file=None, database_url=database_url, api_key=KEY, demo_bank=False)
    students = await seed(settings, args.items, 200)
    rng = random.Random(1)

    def read(client: httpx.AsyncClient) -> httpx.Request:
        return client.build_request("GET", f"/bare/{rng.choice(students)}")

    def assign(client: httpx.AsyncClient) -> httpx.Request:
        body = {
            "student_id": str(rng.choice(students)),
            "subject": "Algebra",
            "topic": rng.choice(TOPICS),
            "num_items": 5,
        }
        return client.build_request("POST", "/api/v1/practice/assign", json=body)

    bare, sync = await compare(
        Endpoint("bare indexed read", bare_command, env, read),
        Endpoint(
            f"sync assign (5 of {args.items})",
            serve_command,
            env,
            assign,
            headers={"Authorization": f"Bearer {KEY}"},
        ),
        concurrency=args.concurrency,
        seconds=args.seconds,
        rounds=args.rounds,
    )
    print(f"backend: {settings.database_kind.value}, concurrency {args.concurrency}")
    print(bare.line())
    print(sync.line())
    print(
        f"ratio p99 assign/bare: {sync.p99_ms / bare.p99_ms:.2f}x, "
        f"p50: {sync.p50_ms / bare.p50_ms:.2f}x, throughput: {sync.rps / bare.rps:.2f}x, "
        f"server CPU per request: {sync.cpu_ms_per_request / bare.cpu_ms_per_request:.2f}x"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument(
        "--rounds", type=int, default=4, help="turns each endpoint gets, alternating"
    )
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            await measure(f"sqlite+aiosqlite:///{tmp}/bench.db", args)
    if args.backend in ("postgres", "both"):
        from tests.support import postgres

        name = postgres.create_database(prefix="pgbench")
        try:
            await measure(postgres.database_url(name), args)
        finally:
            postgres.drop_database(name)


if __name__ == "__main__":
    asyncio.run(main())
