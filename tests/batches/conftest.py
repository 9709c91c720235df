"""Fixtures of the batch tests: the multi-process tests read the nodes' database directly."""

from tests.jobs.conftest import db

__all__ = ["db"]
