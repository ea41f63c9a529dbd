"""Kombo employee JSON as the SDK's model requires it, for tests that speak to the SDK over a MockTransport."""

from __future__ import annotations

from typing import Any

# Kombo's required-but-nullable employee keys: the SDK refuses a page without them.
NULLABLE_EMPLOYEE_KEYS = (
    "employee_number",
    "nationality",
    "display_full_name",
    "job_title",
    "mobile_phone_number",
    "ssn",
    "tax_id",
    "weekly_hours",
    "avatar",
    "work_location_id",
    "legal_entity_id",
    "manager_id",
    "date_of_birth",
    "termination_date",
    "remote_created_at",
    "remote_deleted_at",
    "custom_fields",
    "manager",
    "legal_entity",
    "work_location",
)


def minimal_employee(number: int, **values: Any) -> dict[str, Any]:
    """Every required key, little personal data: one team, active, started in early 2024."""
    base: dict[str, Any] = {
        "id": f"E{number}",
        "remote_id": str(number),
        **dict.fromkeys(NULLABLE_EMPLOYEE_KEYS),
        "first_name": "Person",
        "last_name": f"Number {number}",
        "work_email": f"person{number}@acme.example",
        "start_date": "2024-01-31T23:00:00.000Z",
        "changed_at": "2026-03-01T08:00:00.000Z",
        "employments": [],
        "time_off_balances": [],
        "groups": [{"id": "T1", "remote_id": "1", "name": "Platform", "type": "TEAM"}],
        "employment_status": "ACTIVE",
    }
    return base | values
