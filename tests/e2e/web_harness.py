"""What browser tests share: the two-account world behind the served application, signing in, screenshots."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from fakes import ListSource, Login, make_signed_up_account, person
from staffsync.api.deps import ApiContext
from staffsync.domain.values import EmploymentType, EmploymentTypeValue, Ref
from staffsync.storage import models
from staffsync.storage.db import Database
from staffsync.sync.engine import SyncOutcome, run_sync

CHROMIUM = os.environ.get("STAFFSYNC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Overridable so that two runs at once (another checkout, a helper) do not clear each other's pictures.
SCREENSHOTS = Path(os.environ.get("STAFFSYNC_SCREENSHOTS_DIR") or Path(__file__).parent / "screenshots")
# Far enough ahead to stay in the onboardings and offboardings lists whatever day the suite runs.
FUTURE_START = dt.date(2099, 1, 4)
FUTURE_END = dt.date(2099, 6, 30)


@dataclass
class WebWorld:
    db: Database
    base_url: str
    account_id: str
    admin: Login
    viewer: Login
    connection_id: str
    source: ListSource
    other_account_id: str
    other_admin: Login
    context: ApiContext

    def sync(self, **options: Any) -> SyncOutcome:
        """A sync of Acme's source straight through the engine (what the scheduler would do)."""
        return run_sync(self.db, self.connection_id, account_id=self.account_id, connector=self.source, **options)

    def employee_id(self, email: str) -> str:
        with self.db.transaction() as session:
            employee = (
                session.query(models.Employee)
                .filter(models.Employee.account_id == self.account_id, models.Employee.work_email == email)
                .one()
            )
            return employee.id


def acme_people() -> ListSource:
    """Twelve people: two entities, three teams, a contractor, a future hire and a future leaver."""
    munich, paris = Ref("le-de", "Acme GmbH"), Ref("le-fr", "Acme SAS")
    teams = [Ref("team-eng", "Engineering"), Ref("team-sales", "Sales"), Ref("team-ops", "Operations")]
    people: list[Any] = [
        person(n, team=teams[n % 3], legal_entity=munich if n % 2 else paris, last_name=f"Last{n}")
        for n in range(1, 13)
    ]
    people[0] = dataclasses.replace(people[0], start_date=FUTURE_START, last_name="Newcomer", first_name="Nina")
    people[1] = dataclasses.replace(people[1], end_date=FUTURE_END, last_name="Leaver", first_name="Leo")
    people[2] = dataclasses.replace(
        people[2],
        last_name="Contractor",
        first_name="Carla",
        employment_type=EmploymentTypeValue(EmploymentType.CONTRACTOR, "CONTRACT"),
    )
    return ListSource(records=people)


def make_account(db: Database, name: str) -> tuple[str, Login, Login]:
    return make_signed_up_account(db, name)


def sign_in(page: Page, login: Login) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(login.email)
    page.get_by_label("Password").fill(login.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/employees")


def screenshot(page: Page, name: str) -> None:
    """A full-page picture of what the admin sees, kept for a human review of every main page."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = str(SCREENSHOTS / f"{name}.png")
    try:
        page.screenshot(path=path, full_page=True)
    except PlaywrightError:
        # Chromium sometimes refuses a capture on a loaded machine ("Unable to capture screenshot"): the picture
        # is for a human, and the test's assertions are what it proves, so one more try, then the viewport only.
        try:
            page.screenshot(path=path, full_page=True)
        except PlaywrightError:
            page.screenshot(path=path)
