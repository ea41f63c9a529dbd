"""`KomboConnector`: the HRConnector Protocol over the unmodified official `kombo` SDK.

One `kombo.Kombo` client per connector, so per integration id: the SDK sends `X-Integration-Id` from its
constructor on every HRIS call. The SDK retries nothing unless told to, so every connector passes a
RetryConfig (429, 500, 502, 503, 504 and transport errors, honouring `Retry-After` up to the retry window);
whatever still fails becomes a ConnectorError in plain words (errors.py) and the engine applies nothing.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Final, Literal, Protocol, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
import pydantic
from kombo import Kombo
from kombo.hris import Hris
from kombo.models import (
    GetHrisEmployeesPositiveResponseResult,
    GetHrisEmployeesResponse,
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
from staffsync.domain.records import FilterOption, RejectedRecord, SourceEmployee
from staffsync.domain.values import EmploymentType

DEFAULT_SERVER_URL: Final = "https://api.kombo.dev/v1"
MAX_PAGE_SIZE: Final = 250
DEFAULT_TIMEOUT_MS: Final = 60_000

# Pages in a row that bring no record the listing has not already served, before it counts as going round
# in circles: Kombo may serve an odd empty or repeated page, never ten in a row in a listing that ends.
MAX_PAGES_WITHOUT_PROGRESS: Final = 10


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


R = TypeVar("R")
T = TypeVar("T", bound=_Identified)


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
    the HTTP client; an `httpx.Client` passed as `client` stays the caller's to close (it gains the
    `RetryAfterCap` response hook)."""

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
        client: httpx.Client | None = None,
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
        # The SDK's own default client, made here so that the Retry-After cap can hook into it.
        self._owned_client = httpx.Client(follow_redirects=True) if client is None else None
        client = client or self._owned_client
        assert client is not None
        if backoff is not None:
            cap = RetryAfterCap(backoff.max_elapsed_time / 1000)
            hooks = client.event_hooks
            if cap not in hooks["response"]:
                client.event_hooks = {**hooks, "response": [*hooks["response"], cap]}
        # A callable key keeps the secret out of the SDK configuration's repr.
        self._sdk = Kombo(
            api_key=lambda: secret,
            integration_id=integration_id,
            server_url=self.server_url,
            client=client,
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
        if self._owned_client is not None:
            self._owned_client.close()

    @property
    def _hris(self) -> Hris:
        return self._sdk.hris

    # --- HRConnector ------------------------------------------------------------------------------

    def employees(self, request: FetchRequest) -> Iterator[SourceEmployee | RejectedRecord]:
        """Every employee, or every employee changed since `request.updated_after`, tombstones included
        (a deleted person must detach, in a full fetch as much as an incremental one)."""
        return self._employees(request.fields, _utc(request.updated_after))

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
        for results in self._employee_pages(updated_after=None, include_deleted=False):
            for employee in results:
                _collect_options(employee, entities=entities, teams=teams, types=types)
        return FilterOptions(
            legal_entities=tuple(sorted(entities.values(), key=lambda o: (o.name.casefold(), o.id))),
            employment_types=tuple(FilterOption(t.value, _option_label(t.value)) for t in EmploymentType if t in types),
            teams=tuple(sorted(teams.values(), key=lambda o: (o.name.casefold(), o.id))),
        )

    # --- the stream -------------------------------------------------------------------------------

    def _employees(
        self, fields: frozenset[str], updated_after: dt.datetime | None
    ) -> Iterator[SourceEmployee | RejectedRecord]:
        catalogue = KomboCatalogue()
        loaded: set[CatalogueKind] = set()
        for results in self._employee_pages(updated_after=updated_after, include_deleted=True):
            raws = [_json_of(employee, EMPLOYEE_SHAPE) for employee in results]
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
        self, *, updated_after: dt.datetime | None, include_deleted: bool
    ) -> Iterator[Sequence[GetHrisEmployeesPositiveResponseResult]]:
        def fetch(cursor: str | None = None) -> GetHrisEmployeesResponse | None:
            return self._hris.get_employees(
                cursor=cursor, page_size=self.page_size, updated_after=updated_after, include_deleted=include_deleted
            )

        # The cursor is passed with the same filters rather than through the SDK's `next()`: that sends the
        # same request, but first parses the whole page's JSON a second time (a tenth of a large fetch).
        return self._paginate(
            fetch,
            page=_employees_page,
            follow=lambda response: fetch(response.result.data.next),
            what="employees",
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
    ) -> Iterator[Sequence[T]]:
        """Follows Kombo's cursors (`follow` re-sends every original filter with the next cursor). A
        cursor Kombo already gave would serve the same pages forever, and so would fresh cursors that keep
        serving records already served: either way the fetch stops as incomplete."""
        number = 1
        response = self._call(first, what=what, page=number)
        cursors: set[str] = set()
        served: set[str] = set()
        idle = 0
        while response is not None:
            results, cursor = page(response)
            before = len(served)
            served.update(item.id for item in results)
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


def _employees_page(
    response: GetHrisEmployeesResponse,
) -> tuple[Sequence[GetHrisEmployeesPositiveResponseResult], str | None]:
    return response.result.data.results, response.result.data.next


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    """The SDK sends a naive datetime without a zone, which Kombo would read in its own way: always UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


# Plain JSON scalars, returned as they are; a `str` subclass (an SDK enum, an `UnrecognizedStr`) is not one.
_SCALARS: Final = frozenset({str, int, float, bool, type(None)})
# Per SDK model class and shape: (attribute, JSON key, shape of the value) of each key of the shape. The shape is
# kept in the entry, so its id cannot be reused while the entry stands.
_PLANS: dict[tuple[type[pydantic.BaseModel], int], tuple[Shape, tuple[tuple[str, str, Shape | None], ...]]] = {}


def _plan(model: type[pydantic.BaseModel], shape: Shape) -> tuple[tuple[str, str, Shape | None], ...]:
    """Resolved once per model class: every page converts thousands of instances of the same few classes."""
    entry = _PLANS.get((model, id(shape)))
    if entry is None:
        attributes = {info.alias or name: name for name, info in model.model_fields.items()}
        plan = tuple((attributes.get(key, key), key, inner) for key, inner in shape.items())
        entry = _PLANS[(model, id(shape))] = (shape, plan)
    return entry[1]


def _json_of(model: pydantic.BaseModel, shape: Shape) -> dict[str, object]:
    """The JSON form of the keys of `shape` in an SDK model: only what the mapping reads is converted."""
    # Field values live in the instance's __dict__: reading it skips pydantic's attribute machinery.
    data = model.__dict__
    found: dict[str, object] = {}
    for attribute, key, inner in _plan(type(model), shape):
        value = data.get(attribute)
        if value is None or type(value) is str:
            found[key] = value
        elif isinstance(value, Unset):
            continue
        elif inner is not None and isinstance(value, pydantic.BaseModel):
            found[key] = _json_of(value, inner)
        elif inner is not None and isinstance(value, list):
            found[key] = [
                _json_of(item, inner) if isinstance(item, pydantic.BaseModel) else _plain(item) for item in value
            ]
        else:
            found[key] = _plain(value)
    return found


def _plain(value: object) -> object:
    """The JSON form of an SDK value the mapping reads as it is. Not `model_dump`: the SDK's serializers drop
    the raw strings Kombo passes through for unmapped enums (an `UnrecognizedStr` dumps as nothing), and those
    are kept. An object where the mapping expects a scalar is an object with nothing read: the mapping refuses
    it by its shape alone."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if isinstance(value, pydantic.BaseModel):
        return {}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return str(value)
    return value


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
    employee: GetHrisEmployeesPositiveResponseResult,
    *,
    entities: dict[str, FilterOption],
    teams: dict[str, FilterOption],
    types: set[EmploymentType],
) -> None:
    """Adds what one employee shows beyond Kombo's lists. Read leniently: one odd employee must not hide
    the options of everyone else."""
    entity = employee.legal_entity
    if entity is not None and entity.id not in entities:
        entities[entity.id] = FilterOption(entity.id, _text(entity.name) or entity.id)
    for group in employee.groups:
        if group.type == TEAM and group.id not in teams:
            teams[group.id] = FilterOption(group.id, _text(group.name) or group.id)
    word = _set(employee.employment_type)
    normalised = employment_type_of(str(word)) if word is not None else None
    if normalised is not None:
        types.add(normalised.type)


def _option_label(value: str) -> str:
    return value.replace("_", " ").capitalize()
