"""`practicegen bank`: load a bank file into the database, and write the bank out as one.

Both use the document `items/bank_format.py` defines, so an export imports as it is.
The item bank's modules load inside the commands, not for `--help`.
"""

from __future__ import annotations

import json
import sys
import uuid
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from practicegen.auth.principal import DEFAULT_TENANT_ID, Principal, Role
from practicegen.cli import database
from practicegen.cli.console import err, out, plain, say
from practicegen.cli.errors import CliError, ExitCode
from practicegen.cli.help import Command, command_group
from practicegen.cli.settings import load_settings
from practicegen.errors import InvalidRequest

if TYPE_CHECKING:
    from practicegen.config import Settings
    from practicegen.items.repository import ItemFilters
    from practicegen.items.service import ImportReport

bank_app = command_group("Import and export the item bank (in the database).")


class Origin(StrEnum):
    """`--source`: the values of `items.schemas.ItemSource`, named here so that `--help` loads
    no schema (a test holds the two equal)."""

    BANK = "bank"
    DEMO = "demo"
    PROCEDURAL = "procedural"
    LLM = "llm"


class Standing(StrEnum):
    """`--status`: the values of `items.schemas.ItemStatus`, as `Origin` is of its source."""

    ACTIVE = "active"
    RETIRED = "retired"


TenantOption = Annotated[
    uuid.UUID | None,
    typer.Option(metavar="TENANT_ID", help="The tenant (default: the default tenant)."),
]


def _read_document(file: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CliError(f"{file} is not a JSON bank file: {exc}.") from exc


async def _require_tenant(session: Any, tenant_id: uuid.UUID) -> None:
    from practicegen.auth import service as auth_service
    from practicegen.auth.repository import AuthRepository

    if tenant_id == DEFAULT_TENANT_ID:
        await auth_service.ensure_default_tenant(session)
    elif await AuthRepository(session).get_tenant(tenant_id) is None:
        raise CliError(f"There is no tenant {tenant_id}.", exit_code=ExitCode.NO)


async def _import(settings: Settings, document: object, tenant_id: uuid.UUID) -> ImportReport:
    # the grader's modules (sympy) load only for the command that reads answer keys
    from rich.progress import Progress

    from practicegen.bootstrap import transaction
    from practicegen.grading.sympy_pool import SympyPool
    from practicegen.items.keys import KeyReader
    from practicegen.items.service import import_parsed, read_bank

    await database.require_schema(settings)
    pool = SympyPool(1)
    try:  # keys are read before the database is touched: no lock is held meanwhile
        parsed = await read_bank(document, KeyReader(pool, timeout_s=settings.generator_timeout_s))
    finally:
        await pool.aclose()
    with Progress(console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("Importing", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        async with transaction(settings) as session:
            await _require_tenant(session, tenant_id)
            return await import_parsed(
                session, tenant_id=tenant_id, parsed=parsed, progress=advance
            )


@bank_app.command("import", cls=Command)
def import_file(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", exists=True, dir_okay=False, readable=True)
    ],
    tenant_id: TenantOption = None,
) -> None:
    """Load a practicegen-bank JSON file; print what was imported and which rows were rejected
    (counted from 1) and why."""
    settings = load_settings()
    document = _read_document(file)
    try:
        report = database.run(settings, _import(settings, document, tenant_id or DEFAULT_TENANT_ID))
    except InvalidRequest as exc:
        raise CliError(f"{file}: {exc.message}") from exc
    out.print(
        f"Imported {report.imported}, skipped {report.duplicates} already in the bank, "
        f"rejected {len(report.rejected)}.",
        highlight=False,
    )
    for row in report.rejected:
        out.print(plain(f"  row {row.row}: {'; '.join(row.reasons)}"), soft_wrap=True)


async def _export(settings: Settings, tenant_id: uuid.UUID, filters: ItemFilters) -> Any:
    from practicegen.items.bank_format import bank_document
    from practicegen.items.service import export_bank

    async with database.ready_session(settings) as session:
        await _require_tenant(session, tenant_id)
        reader = Principal(tenant_id=tenant_id, role=Role.ADMIN)
        return bank_document(await export_bank(session, principal=reader, filters=filters))


@bank_app.command("export", cls=Command)
def export_file(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", metavar="FILE", dir_okay=False, help="Write here, not to stdout."
        ),
    ] = None,
    tenant_id: TenantOption = None,
    subject: Annotated[
        str | None, typer.Option(metavar="SUBJECT", help="Only this subject.")
    ] = None,
    topic: Annotated[str | None, typer.Option(metavar="TOPIC", help="Only this topic.")] = None,
    skill: Annotated[str | None, typer.Option(metavar="SKILL", help="Only this skill.")] = None,
    source: Annotated[Origin | None, typer.Option(help="Only items of this origin.")] = None,
    status: Annotated[
        Standing, typer.Option(help="Retired items leave the bank unless asked for.")
    ] = Standing.ACTIVE,
) -> None:
    """Write the bank (or the part the options select) as a practicegen-bank JSON document,
    which `practicegen bank import` and `POST /api/v1/items/import` read."""
    from practicegen.items.repository import ItemFilters

    settings = load_settings()
    filters = ItemFilters(
        subject=subject,
        topic=topic,
        skill=skill,
        source=source.value if source else None,
        status=status.value,
    )
    document = database.run(settings, _export(settings, tenant_id or DEFAULT_TENANT_ID, filters))
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"Cannot write {output}: {exc.strerror or exc}.") from exc
    say(f"Wrote {len(document['items'])} items to {output}.")
