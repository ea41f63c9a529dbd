"""The filtering preview asks its source for about the rows it shows; a search or a status reads on."""

from __future__ import annotations

import itertools

from fakes import ListSource, person
from staffsync.domain.fields import FieldSettings
from staffsync.domain.filters import FilterRules
from staffsync.services.preview import preview


def test_a_page_of_the_preview_asks_the_source_for_that_many_records() -> None:
    source = ListSource([person(n) for n in range(10)])

    shown = list(itertools.islice(preview(source, FieldSettings.defaults(), FilterRules(), rows=4), 4))

    assert len(shown) == 4
    assert source.requests[-1].expected_records == 4


def test_a_search_or_a_status_reads_the_whole_source() -> None:
    source = ListSource([person(n) for n in range(10)])

    list(preview(source, FieldSettings.defaults(), FilterRules(), rows=4, last_name="last3"))
    list(preview(source, FieldSettings.defaults(), FilterRules(), rows=4, status="excluded"))
    list(preview(source, FieldSettings.defaults(), FilterRules()))

    assert [request.expected_records for request in source.requests] == [None, None, None]
