"""Generated Kombo payloads — valid, edge-case and malformed — through the Kombo mapping, validation and the planner.

Two layers: the pure mapping + validation (many examples, microseconds each), and the real engine on the `db`
fixture (SQLite and PostgreSQL: the planner needs its snapshot queries) fed by a connector that maps generated
Kombo JSON exactly as `KomboConnector` does. Properties (issue 9 §2): no unhandled exception anywhere, every
rejection has a reason, valid values round-trip exactly (RTL, emoji, combining marks), and emails that differ only
in case never become two employees.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from connectors.kombo_payloads import minimal_employee
from fakes import NOW, TODAY, make_directory
from staffsync.connectors.base import FetchRequest, FilterOptions
from staffsync.connectors.kombo import InvalidKomboRecord, to_source_employee
from staffsync.domain.records import RejectedRecord, SourceEmployee, normalise_email
from staffsync.domain.validation import rejection
from staffsync.storage import models
from staffsync.storage.db import Database
from staffsync.sync.engine import run_sync

BERLIN = "Europe/Berlin"
ZONES = [BERLIN, "UTC", "America/Los_Angeles", "Pacific/Kiritimati", "Asia/Kolkata"]

RTL_AND_EMOJI = [
    "שרה",
    "محمد عبد الله",
    "Zoë 👩🏽‍💻",
    "José\u0301",
    "李小龍",
    "O'Brien-Łukasiewicz",
    "\u202eevil\u202c",
    "ß" * 3,
    "🧑‍🚀",
]

# NUL is excluded from generated valid text: validation refuses it (PostgreSQL cannot store it; see
# test_a_nul_character_in_a_name_is_rejected_not_a_failed_run). Surrogates cannot be encoded at all.
_TEXT_ALPHABET = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
names = st.one_of(
    st.sampled_from(RTL_AND_EMOJI),
    st.text(_TEXT_ALPHABET, min_size=1, max_size=40),
    st.text(_TEXT_ALPHABET, min_size=150, max_size=199),
)
_long_strings = st.text(_TEXT_ALPHABET, min_size=1000, max_size=5000)
edge_dates = st.sampled_from(
    [
        "0000-00-00",
        "9999-12-31",
        "9999-12-31T00:00:00.000Z",
        "0001-01-01T00:00:00Z",
        "2024-02-30",
        "2024-13-45",
        "2026-03-31T22:00:00Z",
        "2026-03-31T22:00:00+02:00",
        "",
        "   ",
        "not a date",
        "2024-01-31T23:00:00.000Z",
    ]
)
valid_instants = st.datetimes(min_value=dt.datetime(1950, 1, 1), max_value=dt.datetime(2099, 12, 31)).map(
    lambda moment: moment.replace(tzinfo=dt.UTC).isoformat().replace("+00:00", "Z")
)


def _junk(fits_columns: bool) -> st.SearchStrategy[Any]:
    """Values of the wrong shape (and, unless `fits_columns`, text far longer than any column)."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
        st.just("x" * 199) if fits_columns else _long_strings,
    )


_status_words = st.sampled_from(["ACTIVE", "PENDING", "LEAVE", "INACTIVE", "active", "ON_SABBATICAL", ""])
_type_words = st.sampled_from(
    ["FULL_TIME", "PART_TIME", "CONTRACT", "INTERNSHIP", "FREELANCE", "WORKING_STUDENT", "Mönch"]
)


def _groups(junk: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    group = st.fixed_dictionaries(
        {"id": st.one_of(st.sampled_from(["T1", "T2"]), junk), "type": st.sampled_from(["TEAM", "DEPARTMENT"])},
        optional={"name": st.one_of(names, junk)},
    )
    return st.one_of(st.lists(group, max_size=3), junk)


@st.composite
def valid_employees(draw: st.DrawFn, number: int = 1) -> dict[str, Any]:
    """SDK-valid employee JSON whose every read value is well formed: it must map without a rejection."""
    return minimal_employee(
        number,
        first_name=draw(names),
        # A name of only spaces is a blank name: one of the two must say something for the record to be valid.
        last_name=draw(names.filter(str.strip)),
        work_email=f"person{number}@acme.example",
        start_date=draw(valid_instants),
        job_title=draw(st.none() | names),
        employment_status=draw(st.sampled_from(["ACTIVE", "PENDING", "LEAVE"])),
        employment_type=draw(st.none() | st.sampled_from(["FULL_TIME", "CONTRACT", "WORKING_STUDENT"])),
    )


@st.composite
def any_employees(draw: st.DrawFn, number: int = 1, *, fits_columns: bool = False) -> dict[str, Any]:
    """Valid, edge-case or malformed: every key may be null, junk, absent, very long or an odd date.

    `fits_columns` leaves out text longer than the directory's columns (reported, see
    test_a_name_longer_than_its_column_is_rejected_not_a_failed_run)."""
    raw = draw(valid_employees(number))
    junk = _junk(fits_columns)
    long_strings = st.just("x" * 199) if fits_columns else _long_strings
    statuses = st.one_of(_status_words, junk)
    types = st.one_of(_type_words, junk)
    groups = _groups(junk)
    anything = {
        "id": st.one_of(st.just(raw["id"]), junk, st.just(""), st.just("   ")),
        "first_name": st.one_of(names, junk, long_strings),
        "last_name": st.one_of(names, junk, long_strings),
        "work_email": st.one_of(
            st.just(raw["work_email"]),
            st.just(raw["work_email"].upper()),
            st.sampled_from(["no-at-sign", "a@b", "two@@acme.example", " spaced @acme.example", "émile@acme.example"]),
            junk,
        ),
        "start_date": st.one_of(edge_dates, valid_instants, junk),
        "termination_date": st.one_of(edge_dates, valid_instants, junk),
        "remote_deleted_at": st.one_of(st.none(), valid_instants, junk),
        "employment_status": statuses,
        "employment_type": types,
        "groups": groups,
        "manager_id": st.one_of(st.none(), st.sampled_from(["E1", "E2", "nobody"]), junk),
        "legal_entity": st.one_of(st.none(), st.fixed_dictionaries({"id": junk, "name": junk}), junk),
        "work_location": st.one_of(st.none(), st.fixed_dictionaries({"id": st.just("L1"), "address": junk}), junk),
        "home_address": st.one_of(st.none(), st.fixed_dictionaries({"street_1": junk, "raw": names}), junk),
        "employee_number": st.one_of(st.none(), st.integers(), names, junk),
        "mobile_phone_number": st.one_of(st.none(), names, junk),
    }
    for key in draw(st.sets(st.sampled_from(sorted(anything)), max_size=6)):
        if draw(st.booleans()):
            raw[key] = draw(anything[key])
        else:
            raw.pop(key, None)
    return raw


def normalise(raw: dict[str, Any], timezone: str = BERLIN) -> SourceEmployee | RejectedRecord:
    """What `KomboConnector` yields for one employee: the mapping's record, or its rejection."""
    try:
        return to_source_employee(raw, timezone=timezone)
    except InvalidKomboRecord as error:
        return error.to_rejected()


# --- the pure layer ---------------------------------------------------------------------------------------------


@settings(max_examples=600, deadline=None)
@given(raw=any_employees(), timezone=st.sampled_from(ZONES))
def test_any_payload_maps_to_a_record_or_a_rejection_with_a_reason(raw: dict[str, Any], timezone: str) -> None:
    result = normalise(raw, timezone)
    if isinstance(result, RejectedRecord):
        assert result.reason.strip()
        return
    problem = rejection(result)
    assert problem is None or problem.reason.strip()


@settings(max_examples=300, deadline=None)
@given(raw=valid_employees(), timezone=st.sampled_from(ZONES))
def test_valid_names_and_titles_round_trip_exactly(raw: dict[str, Any], timezone: str) -> None:
    result = normalise(raw, timezone)
    assert isinstance(result, SourceEmployee)
    assert rejection(result) is None
    # The mapping trims outer whitespace and nothing else: RTL marks, emoji and combining accents survive.
    assert result.first_name == (raw["first_name"].strip() or None)
    assert result.last_name == (raw["last_name"].strip() or None)
    assert result.job_title == ((raw["job_title"] or "").strip() or None)
    assert result.work_email == raw["work_email"]


@settings(max_examples=200, deadline=None)
@given(raw=valid_employees(), date=st.sampled_from(["9999-12-31", "9999-12-31T00:00:00.000Z", "0001-01-01"]))
def test_the_extreme_calendar_days_are_read_as_written(raw: dict[str, Any], date: str) -> None:
    result = normalise(raw | {"start_date": "0001-01-01", "termination_date": date})
    assert isinstance(result, SourceEmployee)
    assert result.end_date == dt.date.fromisoformat(date[:10])


@pytest.mark.parametrize("instant", ["9999-12-31T23:00:00Z", "0001-01-01T00:30:00+01:00"])
def test_an_instant_whose_local_day_is_outside_the_calendar_is_a_rejection(instant: str) -> None:
    result = normalise(minimal_employee(1, start_date=instant))
    assert isinstance(result, RejectedRecord)
    assert result.field == "start_date"


def test_a_null_everywhere_payload_is_a_rejection_naming_the_missing_email() -> None:
    raw: dict[str, Any] = dict.fromkeys(minimal_employee(1), None) | {"id": "E1"}
    result = normalise(raw)
    assert isinstance(result, SourceEmployee)
    problem = rejection(result)
    assert problem is not None and problem.field == "work_email" and problem.reason


# --- through the planner: the real engine over generated feeds ----------------------------------------------------


@dataclass
class KomboJsonSource:
    """An HRConnector over generated Kombo JSON, mapping every employee as KomboConnector._employees does."""

    payloads: list[dict[str, Any]]
    provider: str = "kombo"
    supports_incremental: bool = False
    requests: list[FetchRequest] = field(default_factory=list)

    def employees(self, request: FetchRequest) -> Iterator[SourceEmployee | RejectedRecord]:
        self.requests.append(request)
        for raw in self.payloads:
            try:
                yield to_source_employee(raw, timezone=BERLIN, fields=request.fields)
            except InvalidKomboRecord as error:
                yield error.to_rejected()

    def filter_options(self) -> FilterOptions:
        return FilterOptions()


@st.composite
def feeds(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(min_value=0, max_value=12))
    found = [draw(st.one_of(valid_employees(n), any_employees(n, fits_columns=True))) for n in range(1, count + 1)]
    # The same address under other ids, differing only in case: the directory may keep one of them.
    for copy in draw(st.lists(st.sampled_from(found), max_size=3)) if found else []:
        email = copy.get("work_email")
        twin = dict(copy, id=f"{copy.get('id')}-twin")
        if isinstance(email, str):
            twin["work_email"] = draw(st.sampled_from([email.upper(), email.swapcase(), f"  {email.title()} "]))
        found.append(twin)
    return draw(st.permutations(found))


@settings(
    max_examples=25,
    deadline=None,
    # No "explain" phase: on Python 3.11 it traces every line and turned one failure into a 300 s timeout.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(payloads=feeds())
@example(payloads=[])
def test_generated_feeds_sync_without_failing_and_every_skipped_record_is_explained(
    db: Database, payloads: list[dict[str, Any]]
) -> None:
    directory = make_directory(db)
    source = KomboJsonSource(payloads)
    outcome = run_sync(
        db, directory.connection_id, account_id=directory.account_id, connector=source, now=lambda: NOW, today=TODAY
    )

    assert outcome.status == "succeeded", outcome.error
    issues = directory.issues(outcome.run_id)
    assert all(issue.message.strip() for issue in issues)
    assert len([issue for issue in issues if issue.code == "rejected"]) == outcome.counts["rejected"]
    with db.session() as session:
        keys = list(
            session.execute(
                select(models.Employee.work_email_key).where(models.Employee.account_id == directory.account_id)
            ).scalars()
        )
        employees = session.scalar(
            select(func.count()).select_from(models.Employee).where(models.Employee.account_id == directory.account_id)
        )
    assert len(keys) == len(set(keys)) == employees
    assert all(key == normalise_email(key) for key in keys)


def test_a_name_longer_than_its_column_is_rejected_not_a_failed_run(db: Database) -> None:
    directory = make_directory(db)
    source = KomboJsonSource([minimal_employee(1, first_name="Å" * 1000), minimal_employee(2)])
    outcome = run_sync(
        db, directory.connection_id, account_id=directory.account_id, connector=source, now=lambda: NOW, today=TODAY
    )
    assert outcome.status == "succeeded", outcome.error
    assert outcome.counts["rejected"] == 1
    assert len(directory.employees()) == 1


def test_a_nul_character_in_a_name_is_rejected_not_a_failed_run(db: Database) -> None:
    directory = make_directory(db)
    source = KomboJsonSource([minimal_employee(1, first_name="Ann\x00a"), minimal_employee(2)])
    outcome = run_sync(
        db, directory.connection_id, account_id=directory.account_id, connector=source, now=lambda: NOW, today=TODAY
    )
    assert outcome.status == "succeeded"
    assert outcome.counts["rejected"] == 1


def test_a_rejected_record_whose_id_is_longer_than_its_column_is_reported_not_a_failed_run(db: Database) -> None:
    """Found by the generated feeds on PostgreSQL (seed 16): a record the mapping rejects keeps its source id for
    the run's issue, and an id longer than the column (a twin `<199 chars>-twin`) failed the whole run with a
    DataError. SQLite does not enforce VARCHAR lengths, so only PostgreSQL showed it."""
    directory = make_directory(db)
    too_long = "x" * 204
    source = KomboJsonSource([minimal_employee(1, id=too_long, termination_date=1.5), minimal_employee(2)])
    outcome = run_sync(
        db, directory.connection_id, account_id=directory.account_id, connector=source, now=lambda: NOW, today=TODAY
    )
    assert outcome.status == "succeeded", outcome.error
    assert outcome.counts["rejected"] == 1
    assert [issue.code for issue in directory.issues(outcome.run_id)] == ["rejected"]
    assert len(directory.employees()) == 1
