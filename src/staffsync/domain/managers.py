"""Manager references: resolved once every person of a run is known; gaps and cycles are reported."""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class ManagerProblem(StrEnum):
    NOT_FOUND = "manager_not_found"
    OUT_OF_SCOPE = "manager_out_of_scope"
    CYCLE = "manager_cycle"


@dataclass(frozen=True, slots=True)
class ManagerIssue:
    employee_id: str
    remote_id: str
    problem: ManagerProblem
    message: str


def resolve_manager(
    manager_remote_id: str | None,
    *,
    employee_id: str,
    remote_id: str,
    lookup: Callable[[str], str | None],
    excluded_remote_ids: Container[str],
) -> tuple[str | None, ManagerIssue | None]:
    """The manager's directory id, or None with the reason when the reference leads nowhere we manage."""
    if manager_remote_id is None:
        return None, None
    manager_id = lookup(manager_remote_id)
    if manager_id is not None:
        return manager_id, None
    if manager_remote_id in excluded_remote_ids:
        return None, ManagerIssue(
            employee_id,
            remote_id,
            ManagerProblem.OUT_OF_SCOPE,
            f"Manager (remote id {manager_remote_id}) is excluded by this connection's filters or has "
            "left the source; the manager field is left empty",
        )
    return None, ManagerIssue(
        employee_id,
        remote_id,
        ManagerProblem.NOT_FOUND,
        f"Manager (remote id {manager_remote_id}) is not among the people the source returned; the "
        "manager field is left empty",
    )


def find_cycles(graph: Mapping[str, str | None], starts: Iterable[str]) -> list[tuple[str, ...]]:
    """Each distinct cycle reachable from `starts` in the employee → manager graph, once.

    Iterative with a per-walk index so a 100,000-person chain neither recurses nor goes quadratic."""
    done: set[str] = set()
    cycles: list[tuple[str, ...]] = []
    for start in starts:
        if start in done:
            continue
        position: dict[str, int] = {}
        path: list[str] = []
        node: str | None = start
        while node is not None and node not in done:
            if node in position:
                cycles.append(tuple(path[position[node] :]))
                break
            position[node] = len(path)
            path.append(node)
            node = graph.get(node)
        done.update(path)
    return cycles
