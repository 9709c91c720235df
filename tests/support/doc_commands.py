"""Shell commands of the docs, taken from their Markdown and run as written.

A page marks each block a test runs with the info string ```` ```bash runnable ```` (Markdown
renderers colour it as bash and ignore the second word); the README's walk-through section
runs every `bash` block it holds. A page's blocks run in order as one bash script with
`set -euo pipefail` in front, so a failing command (`curl --fail-with-body` on a 4xx, a typo
in a variable) stops it; the script runs in its own process group, which is killed afterwards,
so a server it started in the background never outlives the test. What it prints to stdout is
the sequence of replies the test checks.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```\s*$", re.M | re.S)
HEADING = re.compile(r"^(#{1,6}) (?P<title>.+)$", re.M)
PREAMBLE = "set -euo pipefail\n"


@dataclass(frozen=True)
class Block:
    info: str
    body: str

    @property
    def language(self) -> str:
        return self.info.split()[0] if self.info.split() else ""

    @property
    def runnable(self) -> bool:
        return self.info.split()[1:2] == ["runnable"]


def section(markdown: str, title: str) -> str:
    """The text under the heading `title`, up to the next heading of the same or a higher level."""
    fences = [m.span() for m in FENCE.finditer(markdown)]
    headings = [  # a bash comment in a block is no heading
        h for h in HEADING.finditer(markdown) if not any(a < h.start() < b for a, b in fences)
    ]
    for i, heading in enumerate(headings):
        if heading["title"].strip() == title:
            level = len(heading.group(1))
            after = (h for h in headings[i + 1 :] if len(h.group(1)) <= level)
            end = next((h.start() for h in after), len(markdown))
            return markdown[heading.end() : end]
    raise AssertionError(f"no heading {title!r}")


def blocks(markdown: str) -> list[Block]:
    return [Block(m["info"].strip(), m["body"]) for m in FENCE.finditer(markdown)]


def runnable_script(markdown: str) -> str:
    """The page's runnable blocks, in order, as one script."""
    chosen = [b.body for b in blocks(markdown) if b.runnable]
    assert chosen, "the page marks no block ```bash runnable"
    assert all(b.language == "bash" for b in blocks(markdown) if b.runnable)
    return "\n".join(chosen)


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str

    def replies(self) -> list[Any]:
        """Every JSON document printed to stdout, in order (text between them is skipped)."""
        decoder = json.JSONDecoder()
        found: list[Any] = []
        i = 0
        while (start := _next_document(self.stdout, i)) is not None:
            try:
                value, i = decoder.raw_decode(self.stdout, start)
            except json.JSONDecodeError:
                i = start + 1
                continue
            found.append(value)
        return found

    def explain(self) -> str:
        return f"exit {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def _next_document(text: str, start: int) -> int | None:
    match = re.compile(r"^[{\[]", re.M).search(text, start)
    return match.start() if match else None


def run_bash(script: str, *, cwd: Path, env: dict[str, str], timeout_s: float) -> Run:
    """Run `script` under bash in `cwd` with exactly `env`; kill all it started when it ends."""
    process = subprocess.Popen(
        ["bash", "-c", PREAMBLE + script],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(process.pid)
        stdout, stderr = process.communicate()
        stderr += f"\n(killed after {timeout_s} s)"
    finally:
        _kill_group(process.pid)
    return Run(process.returncode, stdout, stderr)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def base_environment(**extra: str) -> dict[str, str]:
    """A shell's environment with none of the service's settings: only what the docs set."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TMPDIR")}
    env.update(extra)
    return env
