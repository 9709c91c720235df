"""The HTTP edge kit every domain may use: envelopes, errors, middleware, the node's container
and generic dependencies. It imports no domain package."""
