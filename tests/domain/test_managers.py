"""Manager references: resolved once every person is known; gaps and cycles reported, never crashing."""

from __future__ import annotations

import time

from staffsync.domain.managers import ManagerIssue, ManagerProblem, find_cycles, resolve_manager

DIRECTORY = {"r-boss": "e-boss", "r-ceo": "e-ceo"}


def resolve(manager_remote_id, excluded=()):
    return resolve_manager(
        manager_remote_id,
        employee_id="e1",
        remote_id="r1",
        lookup=DIRECTORY.get,
        excluded_remote_ids=set(excluded),
    )


def test_known_manager_resolves_to_the_directory_id():
    assert resolve("r-boss") == ("e-boss", None)


def test_no_manager_is_neither_a_manager_nor_a_problem():
    assert resolve(None) == (None, None)


def test_out_of_scope_manager_is_reported_not_crashed():
    manager, issue = resolve("r-filtered", excluded={"r-filtered"})
    assert manager is None
    assert issue is not None
    assert (issue.employee_id, issue.remote_id, issue.problem) == ("e1", "r1", ManagerProblem.OUT_OF_SCOPE)
    assert "r-filtered" in issue.message
    assert "left empty" in issue.message


def test_missing_manager_is_reported_not_crashed():
    manager, issue = resolve("r-ghost")
    assert manager is None
    assert issue == ManagerIssue(
        "e1",
        "r1",
        ManagerProblem.NOT_FOUND,
        "Manager (remote id r-ghost) is not among the people the source returned; the manager field is left empty",
    )


def test_a_manager_in_the_directory_wins_over_the_excluded_list():
    assert resolve("r-boss", excluded={"r-boss"}) == ("e-boss", None)


def test_no_cycle_in_a_plain_hierarchy():
    graph = {"a": "b", "b": "c", "c": None, "d": "c"}
    assert find_cycles(graph, graph) == []


def test_manager_cycle_is_found_once():
    graph = {"a": "b", "b": "c", "c": "a", "x": "a"}
    cycles = find_cycles(graph, ["x", "a", "b", "c"])
    assert len(cycles) == 1
    assert sorted(cycles[0]) == ["a", "b", "c"]


def test_cycle_reached_from_below_does_not_include_the_tail():
    graph = {"tail": "a", "a": "b", "b": "a"}
    assert find_cycles(graph, ["tail"]) == [("a", "b")]


def test_self_managed_person_is_a_cycle():
    assert find_cycles({"a": "a"}, ["a"]) == [("a",)]


def test_separate_cycles_are_each_found():
    graph = {"a": "b", "b": "a", "c": "c", "d": None}
    cycles = find_cycles(graph, ["a", "b", "c", "d"])
    assert sorted(sorted(cycle) for cycle in cycles) == [["a", "b"], ["c"]]


def test_only_cycles_reachable_from_the_starts_are_reported():
    graph = {"a": "b", "b": "a", "c": None}
    assert find_cycles(graph, ["c"]) == []


def test_a_manager_outside_the_graph_ends_the_walk():
    assert find_cycles({"a": "outsider"}, ["a"]) == []


def test_long_chain_finds_no_cycle_and_does_not_recurse():
    size = 100_000
    graph: dict[str, str | None] = {f"p{i}": f"p{i + 1}" for i in range(size - 1)}
    graph[f"p{size - 1}"] = None
    began = time.perf_counter()
    # Every person is a start: a quadratic walk would take minutes here.
    assert find_cycles(graph, graph) == []
    assert time.perf_counter() - began < 5


def test_long_chain_closed_into_a_loop_is_one_cycle():
    size = 100_000
    graph: dict[str, str | None] = {f"p{i}": f"p{(i + 1) % size}" for i in range(size)}
    (cycle,) = find_cycles(graph, reversed(list(graph)))
    assert len(cycle) == size
