"""The HTTP edge shared by every domain: envelopes, errors, middleware, dependencies."""
