"""Where the command line writes: results on stdout, everything else (messages, progress,
errors) on stderr, so a command's output can be piped.

Text that comes from a user, a file or the service goes through `plain`: rich would read
`[a-z0-9_.-]` in a validation message as markup and drop it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

ID_WIDTH = 36  # a UUID: never cut, so it can be copied from the table


def _stdout() -> Console:
    console = Console()
    # Piped, rich would take the line to be 80 characters and fold every table to fit.
    return console if console.is_terminal else Console(width=PIPED_WIDTH)


PIPED_WIDTH = 240
out = _stdout()
err = Console(stderr=True)


def plain(text: object, style: str = "") -> Text:
    """`text` shown as it is, never read as markup."""
    return Text(str(text), style=style)


def say(*parts: str | Text) -> None:
    """One message on stderr: `parts` joined, strings read as they are; never wrapped, so a
    message stays one paragraph whatever the terminal's width."""
    err.print(Text.assemble(*parts), soft_wrap=True, highlight=False)


def table(*headers: str) -> Table:
    """A table that folds long cells rather than cutting them; `*_id` columns keep a UUID
    on one line."""
    grid = Table(box=box.SIMPLE_HEAD)
    for header in headers:
        if header.endswith("_id"):
            grid.add_column(header, no_wrap=True, min_width=ID_WIDTH)
        else:
            grid.add_column(header, overflow="fold")
    return grid


def moment(value: datetime | str | None) -> str:
    """A time as a person reads it, to the second, in UTC."""
    if value is None or value == "":
        return ""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
