"""Size: 10,000 people page through the SDK in seconds; 100,000 are generated lazily and served per page."""

from __future__ import annotations

import time

from kombo_sim_harness import Simulator


def test_ten_thousand_people_page_through_the_sdk(sim: Simulator) -> None:
    integration = sim.integration(size=10_000, seed=21)
    started = time.monotonic()
    seen: list[str] = []
    with sim.kombo(integration) as kombo:
        page = kombo.hris.get_employees(page_size=250)
        while page:
            seen += [employee.id for employee in page.result.data.results]
            page = page.next()
    elapsed = time.monotonic() - started
    assert len(seen) == len(set(seen)) == 10_000
    assert len(sim.requests("/v1/hris/employees")) == 40
    # Most of this is the SDK validating 10,000 employee models; the simulator renders a page in ~20 ms.
    assert elapsed < 30, f"{elapsed:.1f} s"


def test_a_hundred_thousand_people_are_generated_on_first_read_and_served_a_page_at_a_time(sim: Simulator) -> None:
    created = time.monotonic()
    integration = sim.integration(size=100_000, seed=2)
    assert time.monotonic() - created < 0.5 and integration.summary()["generated"] is False
    headers = sim.headers(integration)
    started = time.monotonic()
    first = sim.http.get(f"{sim.api}/hris/employees", params={"page_size": 250}, headers=headers).json()["data"]
    assert len(first["results"]) == 250 and first["next"]
    second = sim.http.get(
        f"{sim.api}/hris/employees", params={"page_size": 250, "cursor": first["next"]}, headers=headers
    ).json()["data"]
    last_id = integration.mirror.employee_order[-1]
    deep = sim.http.get(f"{sim.api}/hris/employees", params={"ids": last_id}, headers=headers).json()["data"]
    assert {r["id"] for r in first["results"]}.isdisjoint(r["id"] for r in second["results"])
    assert [r["id"] for r in deep["results"]] == [last_id] and deep["next"] is None
    assert time.monotonic() - started < 20
    assert integration.summary()["mirrored_employees"] == 100_000
