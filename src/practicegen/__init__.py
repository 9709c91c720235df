"""practicegen: assigns practice to students and generates, verified, what the bank lacks."""

__version__ = "0.1.0"
__all__ = ["__version__"]
