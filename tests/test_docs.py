"""The operator and API docs name what the code has: every setting with its default, every route.

docs/deployment.md documents each `Settings` field as a table row
``| `PRACTICEGEN_<FIELD>` | `<default>` or unset | meaning |``; docs/api.md names every operation
(method and path) of the served OpenAPI document, and every operation and `/api/v1/...` path it
names is served. Each failure says which rows, operations or paths to add, change or remove.
Every other page's settings rows give the code's defaults too, and every `PRACTICEGEN_` name a
page gives is a setting.

The audience pages, docs/integrators.md and docs/operators.md, are run: their blocks marked
```` ```bash runnable ```` run in order, as written, against a real server (the integrator's
quick start, on both backends) or as real processes on a new PostgreSQL database (the
operator's runbook), and each reply they print is checked (see tests/support/doc_commands.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
import time
from enum import Enum
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr, ValidationError
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from practicegen.app import create_app
from practicegen.bootstrap import prepare
from practicegen.config import Settings
from practicegen.webhooks import signing
from tests.conftest import ADMIN_KEY, make_settings
from tests.support import doc_commands, postgres
from tests.support.server import free_port, running_server

DOCS = Path(__file__).resolve().parent.parent / "docs"
# A settings row: the variable alone in the first cell, then the default cell.
SETTING_ROW = re.compile(r"^\|\s*`(?P<env>[A-Z][A-Z0-9_]*)`\s*\|\s*(?P<default>[^|]*?)\s*\|", re.M)
UNSET = "unset"


def _env_name(field: str) -> str:
    prefix = Settings.model_config.get("env_prefix") or ""
    return f"{prefix}{field}".upper()


def _code_default(field: str) -> object:
    return Settings.model_fields[field].get_default(call_default_factory=True)


def _render(value: object) -> str:
    """A default as the docs write it: what one would set the variable to."""
    if value is None or value == []:
        return UNSET
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ",".join(_render(v) for v in value)
    return str(value)


def _default_cell(field: str) -> str:
    default = _render(_code_default(field))
    return UNSET if default == UNSET else f"`{default}`"


def _suggested_row(field: str) -> str:
    meaning = Settings.model_fields[field].description or "..."
    return f"| `{_env_name(field)}` | {_default_cell(field)} | {meaning} |"


def _documented_default_matches(field: str, cell: str) -> bool:
    """Whether a row's default cell (`value` first, or `unset`) is the code's default."""
    default = _code_default(field)
    if cell.startswith(UNSET):
        return default is None or default == []
    token = re.match(r"`([^`]*)`", cell)
    if token is None:
        return False
    try:
        # Validated as the environment's text would be, without reading the environment.
        built = Settings.model_validate({field: token.group(1)})
    except ValidationError:
        return False
    return bool(getattr(built, field) == default)


def test_deployment_documents_every_setting_with_its_default() -> None:
    text = (DOCS / "deployment.md").read_text(encoding="utf-8")
    prefix = _env_name("")
    rows = {
        m["env"]: m["default"] for m in SETTING_ROW.finditer(text) if m["env"].startswith(prefix)
    }
    fields = {_env_name(name): name for name in Settings.model_fields}

    missing = [_suggested_row(fields[env]) for env in sorted(set(fields) - set(rows))]
    stale = sorted(set(rows) - set(fields))
    wrong = [
        f"{env}: documented {rows[env]!r}, code default {_default_cell(name)}"
        for env, name in sorted(fields.items())
        if env in rows and not _documented_default_matches(name, rows[env])
    ]
    problems = []
    if missing:
        problems.append("docs/deployment.md lacks these rows:\n" + "\n".join(missing))
    if wrong:
        problems.append(
            "docs/deployment.md gives a default the code does not:\n" + "\n".join(wrong)
        )
    if stale:
        problems.append("docs/deployment.md documents settings the code lacks: " + ", ".join(stale))
    assert not problems, "\n\n".join(problems)


Routes = tuple[list[tuple[str, str]], list[BaseRoute]]
PATH = re.compile(r"/[A-Za-z0-9_{}$.*-]+(?:/[A-Za-z0-9_{}$.*-]+)*")
OPERATION = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE) (/[A-Za-z0-9_{}$./-]*)")


def _normalised(path: str) -> str:
    """Parameters as `{}` whatever their name (`{id}`, `{job_id}`, `$JOB`, `${jobId}`)."""
    parts = path.rstrip(".").split("/")
    return "/".join("{}" if p.startswith(("{", "$")) else p for p in parts)


@pytest.fixture(scope="module")
def app_routes(tmp_path_factory: pytest.TempPathFactory) -> Routes:
    """The operations of the served OpenAPI document, and every route (WebSockets too)."""
    db = tmp_path_factory.mktemp("docs") / "routes.db"
    app = create_app(Settings.model_validate({"database_url": f"sqlite:///{db}"}))
    paths: dict[str, dict[str, object]] = app.openapi()["paths"]
    operations = [(method.upper(), path) for path, ops in paths.items() for method in ops]
    return operations, list(app.router.routes)


def _match(kind: str, method: str, path: str, routes: list[BaseRoute]) -> Match:
    """The best match any route gives: FULL, PARTIAL (the path, another method) or NONE."""
    scope: Scope = {"type": kind, "path": path, "method": method, "root_path": "", "headers": []}
    return max((route.matches(scope)[0] for route in routes), key=lambda m: m.value)


def test_api_doc_names_every_served_operation(app_routes: Routes) -> None:
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    documented = {(method, _normalised(path)) for method, path in OPERATION.findall(text)}
    operations, _ = app_routes
    undocumented = [
        f"{method} {path}"
        for method, path in operations
        if (method, _normalised(path)) not in documented
    ]
    assert not undocumented, "docs/api.md never names these served operations: " + ", ".join(
        undocumented
    )


def test_api_doc_names_only_served_paths(app_routes: Routes) -> None:
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    _, routes = app_routes
    named = sorted({p.rstrip(".") for p in PATH.findall(text) if p.startswith("/api/v1/")})
    unserved = [
        p
        for p in named
        if _match("http", "GET", p, routes) is Match.NONE
        and _match("websocket", "GET", p, routes) is Match.NONE
    ]
    wrong_method = [
        f"{method} {path}"
        for method, path in sorted(set(OPERATION.findall(text)))
        if _match("http", method, path.rstrip("."), routes) is not Match.FULL
    ]
    problems = []
    if unserved:
        problems.append("docs/api.md names paths the app does not serve: " + ", ".join(unserved))
    if wrong_method:
        problems.append("docs/api.md names operations the app lacks: " + ", ".join(wrong_method))
    assert not problems, "\n".join(problems)


# The audience pages: their runnable blocks run as written, against a real server.


def _venv_first_path() -> str:
    """PATH with this test's environment first, as a reader's activated venv puts it."""
    return f"{Path(sys.prefix) / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"


async def test_integrators_quick_start_runs(database_url: str, tmp_path: Path) -> None:
    script = doc_commands.runnable_script((DOCS / "integrators.md").read_text(encoding="utf-8"))
    settings = make_settings(
        database_url,
        demo_bank=True,
        run_worker=True,
        pools_at_start=True,  # as `serve` starts them: the page grades an answer
        ssrf_allowlist=["127.0.0.1"],  # the page's webhook receiver listens on loopback
    )
    await prepare(settings)
    async with running_server(settings) as server:
        env = doc_commands.base_environment(
            PATH=_venv_first_path(),
            HOME=str(tmp_path),
            API=server.base_url,
            KEY=ADMIN_KEY,
            RECEIVER_PORT=str(free_port()),
        )
        run = await asyncio.to_thread(
            doc_commands.run_bash, script, cwd=tmp_path, env=env, timeout_s=240
        )
    assert run.returncode == 0, run.explain()
    assignment, graded, refused, accepted, polled, webhook = run.replies()

    items = assignment["data"]["items"]
    assert len(items) == 3
    assert all(i["answer"] is None and i["solution"] is None for i in items), "student view"
    assert graded["data"]["position"] == 1 and isinstance(graded["data"]["correct"], bool)
    assert "409\n" in run.stdout and refused["error"]["code"] == "already_answered"
    assert {"job_id", "status_url", "websocket_url"} <= set(accepted)
    assert re.search(r"^completed\b", run.stdout, re.M), "the WebSocket saw the job end"
    assert polled == {"status": "completed", "items": 3}
    assert webhook == {
        "event": "practice.assignment.completed",
        "job_id": accepted["job_id"],
        "items": 3,
    }


@pytest.mark.postgres
def test_operators_runbook_runs(tmp_path: Path) -> None:
    """Deploy, a job queued with no worker, a worker, a cut of every connection, key and secret
    rotation, a clean stop: on a new, empty PostgreSQL database, with the real processes."""
    page = (DOCS / "operators.md").read_text(encoding="utf-8")
    script = doc_commands.runnable_script(page)
    name = postgres.create_database(prefix="pgdocs")
    try:
        env = doc_commands.base_environment(
            PATH=_venv_first_path(),
            HOME=str(tmp_path),
            PORT=str(free_port()),
            PRACTICEGEN_DATABASE_URL=postgres.conninfo(name),
        )
        run = doc_commands.run_bash(script, cwd=tmp_path, env=env, timeout_s=480)
    finally:
        postgres.drop_database(name)
    assert run.returncode == 0, run.explain()
    ready, revoked, rotated = run.replies()
    assert ready["data"]["status"] == "ready"
    assert revoked["data"]["name"] == "ops" and revoked["data"]["revoked_at"] is not None
    assert rotated == {"previous": 1, "previous_expires": True}

    queued, drained = re.findall(r"^practicegen_queue_depth (\S+)$", run.stdout, re.M)
    assert (float(queued), float(drained)) == (1, 0)
    waited = re.findall(r"^practicegen_oldest_pending_seconds (\S+)$", run.stdout, re.M)
    assert float(waited[0]) > 0 and float(waited[1]) == 0
    assert re.search(r"^[1-9][0-9]* connections cut$", run.stdout, re.M), run.explain()
    served = set(re.findall(r"^# HELP (practicegen_\w+) ", run.stdout, re.M))
    alerts = doc_commands.section(page, "What to alert on")
    named = set(re.findall(r"`(practicegen_[a-z_]+)", alerts))
    assert named and named <= served, f"not in /metrics: {sorted(named - served)}"
    for line in (
        "job completed",
        "after the cut: job completed",
        "the old key now gets 401",
        "worker stopped cleanly",
        "API node stopped: exit 0",
    ):
        assert re.search(f"^{line}$", run.stdout, re.M), f"{line!r} not in\n{run.explain()}"


# Every other page that names settings: the README and the audience pages.

PAGES = [DOCS.parent / "README.md", *sorted(DOCS.glob("*.md"))]
NOT_SETTINGS = {
    "PRACTICEGEN_URL": "the CLI's API commands read it, as --url",
    "PRACTICEGEN_TEST_POSTGRES_URL": "the test suite's PostgreSQL server",
    "PRACTICEGEN_BIN": "the JavaScript tests' path to the command",
}
SETTING_NAME = re.compile(r"\bPRACTICEGEN_[A-Z0-9_]*[A-Z0-9]\b")


def test_every_page_names_only_settings_that_exist() -> None:
    fields = {_env_name(name) for name in Settings.model_fields}
    unknown = [
        f"{page.name}: {name}"
        for page in PAGES
        for name in sorted(set(SETTING_NAME.findall(page.read_text(encoding="utf-8"))))
        if name not in fields and name not in NOT_SETTINGS
    ]
    assert not unknown, "pages name settings the code lacks:\n" + "\n".join(unknown)


def test_every_settings_row_gives_the_code_default() -> None:
    fields = {_env_name(name): name for name in Settings.model_fields}
    wrong = [
        f"{page.name}: {m['env']} documented {m['default']!r}, code default "
        f"{_default_cell(fields[m['env']])}"
        for page in PAGES
        for m in SETTING_ROW.finditer(page.read_text(encoding="utf-8"))
        if m["env"] in fields and not _documented_default_matches(fields[m["env"]], m["default"])
    ]
    assert not wrong, "\n".join(wrong)


def _page_receiver() -> str:
    """The webhook receiver the integrator's page writes to receiver.py, from its text."""
    page = (DOCS / "integrators.md").read_text(encoding="utf-8")
    found = re.search(r"^cat > receiver\.py <<'PY'\n(.*?)^PY$", page, re.M | re.S)
    assert found, "docs/integrators.md no longer writes receiver.py"
    return found.group(1)


async def test_the_integrators_receiver_refuses_forged_and_stale_webhooks(tmp_path: Path) -> None:
    (tmp_path / "receiver.py").write_text(_page_receiver(), encoding="utf-8")
    secret = signing.new_secret()
    port = free_port()
    receiver = await asyncio.create_subprocess_exec(
        sys.executable,
        "receiver.py",
        str(port),
        cwd=tmp_path,
        env=doc_commands.base_environment(WEBHOOK_SECRET=secret),
        stderr=asyncio.subprocess.DEVNULL,
    )
    body = b'{"id": "msg_1", "event": "practice.assignment.completed"}'
    now = int(time.time())
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(100):
                with contextlib.suppress(httpx.TransportError):
                    await http.get("/")
                    break
                await asyncio.sleep(0.05)

            async def post(headers: dict[str, str]) -> int:
                return (await http.post("/hooks", content=body, headers=headers)).status_code

            forged = signing.headers([signing.new_secret()], "msg_1", now, body)
            stale = signing.headers([secret], "msg_1", now - 3600, body)
            rotated = signing.headers([signing.new_secret(), secret], "msg_1", now, body)
            assert await post(forged) == 401
            assert await post(stale) == 401
            assert not (tmp_path / "webhook.json").exists()
            assert await post(rotated) == 204, "a delivery signed by the old and new secrets"
            assert (tmp_path / "webhook.json").read_bytes() == body
    finally:
        receiver.kill()
        await receiver.wait()
