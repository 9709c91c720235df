"""The TypeScript client's own suite, run from here so that one test command runs everything.

`clients/js` has unit tests of the client and the React hook (vitest, React Testing Library)
and an integration test against a real `practicegen serve`, which it starts from this
virtualenv's `practicegen` command. Node 20 with npm is required: a missing `npm` fails the
test, it never skips.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "js"


def test_the_js_client_suite_passes() -> None:
    npm = shutil.which("npm")
    assert npm is not None, "npm (Node 20) is needed to test clients/js"
    installed = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        check=False,
        cwd=CLIENT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert installed.returncode == 0, installed.stderr[-4000:]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRACTICEGEN_")}
    env["PRACTICEGEN_BIN"] = str(Path(sys.executable).parent / "practicegen")
    tested = subprocess.run(
        [npm, "test"], check=False, cwd=CLIENT, env=env, capture_output=True, text=True, timeout=600
    )
    assert tested.returncode == 0, tested.stdout[-6000:] + tested.stderr[-4000:]
    assert " passed" in tested.stdout and " failed" not in tested.stdout
