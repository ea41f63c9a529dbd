"""The `staffsync` command line (entry point `staffsync.cli:main`)."""

from staffsync.cli.app import app, main

__all__ = ["app", "main"]
