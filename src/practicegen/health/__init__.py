"""Liveness and readiness: whether this node answers, and whether it can do its job."""
