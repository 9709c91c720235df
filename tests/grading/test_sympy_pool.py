"""The node's sympy processes: started ahead of the first jobs, with the code they run loaded."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from practicegen.generation.procedural import mathparse as mp

PROBE = textwrap.dedent(
    """
    import asyncio, sys
    from practicegen.grading.sympy_pool import RUNS, SympyPool
    from practicegen.grading.grader import Grader

    async def main():
        Grader(workers=1)  # another pool of the node, built first: its list must not replace ours
        pool = SympyPool(2)
        try:
            await pool.start()
            probe = f"sorted(m for m in {RUNS!r} if m in __import__('sys').modules)"
            print(await pool.run(eval, "__import__('gc').get_freeze_count()", timeout_s=10))
            print(await pool.run(eval, probe, timeout_s=10))
            print(sorted(RUNS))
        finally:
            await pool.aclose()

    asyncio.run(main())
    """
)


def test_a_started_pool_has_the_code_it_runs_loaded_before_its_first_call() -> None:
    """The fork server imported it once; no process of the pool imports it in a job's time, nor
    has its collector walk what the server loaded (sympy and the rest: some 60,000 objects)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    frozen, loaded, runs = done.stdout.splitlines()[-3:]
    assert loaded == runs
    assert int(frozen) > 50_000


def test_solving_twice_the_same_text_gives_the_same_set() -> None:
    """The solve cache returns the first result again (a model's question is checked twice)."""
    x = mp.VARIABLES["x"]
    first = mp.solve_equation("3*x + 4 = 19", x)
    assert mp.solve_equation("3*x + 4 = 19", x) is first
    assert first == mp.solution_set("x = 5", x)
    assert mp.solve_equation("3*x + 4 = 22", x) != first


RECOVERY = textwrap.dedent(
    """
    import asyncio, os, signal
    from concurrent.futures.process import BrokenProcessPool
    from practicegen.grading.sympy_pool import SympyPool

    async def main():
        pool = SympyPool(1)
        try:
            victim = await pool.run(os.getpid, timeout_s=30)
            os.kill(victim, signal.SIGKILL)
            try:
                await pool.run(os.getpid, timeout_s=30)
            except BrokenProcessPool:
                print("broken")
            print(await pool.run(os.getpid, timeout_s=30) != victim)
        finally:
            await pool.aclose()

    if __name__ == "__main__":
        asyncio.run(main())
    """
)


def last_line(source: str, tmp_path: Path, *args: str) -> str:
    """What the script `source` prints last, run in a process of its own (its pools fork from
    a fork server of its own)."""
    script = tmp_path / "probe.py"
    script.write_text(source)
    command = [sys.executable, str(script), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.splitlines()[-1]


def test_a_pool_whose_process_was_killed_serves_the_next_call_from_new_processes(
    tmp_path: Path,
) -> None:
    """The killed process fails the call in flight or the next one, never every later one."""
    assert last_line(RECOVERY, tmp_path) == "True"


LATE = textwrap.dedent(
    """
    import asyncio, time
    from practicegen.grading.sympy_pool import SympyPool

    async def main():
        pool = SympyPool(1)
        try:
            await pool.start()
            call = asyncio.create_task(pool.run(time.sleep, 0.05, timeout_s=0.2))
            await asyncio.sleep(0)  # the call is in its process
            time.sleep(0.6)  # the loop runs late: result and deadline are both due at once
            try:
                await call
                print("used")
            except TimeoutError:
                print("timed out")
        finally:
            await pool.aclose()

    if __name__ == "__main__":
        asyncio.run(main())
    """
)


def test_a_result_that_reaches_a_late_loop_after_its_deadline_is_not_used(
    tmp_path: Path,
) -> None:
    """Whether the deadline holds does not depend on the order the loop runs ready callbacks."""
    assert last_line(LATE, tmp_path) == "timed out"


SLOW_START = textwrap.dedent(
    """
    import asyncio, time
    from concurrent.futures import ProcessPoolExecutor
    from practicegen.grading.sympy_pool import SympyPool

    class SlowToStart(SympyPool):
        def _executor(self):
            if self._pool is None:  # each process takes 3 s to start
                self._pool = ProcessPoolExecutor(
                    self.workers, mp_context=self._context, initializer=time.sleep, initargs=(3,)
                )
            return self._pool

    async def main():
        pool = SlowToStart(2)
        try:
            calls = [pool.run(abs, -n, timeout_s=1.0) for n in range(5)]
            slow = pool.run(time.sleep, 5, timeout_s=1.0)  # its own work still has its deadline
            outcomes = await asyncio.gather(*calls, slow, return_exceptions=True)
            print([type(o).__name__ if isinstance(o, Exception) else o for o in outcomes])
        finally:
            await pool.aclose()

    if __name__ == "__main__":
        asyncio.run(main())
    """
)


def test_calls_on_a_pool_not_started_get_their_deadline_for_their_own_work(
    tmp_path: Path,
) -> None:
    """A lazily started pool's start is not charged to the calls that wait for it: a key check
    on a node started without warm pools is not refused as too slow to read."""
    assert last_line(SLOW_START, tmp_path) == "[0, 1, 2, 3, 4, 'TimeoutError']"


FIRST_GRADE = textwrap.dedent(
    """
    import sys, time
    from practicegen.grading.grade import grade_answer
    from practicegen.grading.grades import AnswerKey
    from practicegen.ports import AnswerPolicy, ItemType

    if sys.argv[1] == "warm":
        import practicegen.grading.warm
    started = time.process_time()
    grade_answer("(x-2)(x+2)", AnswerKey(ItemType.EXPRESSION, "x^2-4", AnswerPolicy.EQUIVALENT))
    print(time.process_time() - started)
    """
)


def test_the_fork_servers_warm_up_spares_its_processes_sympys_first_grading(
    tmp_path: Path,
) -> None:
    """What the fork server preloads last (`WARM_UP`) does sympy's first grading, so a process
    forked from it grades its first answer in a fraction of the CPU time a cold one takes."""
    warm, cold = (float(last_line(FIRST_GRADE, tmp_path, state)) for state in ("warm", "cold"))
    assert 3 * warm < cold


FAILED_START = textwrap.dedent(
    """
    import asyncio, os
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool
    from practicegen.grading.sympy_pool import SympyPool

    class FailsToStartOnce(SympyPool):
        failed = False

        def _executor(self):
            if self._pool is None and not self.failed:  # its first processes exit at once
                self.failed = True
                self._pool = ProcessPoolExecutor(
                    1, mp_context=self._context, initializer=os._exit, initargs=(1,)
                )
            return super()._executor()

    async def main():
        pool = FailsToStartOnce(1)
        try:
            try:
                await pool.run(abs, -1, timeout_s=5)
            except BrokenProcessPool:
                print("broken")
            print(await pool.run(abs, -2, timeout_s=5))
        finally:
            await pool.aclose()

    if __name__ == "__main__":
        asyncio.run(main())
    """
)


def test_a_pool_that_failed_to_start_starts_again_at_the_next_call(tmp_path: Path) -> None:
    """A failed start is not remembered: the call that waited for it fails (a 503), the next
    one starts new processes."""
    assert last_line(FAILED_START, tmp_path) == "2"


WARM_FAILS = textwrap.dedent(
    """
    import practicegen.grading.grade as grade

    def broken(*args):
        raise RuntimeError("sympy failed")

    grade.grade_answer = broken
    import practicegen.grading.warm
    print("imported")
    """
)


def test_a_warm_up_that_fails_does_not_fail_the_fork_servers_import(tmp_path: Path) -> None:
    """The fork server stops at a preload that raises anything but ImportError; a failed
    warm-up only leaves its processes cold."""
    assert last_line(WARM_FAILS, tmp_path) == "imported"


PRELOAD = textwrap.dedent(
    """
    import importlib, sys
    from practicegen.grading.sympy_pool import RUNS, WARM_UP

    for name in (*RUNS, WARM_UP):
        importlib.import_module(name)
    print(sorted({m.partition(".")[0] for m in sys.modules} & set(sys.argv[1:])))
    """
)


def test_the_fork_servers_preload_imports_no_database_web_or_model_library(tmp_path: Path) -> None:
    """Every process of a node's pools starts from this list: it holds sympy's work only, so
    the fork server neither spends its start nor its forks' memory on the rest of the node."""
    unwanted = ("sqlalchemy", "psycopg", "aiosqlite", "pgqueuer", "fastapi", "openai", "httpx")
    assert last_line(PRELOAD, tmp_path, *unwanted) == "[]"
