"""The settings refuse what they cannot use with pydantic's own error, whatever the value."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from practicegen.config import Settings


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://x:y@host:notaport/db",
        "postgresql://x:y@host:70000/db",
        "nonsense",
        "",
        "://",
    ],
)
def test_a_malformed_database_url_is_one_validation_error_with_an_example(url: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(database_url=url)
    (error,) = raised.value.errors()
    assert error["loc"] == ("database_url",)
    assert error["msg"].startswith("PRACTICEGEN_DATABASE_URL does not parse"), error["msg"]
    assert "postgresql://USER:PASSWORD@HOST:5432/DATABASE" in error["msg"]
    assert len(error["msg"]) < 200


def test_a_good_database_url_is_made_the_async_drivers() -> None:
    assert (
        Settings(database_url="postgres://u:p@db.example:6543/x").database_url
        == "postgresql+psycopg://u:p@db.example:6543/x"
    )
    assert Settings(database_url="sqlite:///./a.db").database_url == "sqlite+aiosqlite:///./a.db"
