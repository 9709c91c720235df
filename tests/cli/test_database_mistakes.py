"""The database mistakes a newcomer makes, each answered by one message with its fix and an
exit code; commands that only read leave no database behind."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.cli.support import assert_explained, run_cli
from tests.support import postgres
from tests.support.server import free_port

UNAVAILABLE = 3
USAGE = 2


@pytest.mark.parametrize(
    "command",
    [("keys", "create"), ("keys", "list"), ("bank", "export"), ("db", "status")],
    ids=" ".join,
)
def test_a_command_in_a_folder_without_a_database_creates_none(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    result = run_cli(tmp_path, *command)
    message = assert_explained(
        result,
        UNAVAILABLE,
        f"There is no practicegen database at {tmp_path / 'practicegen.db'}",
        "`practicegen db upgrade`",
    )
    assert list(tmp_path.iterdir()) == [], "nothing is created"
    if command == ("db", "status"):  # it says which database it read
        assert message.startswith(f"Database: the SQLite file {tmp_path / 'practicegen.db'}")


def test_an_uninitialised_database_is_named_with_the_command_that_prepares_it(
    tmp_path: Path,
) -> None:
    (tmp_path / "practicegen.db").touch()
    result = run_cli(tmp_path, "keys", "create")
    assert_explained(result, UNAVAILABLE, "has no practicegen tables", "practicegen db upgrade")
    assert (tmp_path / "practicegen.db").stat().st_size == 0


def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    (tmp_path / "practicegen.db").write_text("notes, not a database\n" * 100)
    result = run_cli(tmp_path, "keys", "list")
    assert_explained(result, UNAVAILABLE, "file is not a database")


def test_a_database_url_that_does_not_parse(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "keys", "create", PRACTICEGEN_DATABASE_URL="not a url")
    assert_explained(
        result, USAGE, "PRACTICEGEN_DATABASE_URL does not parse", "postgresql://USER:PASSWORD@"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "url", ["postgresql://app:hunter2@db.example:notaport/practice", "nonsense", ""]
)
def test_a_malformed_database_url_is_one_line_from_every_command(tmp_path: Path, url: str) -> None:
    for command in (("serve", "--port", str(free_port())), ("worker",), ("db", "upgrade")):
        result = run_cli(tmp_path, *command, PRACTICEGEN_DATABASE_URL=url)
        message = assert_explained(
            result, USAGE, "PRACTICEGEN_DATABASE_URL does not parse", "postgresql://USER:PASSWORD@"
        )
        assert "\n" not in message and "hunter2" not in message, message
    assert list(tmp_path.iterdir()) == []


def test_a_database_url_of_another_kind_names_the_setting(tmp_path: Path) -> None:
    url = "mysql://app:hunter2@db.example/practice"
    result = run_cli(tmp_path, "db", "upgrade", PRACTICEGEN_DATABASE_URL=url)
    message = assert_explained(
        result, USAGE, "PRACTICEGEN_DATABASE_URL", "unsupported database URL scheme 'mysql'"
    )
    assert "hunter2" not in message


def test_a_sqlite_file_in_a_missing_folder(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'practicegen.db'}"
    result = run_cli(tmp_path, "db", "upgrade", PRACTICEGEN_DATABASE_URL=url)
    assert_explained(result, UNAVAILABLE, f"The folder {tmp_path / 'no-such-folder'}")


def test_an_unreachable_postgresql(tmp_path: Path) -> None:
    url = f"postgresql://postgres:secret-pw@127.0.0.1:{free_port()}/practicegen"
    for command in (("db", "status"), ("worker",)):
        result = run_cli(tmp_path, *command, PRACTICEGEN_DATABASE_URL=url)
        message = assert_explained(
            result,
            UNAVAILABLE,
            "Cannot connect to the PostgreSQL database 'practicegen' at 127.0.0.1:",
            "Check that PostgreSQL is running there",
        )
        assert "secret-pw" not in message


@pytest.mark.postgres
def test_a_missing_postgresql_database(tmp_path: Path) -> None:
    url = postgres.database_url("practicegen_no_such_database")
    for command in (("keys", "create"), ("serve", "--port", str(free_port())), ("worker",)):
        result = run_cli(tmp_path, *command, PRACTICEGEN_DATABASE_URL=url)
        assert_explained(
            result,
            UNAVAILABLE,
            'database "practicegen_no_such_database" does not exist',
            "Create it",
        )


def test_a_postgresql_host_that_never_answers_is_given_up_on(tmp_path: Path) -> None:
    """A listener that takes connections and never speaks stands for a host whose firewall
    drops packets: every command gives up after PRACTICEGEN_DB_CONNECT_TIMEOUT_S."""
    with socket.create_server(("127.0.0.1", 0), backlog=64) as silent:
        url = f"postgresql://postgres:secret-pw@127.0.0.1:{silent.getsockname()[1]}/practicegen"
        env = {"PRACTICEGEN_DATABASE_URL": url, "PRACTICEGEN_DB_CONNECT_TIMEOUT_S": "2"}
        for command in (("db", "upgrade"), ("serve", "--port", str(free_port())), ("worker",)):
            # without a connect timeout, each of them waits for ever: run_cli's own ends it
            result = run_cli(tmp_path, *command, **env)
            message = assert_explained(
                result,
                UNAVAILABLE,
                "connection timeout expired",
                "PRACTICEGEN_DB_CONNECT_TIMEOUT_S",
            )
            assert "secret-pw" not in message
