"""The collector runs less often while a sync runs, and as before once no run is left."""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Iterator

import pytest

from staffsync.sync.garbage import SYNC_THRESHOLDS, fewer_collections


@pytest.fixture(autouse=True)
def known_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_a_run_raises_the_thresholds_and_puts_the_previous_ones_back() -> None:
    with fewer_collections():
        assert gc.get_threshold() == SYNC_THRESHOLDS
    assert gc.get_threshold() == (700, 10, 10)


def test_the_thresholds_come_back_only_when_the_last_of_overlapping_runs_ends() -> None:
    first, second = fewer_collections(), fewer_collections()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold() == SYNC_THRESHOLDS
    second.__exit__(None, None, None)
    assert gc.get_threshold() == (700, 10, 10)


def test_a_run_that_fails_puts_the_thresholds_back_too() -> None:
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("the fetch broke")
    assert gc.get_threshold() == (700, 10, 10)


def test_collection_keeps_running_during_a_run() -> None:
    with fewer_collections():
        assert gc.isenabled()
        assert all(threshold > 0 for threshold in gc.get_threshold())


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks")
    ] + [("keepcost", ctypes.c_size_t)]


def _mapped_blocks() -> int:
    mallinfo2 = ctypes.CDLL(None).mallinfo2
    mallinfo2.restype = _MallInfo2
    return int(mallinfo2().hblks)


def test_big_blocks_freed_during_a_run_go_back_to_the_system() -> None:
    if not hasattr(ctypes.CDLL(None), "mallinfo2"):
        pytest.skip("glibc's allocator only")
    with fewer_collections():
        freed = bytearray(8 * 2**20)
        # Left to itself, glibc would now serve blocks of up to 8 MiB from the heap, which keeps freed memory.
        del freed
        before = _mapped_blocks()
        block = bytearray(4 * 2**20)
        assert _mapped_blocks() == before + 1
        del block
        assert _mapped_blocks() == before
