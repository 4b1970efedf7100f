"""Run the cas command line with `python -m ivr`."""

from ivr.cli import main

main()
