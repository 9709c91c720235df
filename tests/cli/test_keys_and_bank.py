"""`keys` and `bank` against a real database file: what they print, and what they change."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from pathlib import Path

from practicegen.auth import service as auth_service
from practicegen.bootstrap import transaction
from practicegen.clock import utcnow
from practicegen.config import Settings
from practicegen.db import migrator
from practicegen.errors import NotAuthenticated
from tests.api.factories import item_body
from tests.cli.support import assert_explained, run_cli, run_cli_fresh

MARKUP_NAME = "[red]ops[/red] [a-z0-9_.-]"


def settings_of(workdir: Path) -> Settings:
    return Settings(database_url=f"sqlite+aiosqlite:///{workdir / 'practicegen.db'}")


def upgraded(workdir: Path) -> Path:
    """`workdir` with a migrated database (in process: `db upgrade` has its own test)."""
    asyncio.run(migrator.upgrade(settings_of(workdir).database_url))
    return workdir


async def authenticates(workdir: Path, key: str) -> bool:
    async with transaction(settings_of(workdir)) as session:
        try:
            await auth_service.authenticate(session, raw=key, now=utcnow())
        except NotAuthenticated:
            return False
        return True


def test_keys_are_listed_by_their_end_and_revoked(tmp_path: Path) -> None:
    upgraded(tmp_path)
    created = run_cli(tmp_path, "keys", "create", "--name", MARKUP_NAME, "--role", "admin")
    key = created.stdout.strip()
    assert created.returncode == 0 and key.startswith("pgen_sk_"), created.stderr
    listed = run_cli_fresh(tmp_path, "keys", "list")  # once each in a new interpreter
    assert listed.returncode == 0 and MARKUP_NAME in listed.stdout and key[-4:] in listed.stdout
    assert key not in listed.stdout
    key_id = re.findall(r"[0-9a-f-]{36}", listed.stdout)[-1]
    assert asyncio.run(authenticates(tmp_path, key))

    revoked = run_cli_fresh(tmp_path, "keys", "revoke", key_id)
    assert revoked.returncode == 0 and f"Revoked the key {key_id}" in revoked.stderr
    assert MARKUP_NAME in revoked.stderr
    assert not asyncio.run(authenticates(tmp_path, key))
    again = run_cli(tmp_path, "keys", "revoke", key_id)
    assert again.returncode == 0 and "Already revoked" in again.stderr
    unknown = run_cli(tmp_path, "keys", "revoke", str(uuid.uuid4()))
    assert_explained(unknown, 1, "has no key", "practicegen keys list")
    other = run_cli(tmp_path, "keys", "list", "--tenant-id", str(uuid.uuid4()))
    assert_explained(other, 1, "There is no tenant")


def test_a_new_tenant_is_named_with_its_id(tmp_path: Path) -> None:
    upgraded(tmp_path)
    created = run_cli(tmp_path, "keys", "create", "--new-tenant", "school b")
    tenant_id = re.findall(r"its id is ([0-9a-f-]{36})", created.stderr)
    assert created.returncode == 0 and tenant_id, created.stderr
    listed = run_cli(tmp_path, "keys", "list", "--tenant-id", tenant_id[0])
    assert created.stdout.strip()[-4:] in listed.stdout


def test_an_exported_bank_imports_as_it_is(tmp_path: Path) -> None:
    source, target = tmp_path / "a", tmp_path / "b"
    for folder in (source, target):
        folder.mkdir()
        upgraded(folder)
    bank = tmp_path / "bank.json"
    rows = [item_body(), item_body(stem="Solve $5x = 10$."), item_body(stem="Solve $7x = 14$.")]
    bank.write_text(json.dumps({"format": "practicegen-bank", "version": 1, "items": rows}))
    assert "Imported 3" in run_cli(source, "bank", "import", str(bank)).stdout

    exported = run_cli_fresh(source, "bank", "export")  # once in a new interpreter
    assert exported.returncode == 0, exported.stderr
    document = json.loads(exported.stdout)
    assert document["format"] == "practicegen-bank" and len(document["items"]) == 3
    copy = tmp_path / "copy.json"
    written = run_cli(source, "bank", "export", "--output", str(copy))
    assert "Wrote 3 items" in written.stderr and json.loads(copy.read_text()) == document

    imported = run_cli(target, "bank", "import", str(copy))
    assert "Imported 3, skipped 0 already in the bank, rejected 0." in imported.stdout
    assert json.loads(run_cli(target, "bank", "export").stdout) == document
    again = run_cli(target, "bank", "import", str(copy))
    assert "Imported 0, skipped 3 already in the bank" in again.stdout


def test_rejected_rows_are_counted_from_1_and_their_reasons_shown_as_written(
    tmp_path: Path,
) -> None:
    upgraded(tmp_path)
    bank = tmp_path / "bank.json"
    rows = [item_body(), item_body(skill="Not A Skill [x]"), {"stem": "[bold]no subject"}]
    bank.write_text(json.dumps({"format": "practicegen-bank", "version": 1, "items": rows}))
    result = run_cli(tmp_path, "bank", "import", str(bank))
    assert result.returncode == 0, result.stderr
    assert "Imported 1" in result.stdout and "rejected 2" in result.stdout
    assert "  row 2: skill: String should match pattern '^[a-z0-9_.-]+$'" in result.stdout
    assert "  row 3: subject: Field required" in result.stdout
    not_a_bank = tmp_path / "other.json"
    not_a_bank.write_text('{"format": "[b]csv[/b]"}')
    refused = run_cli(tmp_path, "bank", "import", str(not_a_bank))
    assert_explained(refused, 2, f"{not_a_bank}: A bank file is", '"items": [...]')
