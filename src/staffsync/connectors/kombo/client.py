"""`KomboConnector`: the HRConnector Protocol over the unmodified official `kombo` SDK.

One `kombo.Kombo` client per connector, so per integration id: the SDK sends `X-Integration-Id` from its
constructor on every HRIS call. The SDK retries nothing unless told to, so every connector passes a
RetryConfig (429, 500, 502, 503, 504 and transport errors, honouring `Retry-After` up to the retry window);
whatever still fails becomes a ConnectorError in plain words (errors.py) and the engine applies nothing.
Employee records reach the mapping as the JSON Kombo sent, not through the SDK's models (raw_pages.py).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import operator
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal, Protocol, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from kombo import Kombo
from kombo.hris import Hris
from kombo.models import (
    GetHrisGroupsResponse,
    GetHrisLegalEntitiesResponse,
    GetHrisLocationsResponse,
)
from kombo.types.basemodel import Unset
from kombo.utils.retries import BackoffStrategy, RetryConfig
from pydantic import SecretStr

from staffsync.connectors.base import ConnectorError, FailureKind, FetchRequest, FilterOptions
from staffsync.connectors.kombo.errors import KomboErrorTranslator
from staffsync.connectors.kombo.mapping import (
    EMPLOYEE_SHAPE,
    TEAM,
    CatalogueKind,
    InvalidKomboRecord,
    KomboCatalogue,
    KomboGroup,
    KomboPlace,
    Shape,
    catalogue_needs,
    employment_type_of,
    to_source_employee,
)
from staffsync.connectors.kombo.raw_pages import RawEmployeePages, network_transport
from staffsync.domain.records import FilterOption, RejectedRecord, SourceEmployee
from staffsync.domain.values import EmploymentType

DEFAULT_SERVER_URL: Final = "https://api.kombo.dev/v1"
MAX_PAGE_SIZE: Final = 250
DEFAULT_TIMEOUT_MS: Final = 60_000

# Pages in a row that bring no record the listing has not already served, before it counts as going round
# in circles: Kombo may serve an odd empty or repeated page, never ten in a row in a listing that ends.
MAX_PAGES_WITHOUT_PROGRESS: Final = 10


R = TypeVar("R")
T = TypeVar("T")


def retry_config(
    *,
    initial_ms: int = 1_000,
    max_interval_ms: int = 30_000,
    max_elapsed_ms: int = 120_000,
    exponent: float = 2.0,
    jitter_ms: int | None = None,
) -> RetryConfig:
    """Exponential backoff from about a second, as Kombo recommends. The SDK uses `Retry-After` (or
    `retry-after-ms`) instead of the backoff when Kombo sends one. `jitter_ms=None` is the SDK's default
    jitter of up to a second; tests pass 0 with a tiny `initial_ms` and `max_elapsed_ms`."""
    return RetryConfig(
        "backoff",
        BackoffStrategy(initial_ms, max_interval_ms, exponent, max_elapsed_ms, jitter_ms=jitter_ms),
        retry_connection_errors=True,
    )


@dataclass(frozen=True, slots=True)
class RetryAfterCap:
    """An httpx response hook that shortens a `Retry-After` (seconds or HTTP-date) or `retry-after-ms`
    longer than `limit_s`, the retry window, to `limit_s`. The SDK sleeps for whatever Kombo asks, unbounded
    by its own limits: a 429 asking for an hour would park the sync, and the lock it holds, for an hour.
    Capped, the SDK tries once more after the window and then gives up, so the run fails in time."""

    limit_s: float

    def __call__(self, response: httpx.Response) -> None:
        wait = _retry_after_s(response.headers.get("retry-after"))
        if wait is not None and wait > self.limit_s:
            response.headers["retry-after"] = f"{self.limit_s:g}"
        wait_ms = _number(response.headers.get("retry-after-ms", ""))
        if wait_ms is not None and wait_ms > self.limit_s * 1000:
            response.headers["retry-after-ms"] = f"{self.limit_s * 1000:g}"


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _retry_after_s(header: str | None) -> float | None:
    if not header:
        return None
    seconds = _number(header)
    if seconds is not None:
        return seconds
    try:
        moment = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return (moment - dt.datetime.now(dt.UTC)).total_seconds()


class KomboConnector:
    """Reads one Kombo integration's employees. Use it as a context manager (or call `close()`) to release
    the HTTP client. `transport` replaces the network under the SDK's client (tests pass a MockTransport)."""

    provider = "kombo"
    supports_incremental = True

    def __init__(
        self,
        api_key: str | SecretStr,
        integration_id: str,
        *,
        timezone: str,
        server_url: str = DEFAULT_SERVER_URL,
        retry: RetryConfig | None = None,
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
        page_size: int = MAX_PAGE_SIZE,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        secret = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
        if not secret.strip():
            raise ValueError("the Kombo API key is empty")
        if not integration_id.strip():
            # An empty id would make the SDK fall back to the INTEGRATION_ID environment variable.
            raise ValueError("the Kombo integration id is empty")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, not {page_size}")
        if timeout_ms < 1:
            raise ValueError("timeout_ms must be positive")
        try:
            self._zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {timezone!r}") from None
        self.integration_id = integration_id
        self.server_url = server_url.rstrip("/")
        self.page_size = page_size
        self.retry = retry if retry is not None else retry_config()
        backoff = self.retry.backoff if self.retry.strategy == "backoff" else None
        self._errors = KomboErrorTranslator(
            integration_id=integration_id,
            server_url=self.server_url,
            timeout_s=timeout_ms / 1000,
            retry_window_s=backoff.max_elapsed_time / 1000 if backoff else None,
            secrets=(secret,),
        )
        # The SDK's own default client, made here so that the Retry-After cap and the raw employee pages can
        # hook into it.
        self._pages = RawEmployeePages(transport or network_transport(self.server_url))
        hooks: list[Callable[[httpx.Response], None]] = []
        if backoff is not None:
            hooks.append(RetryAfterCap(backoff.max_elapsed_time / 1000))
        self._client = httpx.Client(follow_redirects=True, transport=self._pages, event_hooks={"response": hooks})
        # A callable key keeps the secret out of the SDK configuration's repr.
        self._sdk = Kombo(
            api_key=lambda: secret,
            integration_id=integration_id,
            server_url=self.server_url,
            client=self._client,
            retry_config=self.retry,
            timeout_ms=timeout_ms,
        )

    def __repr__(self) -> str:
        return f"KomboConnector(integration_id={self.integration_id!r}, server_url={self.server_url!r})"

    def __enter__(self) -> KomboConnector:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        # The SDK's __exit__ closes the client it made (not one passed in); the SDK leaves it unannotated.
        self._sdk.__exit__(None, None, None)  # type: ignore[no-untyped-call]
        self._client.close()

    @property
    def _hris(self) -> Hris:
        return self._sdk.hris

    # --- HRConnector ------------------------------------------------------------------------------

    def employees(self, request: FetchRequest) -> Iterator[SourceEmployee | RejectedRecord]:
        """Every employee, or every employee changed since `request.updated_after`, tombstones included
        (a deleted person must detach, in a full fetch as much as an incremental one)."""
        page_size = self.page_size
        if request.expected_records is not None:
            page_size = max(1, min(page_size, request.expected_records))
        return self._employees(request.fields, _utc(request.updated_after), page_size)

    def filter_options(self) -> FilterOptions:
        """Legal entities and teams from Kombo's lists, plus those only seen on employees; the employment
        types the current (non-deleted) employees have, normalised."""
        groups = self._load_groups()
        entities = {
            place.id: FilterOption(place.id, place.name or place.id)
            for place in self._load_places("legal entities").values()
            if not place.deleted
        }
        teams = _team_options(groups)
        types: set[EmploymentType] = set()
        for results in self._employee_pages(updated_after=None, include_deleted=False, page_size=self.page_size):
            for employee in results:
                _collect_options(employee, entities=entities, teams=teams, types=types)
        return FilterOptions(
            legal_entities=tuple(sorted(entities.values(), key=lambda o: (o.name.casefold(), o.id))),
            employment_types=tuple(FilterOption(t.value, _option_label(t.value)) for t in EmploymentType if t in types),
            teams=tuple(sorted(teams.values(), key=lambda o: (o.name.casefold(), o.id))),
        )

    # --- the stream -------------------------------------------------------------------------------

    def _employees(
        self, fields: frozenset[str], updated_after: dt.datetime | None, page_size: int
    ) -> Iterator[SourceEmployee | RejectedRecord]:
        catalogue = KomboCatalogue()
        loaded: set[CatalogueKind] = set()
        pages = self._employee_pages(updated_after=updated_after, include_deleted=True, page_size=page_size)
        for results in pages:
            raws = [_projected(cast("Mapping[str, object]", employee), EMPLOYEE_SHAPE) for employee in results]
            needs: set[CatalogueKind] = set()
            for raw in raws:
                needs |= catalogue_needs(raw, fields=fields) - loaded
            if needs:
                # Kombo's lists are read only when an embedded object lacks a name or a country, and once.
                catalogue = self._complete(catalogue, needs)
                loaded |= needs
            for raw in raws:
                try:
                    yield to_source_employee(raw, timezone=self._zone, fields=fields, catalogue=catalogue)
                except InvalidKomboRecord as error:
                    yield error.to_rejected()

    def _complete(self, catalogue: KomboCatalogue, needs: Collection[CatalogueKind]) -> KomboCatalogue:
        groups, entities, locations = catalogue.groups, catalogue.legal_entities, catalogue.locations
        if "groups" in needs:
            groups = self._load_groups()
        if "legal_entities" in needs:
            entities = self._load_places("legal entities")
        if "locations" in needs:
            locations = self._load_places("locations")
        return KomboCatalogue(groups=groups, legal_entities=entities, locations=locations)

    def _employee_pages(
        self, *, updated_after: dt.datetime | None, include_deleted: bool, page_size: int
    ) -> Iterator[Sequence[object]]:
        """Pages of employees as plain JSON (raw_pages.py): the SDK makes each call, the records skip its models."""

        def fetch(cursor: str | None = None) -> _EmployeesPage | None:
            self._pages.forget()
            try:
                response = self._hris.get_employees(
                    cursor=cursor, page_size=page_size, updated_after=updated_after, include_deleted=include_deleted
                )
                results = self._pages.take()
            finally:
                # A failed page's people (SSNs, bank details) must not wait in memory for the next one.
                self._pages.forget()
            if response is None:
                return None
            if results is None:
                raise ConnectorError(
                    FailureKind.INVALID_RESPONSE,
                    "Kombo sent a response staffsync cannot read: the page's employees could not be read as JSON",
                )
            _require_ids(results)
            return _EmployeesPage(results, response.result.data.next)

        # The cursor is passed with the same filters rather than through the SDK's `next()`: that sends the
        # same request, but first parses the whole page's JSON a second time.
        return self._paginate(
            fetch,
            page=lambda response: (response.results, response.next),
            follow=lambda response: fetch(response.next),
            what="employees",
            identify=_raw_id,
        )

    def _load_groups(self) -> dict[str, KomboGroup]:
        groups: dict[str, KomboGroup] = {}
        pages = self._paginate(
            # Deleted groups too: a name is a name, and filter options leave the deleted ones out.
            lambda: self._hris.get_groups(page_size=self.page_size, include_deleted=True),
            page=lambda response: (response.result.data.results, response.result.data.next),
            follow=lambda response: cast("GetHrisGroupsResponse | None", response.next()),
            what="groups",
        )
        for results in pages:
            for group in results:
                groups[group.id] = KomboGroup(
                    group.id, group.name, group.type, group.parent_id, deleted=group.remote_deleted_at is not None
                )
        return groups

    def _load_places(self, what: Literal["legal entities", "locations"]) -> dict[str, KomboPlace]:
        places: dict[str, KomboPlace] = {}
        results: Iterator[Sequence[_Place]]
        if what == "legal entities":
            results = self._paginate(
                lambda: self._hris.get_legal_entities(page_size=self.page_size, include_deleted=True),
                page=lambda response: (response.result.data.results, response.result.data.next),
                follow=lambda response: cast("GetHrisLegalEntitiesResponse | None", response.next()),
                what=what,
            )
        else:
            results = self._paginate(
                lambda: self._hris.get_locations(page_size=self.page_size, include_deleted=True),
                page=lambda response: (response.result.data.results, response.result.data.next),
                follow=lambda response: cast("GetHrisLocationsResponse | None", response.next()),
                what=what,
            )
        for page in results:
            for place in page:
                address = _set(place.address)
                country = _text(address.country) if address is not None else None
                places[place.id] = KomboPlace(
                    place.id, place.name, country, deleted=place.remote_deleted_at is not None
                )
        return places

    def _paginate(
        self,
        first: Callable[[], R | None],
        *,
        page: Callable[[R], tuple[Sequence[T], str | None]],
        follow: Callable[[R], R | None],
        what: str,
        identify: Callable[[T], object] = operator.attrgetter("id"),
    ) -> Iterator[Sequence[T]]:
        """Follows Kombo's cursors (`follow` re-sends every original filter with the next cursor). A
        cursor Kombo already gave would serve the same pages forever, and so would fresh cursors that keep
        serving records already served: either way the fetch stops as incomplete."""
        number = 1
        response = self._call(first, what=what, page=number)
        cursors: set[str] = set()
        served: set[object] = set()
        idle = 0
        while response is not None:
            results, cursor = page(response)
            before = len(served)
            served.update(identify(item) for item in results)
            idle = idle + 1 if len(served) == before else 0
            yield results
            if cursor is None or not cursor.strip():
                return
            if cursor in cursors:
                raise ConnectorError(
                    FailureKind.INCOMPLETE,
                    f"Kombo's {what} came back to a page it had already served (pagination loop at page "
                    f"{number}): the fetch is incomplete",
                    details={"request": what, "page": str(number)},
                )
            if idle >= MAX_PAGES_WITHOUT_PROGRESS:
                raise ConnectorError(
                    FailureKind.INCOMPLETE,
                    f"Kombo's {what} served {idle} pages in a row with nothing new (pages {number - idle + 1} to "
                    f"{number}), each with a fresh cursor: the fetch is incomplete",
                    details={"request": what, "page": str(number)},
                )
            cursors.add(cursor)
            number += 1
            response = self._call(functools.partial(follow, response), what=what, page=number)

    def _call(self, call: Callable[[], R], *, what: str, page: int) -> R:
        try:
            return call()
        except Exception as error:
            translated = self._errors.translate(error, what=what, page=page)
            if translated is None:
                raise
            # Not chained: the SDK's exception text can quote the response body, which holds personal data.
            raise translated from None


class _Address(Protocol):
    @property
    def country(self) -> str | Unset | None: ...


class _Place(Protocol):
    """What `_load_places` reads of a Kombo legal entity or location: both SDK models have it."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str | None: ...

    @property
    def remote_deleted_at(self) -> dt.datetime | None: ...

    @property
    def address(self) -> _Address | Unset | None: ...


@dataclass(frozen=True, slots=True)
class _EmployeesPage:
    results: list[object]
    next: str | None


def _raw_id(record: object) -> object:
    return record.get("id") if isinstance(record, dict) else None


def _require_ids(results: Sequence[object]) -> None:
    """A page whose records are not objects with an id fails the fetch, as the SDK's models would have: such a
    record cannot be told apart from anyone, so a full fetch could not say who is no longer there. Any other
    unreadable value rejects only its own person (mapping.py)."""
    for position, record in enumerate(results):
        remote_id = _raw_id(record)
        if not isinstance(remote_id, str) or not remote_id.strip():
            problem = "is not an object" if not isinstance(record, dict) else "has no `id`"
            raise ConnectorError(
                FailureKind.INVALID_RESPONSE,
                f"Kombo sent a response staffsync cannot read: employee {position + 1} of the page {problem}",
            )


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    """The SDK sends a naive datetime without a zone, which Kombo would read in its own way: always UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _projected(record: Mapping[str, object], shape: Shape) -> dict[str, object]:
    """The keys of `shape` in one employee's JSON: the SSN, bank accounts, date of birth and custom fields
    Kombo sends never reach the mapping."""
    found: dict[str, object] = {}
    for key, inner in shape.items():
        if key not in record:
            continue
        value = record[key]
        if inner is not None:
            if isinstance(value, dict):
                value = _projected(value, inner)
            elif isinstance(value, list):
                value = [_projected(item, inner) if isinstance(item, dict) else item for item in value]
        found[key] = value
    return found


def _set(value: R | Unset | None) -> R | None:
    return None if isinstance(value, Unset) else value


def _text(value: object) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _team_options(groups: dict[str, KomboGroup]) -> dict[str, FilterOption]:
    """Teams labelled with their ancestors' names ("Engineering / Platform"): two teams may share a name."""
    live = {group.id for group in groups.values() if group.type == TEAM and not group.deleted}
    options: dict[str, FilterOption] = {}
    for team_id in live:
        team = groups[team_id]
        path = [team.name or team.id]
        seen = {team.id}
        parent_id = team.parent_id
        while parent_id and parent_id in groups and parent_id not in seen:
            seen.add(parent_id)
            parent = groups[parent_id]
            path.append(parent.name or parent.id)
            parent_id = parent.parent_id
        nested_in = team.parent_id if team.parent_id in live else None
        options[team_id] = FilterOption(team_id, " / ".join(reversed(path)), nested_in)
    return options


def _collect_options(
    employee: object,
    *,
    entities: dict[str, FilterOption],
    teams: dict[str, FilterOption],
    types: set[EmploymentType],
) -> None:
    """Adds what one employee's JSON shows beyond Kombo's lists. Read leniently: one odd employee must not hide
    the options of everyone else."""
    if not isinstance(employee, dict):
        return
    entity = employee.get("legal_entity")
    entity_id = _text(entity.get("id")) if isinstance(entity, dict) else None
    if entity_id is not None and entity_id not in entities:
        assert isinstance(entity, dict)
        entities[entity_id] = FilterOption(entity_id, _text(entity.get("name")) or entity_id)
    groups = employee.get("groups")
    for group in groups if isinstance(groups, list) else ():
        group_id = _text(group.get("id")) if isinstance(group, dict) else None
        if group_id is not None and group.get("type") == TEAM and group_id not in teams:
            teams[group_id] = FilterOption(group_id, _text(group.get("name")) or group_id)
    try:
        normalised = employment_type_of(employee.get("employment_type"))
    except (TypeError, ValueError):
        return
    if normalised is not None:
        types.add(normalised.type)


def _option_label(value: str) -> str:
    return value.replace("_", " ").capitalize()
