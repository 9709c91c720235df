"""What a process's job consumer is doing, set by the queue adapters, read by `/readyz`."""

from __future__ import annotations

import time
from enum import StrEnum

import structlog

log = structlog.get_logger()


class WorkerStatus(StrEnum):
    STARTING = "starting"  # opening its connections, checking the queue's tables
    RUNNING = "running"  # dequeueing, its connections up
    RECONNECTING = "reconnecting"  # a connection was lost: jobs in flight go on, none start
    STOPPED = "stopped"  # asked to stop, or its run loop ended


class WorkerState:
    def __init__(self) -> None:
        self.status = WorkerStatus.STARTING
        self.since = time.monotonic()

    def set(self, status: WorkerStatus) -> None:
        if status is not self.status:
            log.info("worker.status", status=str(status), previous=str(self.status))
            self.status, self.since = status, time.monotonic()

    @property
    def running(self) -> bool:
        return self.status is WorkerStatus.RUNNING
