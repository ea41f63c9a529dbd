"""`staffsync preview`: every person of the source, Included or Excluded, with the filter's reasons."""

from __future__ import annotations

from cli_harness import Cli

from staffsync.connectors.registry import build_connector
from staffsync.domain.filters import FilterRules
from staffsync.settings import Settings
from staffsync.storage import connections as connection_store


def first_legal_entity(cli: Cli, connection_id: str) -> tuple[str, str]:
    with cli.db.transaction() as session:
        connection = connection_store.find_connection(session, connection_id)
        assert connection is not None
        connector = build_connector(connection, settings=Settings(_env_file=None), timezone="UTC")
        option = connector.filter_options().legal_entities[0]
    return option.id, option.name


def test_without_filters_everyone_is_included(cli: Cli) -> None:
    connection_id = cli.memory_connection(cli.account(), size=20)

    preview = cli.json("preview", connection_id)

    assert preview["counts"] == {"total": 20, "included": 20, "excluded": 0}
    assert all(person["included"] and person["reasons"] == [] for person in preview["people"])


def test_status_excluded_lists_the_people_a_filter_leaves_out_with_its_reasons(cli: Cli) -> None:
    connection_id = cli.memory_connection(cli.account(), size=40)
    entity_id, entity_name = first_legal_entity(cli, connection_id)
    cli.set_filters(connection_id, FilterRules(legal_entities=frozenset({entity_id})))

    everyone = cli.json("preview", connection_id)
    excluded = cli.json("preview", connection_id, "--status", "excluded")

    assert excluded["counts"] == everyone["counts"]
    assert 0 < excluded["counts"]["excluded"] < 40
    assert len(excluded["people"]) == excluded["counts"]["excluded"]
    for person in excluded["people"]:
        assert person["status"] == "excluded"
        assert len(person["reasons"]) == 1
        assert person["reasons"][0].startswith("Excluded by the legal entity filter: '")
        assert entity_name not in person["reasons"][0]


def test_preview_agrees_with_the_sync_that_follows(cli: Cli) -> None:
    connection_id = cli.memory_connection(cli.account(), size=40)
    entity_id, _ = first_legal_entity(cli, connection_id)
    cli.set_filters(connection_id, FilterRules(legal_entities=frozenset({entity_id})))

    preview = cli.json("preview", connection_id)
    run = cli.json("sync", connection_id)

    assert run["counts"]["created"] == preview["counts"]["included"]
    assert run["counts"]["excluded"] == preview["counts"]["excluded"]


def test_q_searches_last_names_and_the_table_ends_with_counts(cli: Cli) -> None:
    connection_id = cli.memory_connection(cli.account(), size=20)
    someone = cli.json("preview", connection_id)["people"][3]
    needle = someone["last_name"][1:4].upper()

    found = cli.json("preview", connection_id, "--q", needle)
    table = cli.run("preview", connection_id, "--q", needle)

    assert someone["remote_id"] in [person["remote_id"] for person in found["people"]]
    assert all(needle.lower() in person["last_name"].lower() for person in found["people"])
    assert table.exit_code == 0
    assert someone["remote_id"] in table.stdout
    assert (
        table.stdout.rstrip()
        .splitlines()[-1]
        .endswith(f"{found['counts']['total']} people: {found['counts']['included']} included, 0 excluded")
    )


def test_an_unknown_status_is_bad_usage(cli: Cli) -> None:
    connection_id = cli.memory_connection(cli.account(), size=5)

    assert cli.run("preview", connection_id, "--status", "maybe").exit_code == 2
