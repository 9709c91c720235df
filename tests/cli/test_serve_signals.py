"""`serve` stopped as a supervisor or a terminal stops it (SIGTERM or SIGINT) shuts down
gracefully and exits 0, on either backend."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from tests.guide.serve import practicegen_serve


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
async def test_serve_stopped_by_a_signal_exits_0(
    database_url: str, tmp_path: Path, signum: signal.Signals
) -> None:
    async with practicegen_serve(
        database_url, tmp_path, PRACTICEGEN_POOLS_AT_START="false", PRACTICEGEN_LOG_LEVEL="INFO"
    ) as serve:
        serve.process.send_signal(signum)
        status = await asyncio.wait_for(serve.process.wait(), 60)
        log = serve.log_tail(200)
        assert status == 0, f"exit {status}:\n{log}"
        assert "Traceback" not in log, log
        assert "Application shutdown complete" in log, log  # the lifespan ended, not cut short
