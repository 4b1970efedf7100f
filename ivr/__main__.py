"""Run the cas command line with `python -m ivr`."""

from .cli import main

main()
