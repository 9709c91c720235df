"""`practicegen jobs`: list, show, follow, cancel and retry jobs through a running service's API.

They speak HTTP rather than touching the database, so they work the same embedded and
distributed, and obey the same keys and tenant walls as any other client. They load no part
of the service: an HTTP client and the job's schema, inside the commands.
"""

from __future__ import annotations

import time
import uuid
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from practicegen.cli.console import err, moment, out, plain, say, table
from practicegen.cli.errors import CliError, ExitCode
from practicegen.cli.help import Command, command_group
from practicegen.redaction import redact

if TYPE_CHECKING:
    import httpx

jobs_app = command_group("List, show, follow, cancel and retry jobs (through the API).")
_TERMINAL = {"completed", "failed", "cancelled"}
DEFAULT_URL = "http://127.0.0.1:8000"
TIMEOUT_S = 30.0  # above the longest long-poll the service holds (25 s)
_KEY_HINT = " Pass an API key with --key or PRACTICEGEN_API_KEY (`practicegen keys create`)."

UrlOption = Annotated[
    str,
    typer.Option("--url", envvar="PRACTICEGEN_URL", metavar="URL", help="The service's base URL."),
]
KeyOption = Annotated[
    str | None,
    typer.Option(
        "--key",
        envvar="PRACTICEGEN_API_KEY",
        metavar="KEY",
        help="An API key (Bearer).",
        show_default=False,
    ),
]
JobId = Annotated[uuid.UUID, typer.Argument(metavar="JOB_ID", show_default=False)]


class StatusFilter(StrEnum):
    """`--status`: the values of `jobs.schemas.JobStatus`, named here so that `--help` loads no
    schema (a test holds the two equal)."""

    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


def _client(url: str, key: str | None) -> httpx.Client:
    import httpx

    try:
        base = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise CliError(f"--url {url!r} is not a URL ({exc}). Pass --url http://HOST:PORT.") from exc
    if base.scheme not in ("http", "https") or not base.host:
        raise CliError(f"--url {url!r} is not an http:// or https:// URL with a host.")
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=base, headers=headers, timeout=TIMEOUT_S)


def _foreign(response: httpx.Response) -> CliError:
    return CliError(
        f"{redact(str(response.url.copy_with(path='/', query=None)))} answered HTTP "
        f"{response.status_code} with something other than practicegen's API. "
        "Check --url (or PRACTICEGEN_URL).",
        exit_code=ExitCode.UNAVAILABLE,
    )


def _data(response: httpx.Response) -> Any:
    """The `data` of a practicegen envelope, or a `CliError` saying what answered instead."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or ("data" not in body and "error" not in body):
        raise _foreign(response)
    if response.status_code >= 400 or "data" not in body:
        found = body.get("error")
        error: dict[str, Any] = found if isinstance(found, dict) else {}
        hint = _KEY_HINT if response.status_code == 401 else ""
        raise CliError(
            f"The server refused: {response.status_code} {error.get('code')}: "
            f"{error.get('message')}{hint}",
            exit_code=ExitCode.NO,
        )
    return body["data"]


def _checked(response: httpx.Response, job: Any) -> dict[str, Any]:
    """`job` as the API shows one; anything else is not a practicegen service's answer."""
    from pydantic import ValidationError

    from practicegen.jobs.schemas import JobRead

    try:
        JobRead.model_validate(job)
    except ValidationError as exc:
        raise _foreign(response) from exc
    return dict(job)


def _job(response: httpx.Response) -> dict[str, Any]:
    return _checked(response, _data(response))


def _jobs(response: httpx.Response) -> list[dict[str, Any]]:
    page = _data(response)
    items = page.get("items") if isinstance(page, dict) else None
    if not isinstance(items, list):
        raise _foreign(response)
    return [_checked(response, job) for job in items]


@jobs_app.command("list", cls=Command)
def list_jobs(
    url: UrlOption = DEFAULT_URL,
    key: KeyOption = None,
    status: Annotated[StatusFilter | None, typer.Option(help="Only jobs in this status.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200, metavar="N")] = 20,
) -> None:
    """The tenant's jobs, oldest first."""
    params: dict[str, str | int] = {"limit": limit} | ({"status": status.value} if status else {})
    with _client(url, key) as http:
        jobs = _jobs(http.get("/api/v1/jobs", params=params))
        ready = http.get("/readyz")
    rows_table = table("job_id", "type", "status", "progress", "message", "created (UTC)")
    for job in jobs:
        rows_table.add_row(
            plain(job["job_id"]),
            plain(job["job_type"]),
            plain(job["status"]),
            plain(f"{job['progress_percent']}%"),
            plain(job["progress_message"] or ""),
            moment(job["created_at"]),
        )
    out.print(rows_table)
    _print_workers(ready)


def _print_workers(ready: httpx.Response) -> None:
    """What `/readyz` says of the job workers, when it says anything (a 503 may not)."""
    try:
        body = ready.json()
        workers = (body.get("data") or body["error"]["details"])["workers"]
        seen, within = workers["seen"], f"{workers['stale_after_s']:g} s"
    except (ValueError, KeyError, TypeError):
        return
    if seen:
        out.print(f"Job workers: {seen} running (seen within {within}).")
        return
    last = workers.get("last_seen_s")
    since = f"; the last was seen {last:g} s ago" if last is not None else ""
    say(Text(f"No job worker seen within {within}{since}: jobs stay pending.", style="yellow"))


def _result_summary(result: dict[str, Any]) -> str:
    """A line per result: its scalars as they are, its lists and objects by size."""
    sizes: dict[type[object], str] = {list: "entries", dict: "fields"}  # JSON makes no subclass
    return ", ".join(
        f"{name}: {len(value)} {sizes[type(value)]}" if type(value) in sizes else f"{name}={value}"
        for name, value in result.items()
    )


def _summary(job: dict[str, Any]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    rows = [
        ("job", job["job_id"]),
        ("type", job["job_type"]),
        ("status", f"{job['status']} ({job['progress_percent']}%)"),
        ("message", job.get("progress_message") or ""),
        ("attempt", job.get("attempt", "")),
        ("student", job.get("student_id") or ""),
        ("created", job["created_at"]),
        ("updated", job["updated_at"]),
    ]
    if job.get("error"):
        rows.append(("error", f"{job.get('error_code')}: {job['error']}"))
    if isinstance(job.get("result"), dict):
        rows.append(("result", _result_summary(job["result"])))
    if job.get("expires_at"):
        rows.append(("expires", job["expires_at"]))
    for label, value in rows:
        grid.add_row(label, plain(value))
    return grid


@jobs_app.command("show", cls=Command)
def show_job(
    job_id: JobId,
    url: UrlOption = DEFAULT_URL,
    key: KeyOption = None,
    follow: Annotated[
        bool, typer.Option("--follow", help="Show a live progress bar until it ends.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the whole job (its result too) as JSON.")
    ] = False,
) -> None:
    """One job's summary; with --follow, a progress bar that moves with its messages first.
    Exits 1 if the job failed."""
    with _client(url, key) as http:
        job = _job(http.get(f"/api/v1/jobs/{job_id}"))
        if follow and job["status"] not in _TERMINAL:
            job = _follow(http, job)
    if as_json:
        out.print_json(data=job)
    else:
        out.print(_summary(job))
        if job.get("result"):
            say("Add --json for the whole result.")
    if job["status"] == "failed":
        raise typer.Exit(ExitCode.NO)


def _follow(http: httpx.Client, job: dict[str, Any]) -> dict[str, Any]:
    from rich.progress import BarColumn, Progress, TextColumn

    percent = TextColumn("{task.percentage:>3.0f}%")
    description = TextColumn("{task.description}", markup=False)
    with Progress(
        description, BarColumn(), percent, console=err, disable=not err.is_terminal
    ) as bar:
        task = bar.add_task(job["progress_message"] or job["status"], total=100)
        while job["status"] not in _TERMINAL:
            started = time.monotonic()
            response = http.get(
                f"/api/v1/jobs/{job['job_id']}",
                params={"wait": 20},
                headers={"If-None-Match": f'"{job["job_id"]}.{job["seq"]}"'},
            )
            if response.status_code != 304:
                job = _job(response)
            elif time.monotonic() - started < 1:
                time.sleep(1)
            bar.update(
                task,
                completed=job["progress_percent"],
                description=job["progress_message"] or job["status"],
            )
    return job


def _action(name: str, help_text: str) -> None:
    """`jobs <name> JOB_ID`: POST the job's action and show the job it returns."""

    def act(job_id: JobId, url: UrlOption = DEFAULT_URL, key: KeyOption = None) -> None:
        with _client(url, key) as http:
            out.print(_summary(_job(http.post(f"/api/v1/jobs/{job_id}/{name}"))))

    jobs_app.command(name, help=help_text, cls=Command)(act)


_action("cancel", "Cancel a pending or running job.")
_action("retry", "Run a failed or cancelled job again.")
