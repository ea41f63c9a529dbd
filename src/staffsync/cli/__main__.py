"""`python -m staffsync.cli …`, the same as the `staffsync` script: handy with `python -X importtime`."""

from staffsync.cli.app import main

main()
