"""Where the command line writes: results on stdout, everything else (messages, progress,
errors) on stderr, so a command's output can be piped.

Text that comes from a user, a file or the service goes through `plain`: rich would read
`[a-z0-9_.-]` in a validation message as markup and drop it.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

out = Console()
err = Console(stderr=True)


def plain(text: object, style: str = "") -> Text:
    """`text` shown as it is, never read as markup."""
    return Text(str(text), style=style)


def say(*parts: str | Text) -> None:
    """One message on stderr: `parts` joined, strings read as they are; never wrapped, so a
    message stays one paragraph whatever the terminal's width."""
    err.print(Text.assemble(*parts), soft_wrap=True, highlight=False)
