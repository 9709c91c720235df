"""Running the guide's JavaScript in Node, and proving it is the guide's code, unchanged.

Each `option*.mjs` script holds one of the guide's code blocks verbatim between a BEGIN and an
END marker, wrapped in code that observes what the guide's lines do. The tests check the block
against a SHA-256 of the guide's block (and against the guide itself when it is present), then
run a copy in which only the guide's hosts and placeholders are replaced.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

END = "// ---- END guide ----\n"
# The guide lives beside the repository in the shared workspace; when present, each block is
# also compared with it directly.
GUIDE_MARKDOWN = (
    Path(__file__).resolve().parents[3] / "shared" / "seed" / "async-practice-generation-guide.md"
)
NODE_LIMIT_S = 40.0


def node_binary() -> str:
    """The `node` executable, or a test failure that says how to get one."""
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "`node` is not on PATH: the guide's JavaScript runs in Node.js (20 or newer, for "
            "global fetch and top-level await). Install Node.js; this test is never skipped."
        )
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=True, timeout=10
    ).stdout.strip()
    major = int(version.lstrip("v").split(".")[0])
    if major < 20:
        pytest.fail(f"the guide's JavaScript needs Node.js 20 or newer; `node` is {version}")
    return node


def websocket_flags(node: str) -> list[str]:
    """What makes the browser's global `WebSocket` exist: nothing from Node 22, a flag before."""
    probe = [node, "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)"]
    if subprocess.run(probe, capture_output=True, timeout=10, check=False).returncode == 0:
        return []
    flagged = subprocess.run(
        [probe[0], "--experimental-websocket", *probe[1:]],
        capture_output=True,
        timeout=10,
        check=False,
    )
    if flagged.returncode != 0:
        pytest.fail("this Node.js has no global WebSocket; the guide's Option 2 needs 20.10+")
    return ["--experimental-websocket"]


def split_script(script: str, begin: str) -> tuple[str, str, str]:
    """(the wrapper before, the guide's block, the wrapper after)."""
    start, end = script.index(begin) + len(begin), script.index(END)
    return script[:start], script[start:end], script[end:]


def guide_block_in_markdown(heading: str) -> str | None:
    """The guide's first ```javascript block under `heading`, if the guide is at hand."""
    if not GUIDE_MARKDOWN.is_file():
        return None
    guide = GUIDE_MARKDOWN.read_text(encoding="utf-8")
    fenced = re.search(r"```javascript\n(.*?)```", guide[guide.index(heading) :], re.DOTALL)
    assert fenced is not None, f"no javascript block under {heading!r}"
    return fenced.group(1)


def substitute(block: str, replacements: dict[str, str]) -> str:
    """`block` with each key replaced by its value; each key must occur exactly once."""
    for old, new in replacements.items():
        assert block.count(old) == 1, f"the guide's block names {old!r} {block.count(old)} times"
        block = block.replace(old, new)
    return block


async def run_node(
    node: str, script: Path, *flags: str, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        node,
        *flags,
        str(script),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "GUIDE_TIMEOUT_MS": "30000", **(env or {})},
    )
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), NODE_LIMIT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"node did not exit within {NODE_LIMIT_S} s") from None
    assert proc.returncode is not None
    return proc.returncode, stdout.decode(), stderr.decode()


def outcome_of(stdout: str) -> dict[str, Any]:
    found = re.findall(r"^GUIDE_OUTCOME (.*)$", stdout, re.MULTILINE)
    assert len(found) == 1, f"expected one GUIDE_OUTCOME line, got:\n{stdout}"
    outcome: dict[str, Any] = json.loads(found[0])
    return outcome
