"""Durable async jobs: the job store port and its adapters, the queue, the worker, the endpoints.

The job system knows job types, not what they do: each package registers its types
(`registry.JobType`: handler, webhook events, student view) and makes its jobs with
`service.create_job`; `app.py` wires both.
"""
