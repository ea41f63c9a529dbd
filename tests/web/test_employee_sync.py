"""Settings → Employee Sync behind TestClient, on SQLite and PostgreSQL: the sources list, the Add source wizard
(provider, Kombo's connect round trip through a stand-in, select data, filters, preview, launch), roles (a
viewer posts nothing), tenancy (another account's connection is a 404 everywhere), refused field settings,
and a failing source said in words."""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from kombo.models import IntegrationTool
from sqlalchemy import select
from ui_harness import SignedInBrowser, UiWorld, open_ui_world, snapshot

from fakes import person
from staffsync.api.app import create_app
from staffsync.connectors.base import ConnectorError, FailureKind, FilterOptions
from staffsync.connectors.kombo.connect import KomboIntegration
from staffsync.domain.fields import FieldSettings
from staffsync.domain.filters import FilterRules
from staffsync.domain.records import FilterOption
from staffsync.domain.values import Ref
from staffsync.storage import connections, models
from staffsync.storage.db import Database
from staffsync.sync.engine import utc_now
from staffsync.web.employee_sync import KOMBO_TOOLS

BASE = "/settings/employee-sync"


class StandInKombo:
    """Kombo's two connect endpoints: the link carries the connect request's id back as the origin id."""

    def __init__(self) -> None:
        self.origins: list[str] = []
        self.fail_with: ConnectorError | None = None
        self.setup_status = "COMPLETED"

    def create_link(self, *, origin_id: str, tool: str | None, admin_email: str, organisation: str) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        self.origins.append(origin_id)
        return f"https://connect.kombo.test/v1/connect/link-{len(self.origins)}?lang=en"

    def integration_by_token(self, token: str) -> KomboIntegration:
        if self.fail_with is not None:
            raise self.fail_with
        return KomboIntegration(f"personio:{token}", "personio", self.origins[-1], self.setup_status)


@dataclasses.dataclass
class Scene:
    world: UiWorld
    admin: SignedInBrowser
    viewer: SignedInBrowser
    stranger: SignedInBrowser  # an admin of Globex
    kombo: StandInKombo

    @property
    def connection_id(self) -> str:
        return self.world.connection_id

    def connection(self, connection_id: str | None = None) -> models.Connection:
        with self.world.db.session() as session:
            found = session.get(models.Connection, connection_id or self.connection_id)
            assert found is not None
            return found


@pytest.fixture
def scene(db: Database) -> Iterator[Scene]:
    for world in open_ui_world(db):
        kombo = StandInKombo()
        source = world.source

        def connector_for(connection: models.Connection, timezone: str, source: typing.Any = source) -> typing.Any:
            return source

        # The same world, served by an app that can reach (a stand-in for) Kombo's connect endpoints.
        app = create_app(db, kombo_connect=lambda kombo=kombo: kombo, connector_for=connector_for)
        world = dataclasses.replace(world, app=app)
        yield Scene(
            world,
            world.signed_in(world.admin),
            world.signed_in(world.viewer),
            world.signed_in(world.other_admin),
            kombo,
        )
        app.state.api.join_syncs(timeout=60)


def _new_connection(scene: Scene, name: str = "HiBob UK", *, account_id: str | None = None) -> str:
    with scene.world.db.transaction() as session:
        return connections.create_connection(
            session, account_id or scene.world.account_id, name=name, provider="test", now=utc_now()
        ).id


def _fields_form(**changes: dict[str, str]) -> dict[str, list[str]]:
    """The Select data form as the page posts it: every field, core ones switched on by a hidden input."""
    form: dict[str, list[str]] = {"field": []}
    for name, setting in FieldSettings.defaults().settings.items():
        form["field"].append(name)
        wanted = {"enabled": "on", "mode": setting.mode.value, **changes.get(name, {})}
        if wanted["enabled"]:
            form[f"enabled_{name}"] = [wanted["enabled"]]
        form[f"mode_{name}"] = [wanted["mode"]]
    return form


def _post(browser: SignedInBrowser, url: str, form: dict[str, list[str]] | None = None) -> typing.Any:
    return browser.form_post(url, form or {})  # type: ignore[arg-type]


# ---- the list ----


def test_the_list_shows_each_source_with_its_state_last_sync_and_next_sync(scene: Scene) -> None:
    page = scene.admin.client.get(BASE)
    assert page.status_code == 200
    assert "Personio DE" in page.text
    assert f'id="sync-status-{scene.connection_id}"' in page.text
    assert "Succeeded" in page.text and "6 created" in page.text
    assert f'action="{BASE}/{scene.connection_id}/sync"' in page.text
    assert f'href="{BASE}/{scene.connection_id}"' in page.text
    assert "Finish setup" not in page.text


def test_the_list_follows_a_running_sync_live(scene: Scene) -> None:
    _running(scene, "run-going-on")
    page = scene.admin.client.get(BASE)
    assert f'hx-get="{BASE}/{scene.connection_id}/status?running=true" hx-trigger="every 2s"' in page.text
    assert "Sync running…" in page.text


def test_a_source_whose_first_sync_never_ran_offers_to_finish_its_setup(scene: Scene) -> None:
    new_id = _new_connection(scene)
    page = scene.admin.client.get(BASE)
    assert "HiBob UK" in page.text
    assert "Setup not finished" in page.text
    assert f'href="{BASE}/{new_id}/setup"' in page.text
    resumed = scene.admin.client.get(f"{BASE}/{new_id}/setup")
    assert resumed.status_code == 303
    assert resumed.headers["location"] == f"{BASE}/{new_id}/setup/fields"


def test_an_account_without_sources_is_invited_to_connect_its_hr_system(scene: Scene) -> None:
    page = scene.stranger.client.get(BASE)
    assert page.status_code == 200
    assert "Connect your HR system" in page.text
    assert f'href="{BASE}/new"' in page.text
    assert "Personio DE" not in page.text


# ---- provider and authenticate ----


def test_every_tool_offered_is_a_tool_id_kombo_accepts() -> None:
    accepted = set(typing.get_args(IntegrationTool))
    assert {tool for tool, _ in KOMBO_TOOLS} <= accepted
    assert len({tool for tool, _ in KOMBO_TOOLS}) == len(KOMBO_TOOLS)


def test_choosing_a_provider_asks_kombo_for_a_link_that_comes_back_to_the_callback(scene: Scene) -> None:
    provider = scene.admin.client.get(f"{BASE}/new")
    assert provider.status_code == 200
    assert 'value="personio"' in provider.text and 'value="other"' in provider.text
    answer = _post(scene.admin, f"{BASE}/new", {"tool": ["personio"], "name": ["  Personio DE  "]})
    assert answer.status_code == 200
    link = re.search(r'href="(https://connect\.kombo\.test[^"]+)"', answer.text)
    assert link is not None and "Continue to Kombo" in answer.text
    query = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)
    assert query["redirect_url"] == ["https://testserver/connect/kombo/callback"]
    assert query["lang"] == ["en"]
    with scene.world.db.session() as session:
        request = session.get(models.ConnectRequest, scene.kombo.origins[-1])
        assert request is not None
        assert (request.account_id, request.tool, request.name) == (scene.world.account_id, "personio", "Personio DE")


def test_an_unknown_provider_or_a_kombo_failure_stays_on_the_provider_step_with_the_reason(scene: Scene) -> None:
    unknown = _post(scene.admin, f"{BASE}/new", {"tool": ["notatool"], "name": ["X"]})
    assert unknown.status_code == 422 and "Choose your HR system" in unknown.text
    scene.kombo.fail_with = ConnectorError(FailureKind.CREDENTIALS_REJECTED, "Kombo rejected the API key")
    failed = _post(scene.admin, f"{BASE}/new", {"tool": ["hibob"], "name": ["HiBob"]})
    assert failed.status_code == 502
    assert "Kombo could not create a connect link: Kombo rejected the API key" in failed.text
    assert 'value="hibob" required checked' in failed.text


def test_kombo_bringing_a_signed_in_admin_back_continues_with_select_data(scene: Scene) -> None:
    _post(scene.admin, f"{BASE}/new", {"tool": ["personio"], "name": ["Personio FR"]})
    landed = scene.admin.client.get("/connect/kombo/callback", params={"token": "tok1"})
    assert landed.status_code == 303
    with scene.world.db.session() as session:
        connection = session.execute(
            select(models.Connection).where(models.Connection.name == "Personio FR")
        ).scalar_one()
    assert landed.headers["location"] == f"{BASE}/{connection.id}/setup/fields"
    assert connection.config == {"integration_id": "personio:tok1", "tool": "personio"}
    # Not scheduled before the admin has chosen the data and the filters and launched the first sync.
    assert connection.next_sync_at is None
    fields = scene.admin.client.get(landed.headers["location"])
    assert "Personio FR is connected. Now choose which data to sync." in fields.text


def test_a_source_still_being_set_up_at_kombo_is_connected_with_word_that_it_is_waiting(scene: Scene) -> None:
    scene.kombo.setup_status = "FINAL_SYNC_PENDING"
    _post(scene.admin, f"{BASE}/new", {"tool": ["personio"], "name": ["Personio FR"]})
    landed = scene.admin.client.get("/connect/kombo/callback", params={"token": "tok2"})
    assert landed.status_code == 303 and landed.headers["location"].endswith("/setup/fields")
    fields = scene.admin.client.get(landed.headers["location"])
    assert "flash-info" in fields.text
    assert "Waiting for the HR system&#39;s first sync at Kombo" in fields.text


def test_kombo_bringing_back_a_browser_without_a_session_shows_the_plain_page(scene: Scene) -> None:
    _post(scene.admin, f"{BASE}/new", {"tool": ["personio"], "name": ["Personio FR"]})
    landed = scene.world.browser().get("/connect/kombo/callback", params={"token": "tok1"})
    assert landed.status_code == 200
    assert "Personio FR is connected" in landed.text


def test_a_failed_connection_tells_the_signed_in_admin_why_and_to_start_again(scene: Scene) -> None:
    _post(scene.admin, f"{BASE}/new", {"tool": ["personio"], "name": ["Personio FR"]})
    scene.kombo.fail_with = ConnectorError(FailureKind.INVALID_RESPONSE, "The token is unknown, expired or used")
    before = snapshot(scene.world.db)
    landed = scene.admin.client.get("/connect/kombo/callback", params={"token": "stale"})
    assert landed.status_code == 400
    assert "The connection could not be completed" in landed.text
    assert "Kombo could not confirm the connection: The token is unknown, expired or used" in landed.text
    assert f'href="{BASE}/new">Start again' in landed.text
    assert snapshot(scene.world.db) == before


# ---- select data ----


def test_select_data_shows_core_fields_locked_and_optional_ones_with_a_switch_and_a_mode(scene: Scene) -> None:
    page = scene.admin.client.get(f"{BASE}/{scene.connection_id}/setup/fields")
    assert page.status_code == 200
    assert 'name="enabled_first_name" value="on"' in page.text  # core: a hidden input, always on
    assert "First name is synced" in page.text
    assert '<input type="checkbox" name="enabled_personal_phone" value="on" checked>' in page.text
    assert 'id="mode-end_date" name="mode_end_date"' in page.text
    assert "Offboardings need a continuously synchronised end date" not in page.text


def test_saving_the_data_selection_stores_it_and_goes_on_to_the_filters(scene: Scene) -> None:
    form = _fields_form(personal_phone={"enabled": ""}, job_title={"mode": "continuous"})
    answer = _post(scene.admin, f"{BASE}/{scene.connection_id}/setup/fields", form)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{BASE}/{scene.connection_id}/setup/filters"
    settings = connections.field_settings_of(scene.connection())
    assert not settings["personal_phone"].enabled
    assert settings.mode("job_title").value == "continuous"
    filters = scene.admin.client.get(answer.headers["location"])
    assert "The stored values of Personal phone were deleted from the directory." in filters.text


def test_an_import_once_end_date_is_saved_with_the_offboarding_warning(scene: Scene) -> None:
    form = _fields_form(end_date={"mode": "import_once"})
    checked = _post(scene.admin, f"{BASE}/{scene.connection_id}/setup/fields/check", form)
    assert checked.status_code == 200
    assert checked.text.lstrip().startswith('<div id="field-diagnostics"')
    assert "Offboardings need a continuously synchronised end date" in checked.text
    assert "End date is not continuously synchronised" in checked.text
    answer = _post(scene.admin, f"{BASE}/{scene.connection_id}/setup/fields", form)
    assert answer.status_code == 303
    shown = scene.admin.client.get(answer.headers["location"])
    assert "flash-warning" in shown.text and "automated offboarding will not happen" in shown.text


@pytest.mark.parametrize(
    ("change", "diagnostic"),
    [
        ({"first_name": {"enabled": ""}}, "&#39;first_name&#39; is a core field"),
        (
            {"end_date": {"mode": "weekly"}},
            "&#39;end_date&#39;: mode must be &#39;continuous&#39; or &#39;import_once&#39;",
        ),
    ],
)
def test_invalid_field_settings_are_refused_with_the_diagnostic_shown(
    scene: Scene, change: dict[str, dict[str, str]], diagnostic: str
) -> None:
    before = snapshot(scene.world.db)
    answer = _post(scene.admin, f"{BASE}/{scene.connection_id}/setup/fields", _fields_form(**change))
    assert answer.status_code == 422
    assert "Not saved." in answer.text and diagnostic in answer.text
    assert snapshot(scene.world.db) == before


def test_an_unknown_field_is_refused_too(scene: Scene) -> None:
    form = {**_fields_form(), "field": [*_fields_form()["field"], "salary"], "enabled_salary": ["on"]}
    answer = _post(scene.admin, f"{BASE}/{scene.connection_id}/setup/fields", form)
    assert answer.status_code == 422
    assert "&#39;salary&#39; is not a known field" in answer.text


# ---- filters ----


def test_the_filters_offer_the_sources_own_values_and_save_the_selection(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = FilterOptions(
        legal_entities=(FilterOption("le-de", "Acme GmbH"), FilterOption("le-fr", "Acme SAS")),
        employment_types=(FilterOption("permanent", "Permanent"), FilterOption("contractor", "Contractor")),
        teams=(FilterOption("team-eng", "Engineering"),),
    )
    monkeypatch.setattr(scene.world.source, "filter_options", lambda: options)
    page = scene.admin.client.get(f"{BASE}/{scene.connection_id}/setup/filters")
    assert page.status_code == 200
    assert 'name="legal_entities" value="le-fr"' in page.text and "Acme SAS" in page.text
    assert "Within a filter" in page.text and "Across filters" in page.text
    form = {"legal_entities": ["le-de"], "employment_types": ["permanent", "contractor"], "teams": []}
    answer = _post(scene.admin, f"{BASE}/{scene.connection_id}/setup/filters", form)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{BASE}/{scene.connection_id}/preview?setup=1"
    assert connections.filters_of(scene.connection()) == FilterRules(
        legal_entities=frozenset({"le-de"}), employment_types=frozenset({"permanent", "contractor"})
    )
    again = scene.admin.client.get(f"{BASE}/{scene.connection_id}/setup/filters")
    assert 'value="le-de" checked' in again.text and 'value="le-fr">' in again.text


def test_a_source_failure_in_the_filters_is_said_in_words_and_the_saved_selection_stays(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    with scene.world.db.transaction() as session:
        connection = connections.get_connection(session, scene.world.account_id, scene.connection_id)
        assert connection is not None
        connections.save_filters(session, connection, FilterRules(teams=frozenset({"team-eng"})), now=utc_now())

    def unavailable() -> FilterOptions:
        raise ConnectorError(FailureKind.UNAVAILABLE, "Kombo is unavailable (HTTP 503); try again later")

    monkeypatch.setattr(scene.world.source, "filter_options", unavailable)
    page = scene.admin.client.get(f"{BASE}/{scene.connection_id}/setup/filters")
    assert page.status_code == 200
    assert "The values could not be read from the source." in page.text
    assert "Kombo is unavailable (HTTP 503); try again later" in page.text
    assert 'name="teams" value="team-eng" checked' in page.text


# ---- preview ----


def _filtered(scene: Scene) -> None:
    scene.world.source.records = [
        person(1, last_name="Keller", legal_entity=Ref("le-de", "Acme GmbH")),
        person(2, last_name="Dubois", legal_entity=Ref("le-fr", "Acme SAS")),
        person(3, last_name="Kellerman", legal_entity=Ref("le-fr", "Acme SAS")),
        *[person(n, last_name=f"Zimmer{n:02}") for n in range(4, 34)],
    ]
    with scene.world.db.transaction() as session:
        connection = connections.get_connection(session, scene.world.account_id, scene.connection_id)
        assert connection is not None
        connections.save_filters(session, connection, FilterRules(legal_entities=frozenset({"le-de"})), now=utc_now())


def test_preview_search_by_last_name_finds_an_excluded_person_with_the_reason(scene: Scene) -> None:
    _filtered(scene)
    page = scene.admin.client.get(f"{BASE}/{scene.connection_id}/preview", params={"q": "kell"})
    assert page.status_code == 200
    assert 'data-count="total">33<' in page.text
    assert 'data-count="included">31<' in page.text and 'data-count="excluded">2<' in page.text
    rows = re.findall(r"<tr>\s*<td>.*?</tr>", page.text, re.DOTALL)
    assert len(rows) == 2
    kellerman = next(row for row in rows if "Kellerman" in row)
    assert "Excluded" in kellerman
    assert "Excluded by the legal entity filter: &#39;Acme SAS&#39; is not selected" in kellerman
    assert "Passes every filter" in next(row for row in rows if "First1 Keller<" in row)


def test_preview_filters_by_status_and_pages_through_the_matches(scene: Scene) -> None:
    _filtered(scene)
    excluded = scene.admin.client.get(f"{BASE}/{scene.connection_id}/preview", params={"status": "excluded"})
    assert "Dubois" in excluded.text and "Kellerman" in excluded.text and "Zimmer" not in excluded.text
    first = scene.admin.client.get(f"{BASE}/{scene.connection_id}/preview", params={"status": "included"})
    assert "1\N{EN DASH}25 of 31 matching" in first.text
    following = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert following is not None
    second = scene.admin.client.get(following.group(1).replace("&amp;", "&"))
    assert "26\N{EN DASH}31 of 31 matching" in second.text
    assert 'rel="next"' not in second.text and 'rel="prev"' in second.text


def test_a_search_as_you_type_answers_the_rows_and_the_counts_alone(scene: Scene) -> None:
    _filtered(scene)
    fragment = scene.admin.client.get(
        f"{BASE}/{scene.connection_id}/preview",
        params={"q": "dubois", "setup": "1"},
        headers={"HX-Request": "true", "HX-Target": "preview-results"},
    )
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="preview-results"')
    assert 'id="preview-counts" class="preview-counts" hx-swap-oob="true"' in fragment.text
    assert "<nav" not in fragment.text and "Dubois" in fragment.text


def test_the_preview_in_the_wizard_shows_the_stepper_and_on_its_own_the_connections_crumbs(scene: Scene) -> None:
    in_setup = scene.admin.client.get(f"{BASE}/{scene.connection_id}/preview", params={"setup": "1"})
    assert (
        'aria-label="Setup steps"' in in_setup.text and f'{BASE}/{scene.connection_id}/setup/launch"' in in_setup.text
    )
    alone = scene.admin.client.get(f"{BASE}/{scene.connection_id}/preview")
    assert 'aria-label="Setup steps"' not in alone.text and "Preview: Personio DE" in alone.text


@pytest.mark.parametrize("failure", ["connector error", "unexpected error"])
def test_a_source_failure_in_the_preview_is_said_in_words(
    scene: Scene, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    if failure == "connector error":

        def employees(request: object) -> typing.Any:
            raise ConnectorError(FailureKind.CREDENTIALS_REJECTED, "Kombo rejected the integration's credentials")

        monkeypatch.setattr(scene.world.source, "employees", employees)
        said = "Kombo rejected the integration&#39;s credentials"
    else:
        scene.world.source.fail_after = 2
        said = "Reading the people from the source stopped with an unexpected ConnectionResetError"
    page = scene.admin.client.get(f"{BASE}/{scene.connection_id}/preview", params={"q": "last"})
    assert page.status_code == 200
    assert "The source could not be read." in page.text and said in page.text


# ---- launch ----


def test_launching_the_first_sync_runs_it_in_the_background_and_shows_its_progress(scene: Scene) -> None:
    new_id = _new_connection(scene)
    launch = scene.admin.client.get(f"{BASE}/{new_id}/setup/launch")
    assert "Ready to launch" in launch.text and "Launch first sync" in launch.text
    started = _post(scene.admin, f"{BASE}/{new_id}/setup/launch")
    assert started.status_code == 303
    run_id = parse_qs(urlsplit(started.headers["location"]).query)["run"][0]
    scene.world.app.state.api.join_syncs(timeout=60)
    progress = scene.admin.client.get(f"{BASE}/{new_id}/setup/runs/{run_id}")
    assert progress.status_code == 200
    assert "First sync complete" in progress.text and "hx-trigger" not in progress.text
    assert 'href="/employees"' in progress.text
    with scene.world.db.session() as session:
        run = session.get(models.SyncRun, run_id)
        assert run is not None and (run.trigger, run.status) == ("ui", "succeeded")
    assert "Setup not finished" not in scene.admin.client.get(BASE).text


def _running(scene: Scene, run_id: str) -> None:
    with scene.world.db.transaction() as session:
        session.add(
            models.SyncRun(
                id=run_id,
                account_id=scene.world.account_id,
                connection_id=scene.connection_id,
                trigger="ui",
                kind="full",
                status="running",
                started_at=utc_now(),
                hold_reasons=[],
                timings={},
            )
        )


def test_a_running_first_sync_polls_for_its_progress(scene: Scene) -> None:
    _running(scene, "run-going-on")
    progress = scene.admin.client.get(f"{BASE}/{scene.connection_id}/setup/runs/run-going-on")
    assert f'hx-get="{BASE}/{scene.connection_id}/setup/runs/run-going-on" hx-trigger="every 1s"' in progress.text
    assert "Syncing Personio DE" in progress.text


# ---- roles and tenancy ----


def _wizard_posts(connection_id: str) -> list[tuple[str, dict[str, list[str]]]]:
    return [
        (f"{BASE}/new", {"tool": ["personio"], "name": ["Forged"]}),
        (f"{BASE}/{connection_id}/setup/fields", _fields_form(personal_email={"enabled": ""})),
        (f"{BASE}/{connection_id}/setup/fields/check", _fields_form()),
        (f"{BASE}/{connection_id}/setup/filters", {"legal_entities": ["le-fr"]}),
        (f"{BASE}/{connection_id}/setup/launch", {}),
    ]


def test_a_viewer_cannot_post_any_wizard_step_and_nothing_is_saved(scene: Scene) -> None:
    before = snapshot(scene.world.db)
    for url, form in _wizard_posts(scene.connection_id):
        answer = _post(scene.viewer, url, form)
        assert answer.status_code == 403, url
        assert "Read-only access" in answer.text, url
    assert snapshot(scene.world.db) == before
    assert scene.kombo.origins == []
    # Reading the steps is allowed, with every control disabled.
    page = scene.viewer.client.get(f"{BASE}/{scene.connection_id}/setup/fields")
    assert page.status_code == 200
    assert 'name="enabled_personal_email" value="on" checked disabled' in page.text


def test_another_accounts_connection_is_a_404_on_every_wizard_and_preview_url(scene: Scene) -> None:
    run_id = scene.world.run_id()
    connection_id = scene.connection_id
    pages = [
        f"{BASE}/{connection_id}/setup",
        f"{BASE}/{connection_id}/setup/fields",
        f"{BASE}/{connection_id}/setup/filters",
        f"{BASE}/{connection_id}/preview",
        f"{BASE}/{connection_id}/preview?setup=1&q=last",
        f"{BASE}/{connection_id}/setup/launch",
        f"{BASE}/{connection_id}/setup/launch?run={run_id}",
        f"{BASE}/{connection_id}/setup/runs/{run_id}",
    ]
    for url in pages:
        answer = scene.stranger.client.get(url)
        assert answer.status_code == 404, url
        assert "Personio DE" not in answer.text, url
    before = snapshot(scene.world.db)
    for url, form in _wizard_posts(connection_id)[1:]:
        assert _post(scene.stranger, url, form).status_code == 404, url
    assert snapshot(scene.world.db) == before
    # Nor can a run of Acme be shown under a connection of Globex.
    theirs = _new_connection(scene, "Globex HR", account_id=scene.world.other_account_id)
    assert scene.stranger.client.get(f"{BASE}/{theirs}/setup/runs/{run_id}").status_code == 404
    assert scene.stranger.client.get(f"{BASE}/{theirs}/setup/launch?run={run_id}").status_code == 404
