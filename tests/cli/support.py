"""Running `practicegen` as a user does: a process in a folder of its own, with only the
settings the test gives it.

`run_cli_fresh` starts a new interpreter (`python -m practicegen`), as a shell would: what
that adds to a command is the start-up imports and the interpreter's own exit, and each
command keeps at least one test that runs it so. `run_cli` forks the test's process instead,
whose imports are done, and runs the same `__main__` in the child with the command's folder,
environment, argv and standard streams (real file descriptors), and Python's own hooks for
uncaught exceptions, unraisable ones and warnings: its exit code, stdout and stderr are those
of the command, for a fraction of the CPU (a fresh interpreter spends seconds importing).
"""

from __future__ import annotations

import contextlib
import gc
import io
import locale
import logging
import os
import runpy
import select
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
import warnings
from multiprocessing import forkserver, resource_tracker
from pathlib import Path
from typing import IO, Any, NoReturn

import structlog

TIMEOUT_S = 120


def cli_env(workdir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRACTICEGEN_")}
    env["PRACTICEGEN_DATABASE_URL"] = f"sqlite+aiosqlite:///{workdir / 'practicegen.db'}"
    env["COLUMNS"] = "100"
    env.update(extra)
    return env


def run_cli_fresh(workdir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m practicegen ARGS` in a new interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "practicegen", *args],
        cwd=workdir,
        env=cli_env(workdir, **env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


def run_cli(workdir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`practicegen ARGS` in a child forked from this process (see the module's docstring).

    Only from a synchronous test: the child must not inherit a running event loop."""
    command = ["practicegen", *args]
    environment = cli_env(workdir, **env)
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        pid = os.fork()
        if pid == 0:
            _child(command, workdir, environment, stdout.fileno(), stderr.fileno())
        returncode = _wait(pid, command)
        return subprocess.CompletedProcess(command, returncode, _text(stdout), _text(stderr))


def _wait(pid: int, command: list[str]) -> int:
    pidfd = os.pidfd_open(pid)
    try:
        if not select.select([pidfd], [], [], TIMEOUT_S)[0]:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise subprocess.TimeoutExpired(command, TIMEOUT_S)
    finally:
        os.close(pidfd)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def _text(stream: IO[bytes]) -> str:
    """What the child wrote, decoded as `subprocess.run(text=True)` decodes it."""
    stream.seek(0)
    encoding = locale.getpreferredencoding(False)
    return io.TextIOWrapper(io.BytesIO(stream.read()), encoding=encoding).read()


def _child(
    command: list[str], workdir: Path, env: dict[str, str], stdout: int, stderr: int
) -> NoReturn:
    """Become the command: never returns to the test, whatever happens."""
    code = 1
    try:
        gc.freeze()  # the parent's objects stay shared: a collection would copy every page
        os.chdir(workdir)
        os.environ.clear()
        os.environ.update(env)
        _standard_streams(stdout, stderr)
        _as_a_fresh_interpreter()
        sys.argv = command
        code = _run_main()
        _finish()
    except BaseException:
        with contextlib.suppress(BaseException):
            traceback.print_exc()
    finally:
        os._exit(code)


def _standard_streams(stdout: int, stderr: int) -> None:
    """Descriptors 0, 1 and 2 as a piped command has them, and Python's objects over them."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(stdout, 1)
    os.dup2(stderr, 2)
    encoding = locale.getpreferredencoding(False)
    sys.stdin = open(0, encoding=encoding, closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", encoding=encoding, closefd=False)  # noqa: SIM115
    sys.stderr = open(  # noqa: SIM115
        2, "w", encoding=encoding, errors="backslashreplace", buffering=1, closefd=False
    )


def _as_a_fresh_interpreter() -> None:
    """Undo what the test runner set up in this process: Python's hooks print to stderr,
    warnings are filtered and shown as by default, no helper process of multiprocessing runs yet,
    logging and structlog are unconfigured, and signals have their default handlers."""
    sys.excepthook = sys.__excepthook__
    sys.unraisablehook = sys.__unraisablehook__
    threading.excepthook = threading.__excepthook__
    warnings.resetwarnings()  # Python's default filters, inserted last to first
    for category in (ResourceWarning, ImportWarning, PendingDeprecationWarning, DeprecationWarning):
        warnings.simplefilter("ignore", category)
    warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
    warnings.showwarning = _show_warning
    # this process's fork server and resource tracker are the parent's children, not its own
    # (waiting on them fails): it starts its own, as a new interpreter does
    forkserver._forkserver.__init__()  # type: ignore[misc]
    resource_tracker._resource_tracker.__init__()  # type: ignore[misc]
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(logging.WARNING)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    with contextlib.suppress(ValueError):  # the parent's event loop may have taken it
        signal.set_wakeup_fd(-1)
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGALRM, signal.SIGCHLD):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def _run_main() -> int:
    """`python -m practicegen`'s run: its exit code as the interpreter makes it."""
    try:
        runpy.run_module("practicegen", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        if exc.code is None:
            return 0
        if isinstance(exc.code, int):
            return exc.code & 0xFF
        print(exc.code, file=sys.stderr)
        return 1
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def _finish() -> None:
    """The interpreter's exit: wait for threads that are not daemons, collect what is left
    (its finalisers report to stderr, as at a real exit), flush the streams."""
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    gc.collect()
    sys.stdout.flush()
    sys.stderr.flush()


def assert_explained(
    result: subprocess.CompletedProcess[str], exit_code: int, *phrases: str
) -> str:
    """The command failed with `exit_code` and one paragraph on stderr holding `phrases`: no
    traceback, no log line, nothing on stdout. Returns the message."""
    message = result.stderr.strip()
    assert result.returncode == exit_code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and 'File "' not in result.stderr, result.stderr
    assert "\n\n" not in message and not message.startswith("{"), message
    assert result.stdout == "", result.stdout
    for phrase in phrases:
        assert phrase in message, (phrase, message)
    return message
