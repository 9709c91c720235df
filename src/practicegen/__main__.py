"""`python -m practicegen` runs the command line, like the `practicegen` script."""

from practicegen.cli import main

main()
