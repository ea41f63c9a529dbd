"""What makes a CLI process start sooner. Every command is a fresh process, and an hourly sync is mostly
start-up: imports, and the garbage collector running through them."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """For a block that builds objects living as long as the process (modules, classes, SQLAlchemy mappers,
    pydantic validators, an SDK): the cyclic collector would walk them several times over as they pile up,
    a fifth of start-up, only to find them all alive. So it waits, and then leaves what exists out of every
    later collection (`gc.freeze`): the hundreds of thousands of start-up objects are never walked again."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


@contextmanager
def more_start_up() -> Iterator[None]:
    """Start-up work that only a command knows it needs, such as the SDK the first connector of a provider
    imports (most of a second for Kombo's): treated as start-up was, in a process `main` started. A command
    driven in-process (tests) keeps its collector as it is: freezing there would keep, for good, the garbage
    of everything that ran before."""
    if gc.get_freeze_count() == 0:
        yield
        return
    with collector_paused():
        yield
