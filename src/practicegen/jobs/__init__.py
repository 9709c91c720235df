"""Durable async jobs: the store, the queue, the worker, the endpoints; each package registers
its job types (`registry.JobType`) and makes its jobs with `service.create_job`."""
