"""Who is calling: tenants, API keys, short-lived student tokens."""
