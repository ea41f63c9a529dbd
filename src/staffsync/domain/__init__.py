"""The pure core: no I/O, no clock, no framework. Everything here is tested without a database."""
