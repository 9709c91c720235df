"""Durable async jobs: the store, the queue port and its adapters, the worker, the endpoints.

The job system knows job types and their handlers, not practice: `practice/tasks.py` registers
the practice generation handler.
"""
