"""Storage: the engine, the migration runner and the mapped tables."""
