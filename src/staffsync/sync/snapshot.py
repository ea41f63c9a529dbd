"""What the directory knows about one batch of source records: four bulk lookups, no per-row query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from staffsync.domain.directory import DirectoryEmployee, SourceLink
from staffsync.domain.records import SourceEmployee, normalise_email
from staffsync.storage import employees as employee_store


@dataclass(frozen=True, slots=True)
class BatchSnapshot:
    # This connection's links of the batch's remote ids, and the employees they point at.
    links: dict[str, SourceLink]
    linked: dict[str, DirectoryEmployee]
    # Employees by normalised work email, and the active link this connection has to each.
    by_email: dict[str, DirectoryEmployee]
    email_links: dict[str, SourceLink]


def load_snapshot(
    session: Session, account_id: str, connection_id: str, records: Sequence[SourceEmployee]
) -> BatchSnapshot:
    links = employee_store.links_by_remote_id(session, account_id, connection_id, [r.remote_id for r in records])
    linked = employee_store.employees_by_id(session, account_id, [link.employee_id for link in links.values()])
    # Most people keep their link and their email: look up by email only those who do not.
    by_email = {
        key: employee
        for employee in linked.values()
        if isinstance(email := employee.value("work_email"), str) and (key := normalise_email(email))
    }
    by_email.update(
        employee_store.employees_by_email(
            session,
            account_id,
            [key for r in records if not r.deleted and (key := r.work_email_key) and key not in by_email],
        )
    )
    email_links = employee_store.active_links_by_employee(
        session, account_id, connection_id, [e.id for e in by_email.values() if e.id not in linked]
    )
    email_links.update(
        (link.employee_id, link) for link in links.values() if link.active and link.employee_id in linked
    )
    return BatchSnapshot(links, linked, by_email, email_links)
