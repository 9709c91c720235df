"""Webhooks: signed, retried deliveries of a job's end to the URL its creator gave."""
