"""Fewer cyclic garbage collections while a sync runs, and freed memory that goes back to the system.

A sync allocates millions of small objects (SDK models, JSON dicts, change records) and keeps few: with
the default thresholds the collector runs a generation-0 pass every 700 allocations and keeps re-scanning
the long-lived heap (SQLAlchemy, pydantic, the SDK's models), which cost a quarter of a 10,000-person first
sync's CPU time. Collection must not stop, though: the Kombo SDK builds a throwaway pydantic model class per
parsed value (reference cycles, with their schema validators), and garbage left for rare full collections
grows the peak memory of a 10,000-person fetch by tens of MiB. The previous thresholds come back when the
last concurrent run ends.

glibc's allocator serves a big block (a page of the source's JSON, a few MiB) from a memory map it unmaps
when the block is freed, but each such unmap raises its threshold for the next ones, up to 32 MiB: after the
first pages, every big block comes from the heap instead, and the heap only shrinks from its top, so a
50,000-person sync kept 40 MiB freed but still resident. A fixed threshold keeps big blocks out of the heap.
"""

from __future__ import annotations

import ctypes
import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

# Measured at 10,000 people against the default (700, 10, 10): a first sync takes 5.5 instead of 7.3 s of
# CPU at the same peak memory, an unchanged full re-sync 2.3 instead of 3.2 s at 202 instead of 189 MiB.
# (50,000, 20, 100) saves another second of a first sync but lets a re-sync peak at 259 MiB.
SYNC_THRESHOLDS: Final = (20_000, 5, 5)

# mallopt's M_MMAP_THRESHOLD, and glibc's default (and smallest sensible) value for it.
_M_MMAP_THRESHOLD: Final = -3
MMAP_THRESHOLD: Final = 128 * 1024

_lock = threading.Lock()
_running = 0
_saved: tuple[int, int, int] = gc.get_threshold()
_threshold_fixed = False


def fix_mmap_threshold() -> bool:
    """Process-wide and for good, once: a server keeps the same benefit between runs. False where the C
    library is not glibc (no mallopt): nothing to do there."""
    global _threshold_fixed
    if not _threshold_fixed:
        try:
            mallopt = ctypes.CDLL(None).mallopt
        except (OSError, AttributeError, TypeError):
            return False
        mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
        _threshold_fixed = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    return _threshold_fixed


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Process-wide while any run is inside: runs in threads of one server share the collector."""
    global _running, _saved
    with _lock:
        fix_mmap_threshold()
        if _running == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(*SYNC_THRESHOLDS)
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0:
                gc.set_threshold(*_saved)
