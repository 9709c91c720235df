"""`practicegen keys`: create, list and revoke API keys straight in the database, for the
operator who runs the service (the API's `/api/v1/keys` does the same for an admin key).

Student tokens are not made here: a server mints them through `POST /api/v1/tokens`.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from practicegen.auth.principal import DEFAULT_TENANT_ID, Role
from practicegen.cli import database
from practicegen.cli.bank import TenantOption
from practicegen.cli.console import moment, out, plain, say, table
from practicegen.cli.errors import CliError, ExitCode
from practicegen.cli.help import Command, command_group
from practicegen.cli.settings import load_settings
from practicegen.clock import utcnow
from practicegen.errors import ApiKeyNotFound

if TYPE_CHECKING:
    from practicegen.config import Settings
    from practicegen.db.models import ApiKey

keys_app = command_group("Create, list and revoke API keys (in the database).")


class KeyRole(StrEnum):
    """The roles a key made here may have."""

    SERVER = "server"  # everything in its tenant but managing keys
    ADMIN = "admin"  # a server key that may also manage keys


async def issue_key(settings: Settings, *, name: str, role: Role, new_tenant: str | None) -> str:
    """A new key of the default tenant, or of a new tenant named `new_tenant`; its secret."""
    from practicegen.auth import service as auth_service

    async with database.ready_session(settings) as session:
        if new_tenant is not None:
            tenant = await auth_service.create_tenant(session, name=new_tenant)
            say(f"Created the tenant {new_tenant!r}: its id is {tenant.id}")
        else:
            tenant = await auth_service.ensure_default_tenant(session)
        issued = await auth_service.create_key(session, tenant_id=tenant.id, name=name, role=role)
        return issued.secret


@keys_app.command("create", cls=Command)
def create(
    name: Annotated[str, typer.Option(metavar="NAME", help="What the key is for.")] = "cli",
    role: Annotated[KeyRole, typer.Option(help="What the key may do.")] = KeyRole.SERVER,
    new_tenant: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="Create a new tenant with this name and key it."),
    ] = None,
) -> None:
    """Create an API key and print it once (on stdout; everything else goes to stderr)."""
    settings = load_settings()
    work = issue_key(settings, name=name, role=Role(role.value), new_tenant=new_tenant)
    out.print(database.run(settings, work), soft_wrap=True, highlight=False, markup=False)


async def _tenant_keys(settings: Settings, tenant_id: uuid.UUID) -> list[ApiKey]:
    from practicegen.auth.repository import AuthRepository

    async with database.ready_session(settings) as session:
        repo = AuthRepository(session)
        if await repo.get_tenant(tenant_id) is None:
            raise CliError(f"There is no tenant {tenant_id}.", exit_code=ExitCode.NO)
        return await repo.list_server_keys(tenant_id)


@keys_app.command("list", cls=Command)
def list_keys(tenant_id: TenantOption = None) -> None:
    """A tenant's API keys (never their secrets: the last four characters name them)."""
    settings = load_settings()
    rows = database.run(settings, _tenant_keys(settings, tenant_id or DEFAULT_TENANT_ID))
    rows_table = table("key_id", "name", "role", "ends with", "created (UTC)", "revoked (UTC)")
    for row in rows:
        rows_table.add_row(
            str(row.id),
            plain(row.name),
            row.role,
            plain(row.key_suffix),
            moment(row.created_at),
            moment(row.revoked_at),
        )
    out.print(rows_table)


async def _revoke(settings: Settings, tenant_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
    from practicegen.auth import service as auth_service

    async with database.ready_session(settings) as session:
        try:
            return await auth_service.revoke(
                session, tenant_id=tenant_id, key_id=key_id, now=utcnow()
            )
        except ApiKeyNotFound as exc:
            raise CliError(
                f"The tenant {tenant_id} has no key {key_id}. `practicegen keys list` shows its "
                "keys (add --tenant-id for another tenant's).",
                exit_code=ExitCode.NO,
            ) from exc


@keys_app.command("revoke", cls=Command)
def revoke(
    key_id: Annotated[uuid.UUID, typer.Argument(metavar="KEY_ID", show_default=False)],
    tenant_id: TenantOption = None,
) -> None:
    """Refuse a key from now on (running nodes within PRACTICEGEN_AUTH_CACHE_S)."""
    settings = load_settings()
    started = utcnow()
    row = database.run(settings, _revoke(settings, tenant_id or DEFAULT_TENANT_ID, key_id))
    named = f"the key {row.id} ({row.name!r}, {row.role}, ending {row.key_suffix})"
    if row.revoked_at is not None and row.revoked_at < started:
        say(plain(f"Already revoked: {named}, at {row.revoked_at.isoformat()}."))
        return
    say(
        plain(f"Revoked {named}. "),
        f"Running nodes refuse it within PRACTICEGEN_AUTH_CACHE_S ({settings.auth_cache_s:g} s).",
    )
