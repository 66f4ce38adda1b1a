"""``python -m gridtwin``: the same command line as ``gridtwin``."""

from gridtwin.cli import main

main()
