"""Question generation: builders that produce items the bank lacks, each with a verified key."""
