"""Settings → Audit trail: every configuration change, newest first, with who made it and before → after.
Read-only by design: no page or endpoint edits or deletes an entry."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from staffsync.storage import audit
from staffsync.web.auth import Browser
from staffsync.web.render import context_of, render

router = APIRouter(include_in_schema=False)

PAGE = "/settings/audit"
PAGE_SIZE = 50
ObjectType = Literal["connection", "webhook", "api_token", "admin_user", "policy", "sync_run"]
OBJECT_TYPES: dict[str, str] = {
    "connection": "Connections",
    "policy": "IT policies",
    "webhook": "Webhooks",
    # B105 is a false positive here: a heading, not a password.
    "api_token": "API tokens",  # nosec B105
    "admin_user": "Admin users",
    "sync_run": "Held runs",
}
VALUE_SHOWN = 160


def _shown(value: Any) -> str:
    """A value as an admin reads it: plain text for text, compact JSON for structures, cut when long."""
    if value is None:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= VALUE_SHOWN else text[: VALUE_SHOWN - 1] + "…"


def actor_label(actor: str) -> str:
    kind, _, name = actor.partition(":")
    return {
        "admin": name,
        "api-token": f"API token “{name}”",
        "cli": f"command line ({name})",
    }.get(kind, "staffsync itself" if actor == audit.SYSTEM else actor)


def changed_lines(changes: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(what, old, new) per change; inside a settings document only the entries that changed, so that switching
    one field's mode reads as that field, not as two pages of JSON."""
    lines: list[tuple[str, Any, Any]] = []
    for name, change in changes.items():
        if not (isinstance(change, dict) and set(change) == {"old", "new"}):
            lines.append((name, None, change))
            continue
        old, new = change["old"], change["new"]
        if isinstance(old, dict) and isinstance(new, dict):
            for key in sorted(set(old) | set(new)):
                if old.get(key) != new.get(key):
                    lines.append((f"{name}: {key}", old.get(key), new.get(key)))
        else:
            lines.append((name, old, new))
    return lines


def object_link(object_type: str, object_id: str) -> str | None:
    return {
        "connection": f"/settings/employee-sync/{object_id}",
        "policy": f"/settings/policies/{object_id}",
        "webhook": f"/settings/webhooks/{object_id}",
    }.get(object_type)


@router.get(PAGE)
def audit_page(
    request: Request,
    user: Browser,
    object_type: Annotated[ObjectType | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    with context_of(request).db.transaction() as session:
        rows = audit.list_entries(
            session,
            user.account_id,
            object_type=object_type,
            offset=(page - 1) * PAGE_SIZE,
            limit=PAGE_SIZE + 1,
        )
    return render(
        request,
        "audit/list.html",
        user,
        nav="audit",
        entries=rows[:PAGE_SIZE],
        has_more=len(rows) > PAGE_SIZE,
        page=page,
        object_type=object_type,
        object_types=OBJECT_TYPES,
        shown=_shown,
        object_link=object_link,
        actor_label=actor_label,
        changed_lines=changed_lines,
    )
