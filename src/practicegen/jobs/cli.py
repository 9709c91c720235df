"""`practicegen jobs`: list, show, follow, cancel and retry jobs through a running service's API.

They speak HTTP rather than touching the database, so they work the same embedded and
distributed, and obey the same keys and tenant walls as any other client.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

jobs_app = typer.Typer(help="List, show, follow, cancel and retry jobs (through the API).")
out = Console()
err = Console(stderr=True)
_TERMINAL = {"completed", "failed", "cancelled"}
DEFAULT_URL = "http://127.0.0.1:8000"

UrlOption = Annotated[
    str, typer.Option("--url", envvar="PRACTICEGEN_URL", help="The service's base URL.")
]
KeyOption = Annotated[
    str | None,
    typer.Option(
        "--key", envvar="PRACTICEGEN_API_KEY", help="An API key (Bearer).", show_default=False
    ),
]


def _client(url: str, key: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=url, headers=headers, timeout=30)


def _data(response: httpx.Response) -> Any:
    body = response.json()
    if response.status_code >= 400:
        error = body.get("error", {})
        err.print(f"[red]{response.status_code} {error.get('code')}:[/red] {error.get('message')}")
        raise typer.Exit(1)
    return body["data"]


@jobs_app.command("list")
def list_jobs(
    url: UrlOption = DEFAULT_URL,
    key: KeyOption = None,
    status: Annotated[str | None, typer.Option(help="Only jobs in this status.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 20,
) -> None:
    """The tenant's jobs, oldest first."""
    params: dict[str, str | int] = {"limit": limit} | ({"status": status} if status else {})
    with _client(url, key) as http:
        page = _data(http.get("/api/v1/jobs", params=params))
        ready = http.get("/readyz")
    table = Table("job_id", "type", "status", "progress", "message", "created_at")
    for job in page["items"]:
        table.add_row(
            job["job_id"],
            job["job_type"],
            job["status"],
            f"{job['progress_percent']}%",
            job["progress_message"] or "",
            job["created_at"],
        )
    out.print(table)
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
    err.print(f"[yellow]No job worker seen within {within}{since}: jobs stay pending.[/yellow]")


@jobs_app.command("show")
def show_job(
    job_id: str,
    url: UrlOption = DEFAULT_URL,
    key: KeyOption = None,
    follow: Annotated[bool, typer.Option(help="Show a live progress bar until it ends.")] = False,
) -> None:
    """One job's status; with --follow, a progress bar that moves with its messages."""
    with _client(url, key) as http:
        job = _data(http.get(f"/api/v1/jobs/{job_id}"))
        if follow and job["status"] not in _TERMINAL:
            job = _follow(http, job)
    out.print_json(data=job)
    if job["status"] == "failed":
        raise typer.Exit(1)


def _follow(http: httpx.Client, job: dict[str, Any]) -> dict[str, Any]:
    percent = TextColumn("{task.percentage:>3.0f}%")
    with Progress(TextColumn("{task.description}"), BarColumn(), percent, console=err) as bar:
        task = bar.add_task(job["progress_message"] or job["status"], total=100)
        while job["status"] not in _TERMINAL:
            started = time.monotonic()
            response = http.get(
                f"/api/v1/jobs/{job['job_id']}",
                params={"wait": 20},
                headers={"If-None-Match": f'"{job["job_id"]}.{job["seq"]}"'},
                timeout=30,
            )
            if response.status_code != 304:
                job = _data(response)
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

    def act(job_id: str, url: UrlOption = DEFAULT_URL, key: KeyOption = None) -> None:
        with _client(url, key) as http:
            out.print_json(data=_data(http.post(f"/api/v1/jobs/{job_id}/{name}")))

    jobs_app.command(name, help=help_text)(act)


_action("cancel", "Cancel a pending or running job.")
_action("retry", "Run a failed or cancelled job again.")
