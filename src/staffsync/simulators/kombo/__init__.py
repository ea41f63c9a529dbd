"""A local Kombo: the unified HRIS API, faithful enough that the unmodified `kombo` SDK talks to it.

    state = SimulatorState(api_keys={"sim-api-key"})
    integration = state.create_integration(size=1_000, seed=7)
    app = create_kombo_simulator(state)            # any ASGI server; or `staffsync kombo-sim`
    with serving_in_thread(app) as base:           # uvicorn on 127.0.0.1, a free port
        with Kombo(api_key="sim-api-key", integration_id=integration.id, server_url=base + "/v1") as k:
            res = k.hris.get_employees(page_size=250)

Kombo routes (all under /v1; `Authorization: Bearer <key>` else 401 PLATFORM.AUTHENTICATION_INVALID;
`X-Integration-Id` on /hris/*, /force-sync, /passthrough/*, missing or unknown → 404
PLATFORM.INTEGRATION_NOT_FOUND; responses are `Content-Type: application/json` exactly):
    GET    /check-api-key                         → {environment_id}
    GET    /hris/employees|employments|groups|legal-entities|locations
    POST   /connect/create-link                   → {link} to the simulated page below
    GET    /connect/{link}  POST /connect/{link}  the hosted page (HTML, no key); see `connect`
    GET    /connect/integration-by-token/{token}  one-time exchange
    GET    /integrations/{id}                     integration details
    DELETE /integrations/{id}                     body {}
    PUT    /integrations/{id}/enabled             {value}; disabled → reads 409 INTEGRATION.INACTIVE, syncs paused
    POST   /integrations/{id}/relink|setup-link   links to the same page
    POST   /force-sync                            {type: FULL|DELTA} → {already_queued, sync_id, type}
    POST   /passthrough/{tool}/{api}              an echo

Lists: `{"status":"success","data":{"results":[...],"next":cursor|null}}`, sorted by Kombo id;
`page_size` 1-250 (default 100; more is 400 PLATFORM.INPUT_INVALID); opaque keyset cursors bound
to the filters (`pagination`); filters as notes §4 (`filters`). Employees carry every required key
of the SDK model; employment types map as documented in `render`. `updated_after` compares an
internal `updated_at` that nested changes (employment, team membership, manager) also move, while
`changed_at` moves only with the record's own fields (`mirror`). Deleted people keep their data
with `remote_deleted_at`, are hidden unless `include_deleted=true`, and are anonymised (every
non-id field null) `anonymise_after` (14 days) later on the simulator clock.

Setup states: INCOMPLETE (filtering not confirmed; a setup link confirms it) and FINAL_SYNC_PENDING
(the first sync, queued by the simulator itself, completes `sync_duration` later) make /hris/*
answer 409 INTEGRATION.SETUP_INCOMPLETE / INTEGRATION.SETUP_SYNC_PENDING — Kombo's status since
2026-05-19 (503 before; set `setup_error_status`). The SDK raises KomboHrisError for
either; 409 is not in its retried set, so a RetryConfig does not spin on an unfinished setup.

Remote HR system vs Kombo mirror: control mutations change the remote `Population`; the API serves
the mirror, which a sync refreshes. With `auto_sync` (default on) every control mutation syncs at
once. Off, changes wait for: a control `sync`, or a `force-sync` that comes due `sync_duration`
(5 s on the simulator clock) later, at the next request of that integration. Only FULL syncs notice
deletions, as a delta sync cannot ask the HR system about records it no longer has.

Control API (`/_control`, not Kombo's, no key; JSON; errors `{"error": ...}`):
    GET    /state                                          clock, settings, integrations
    PUT    /settings                                       {auto_sync, anonymise_after_days, setup_error_status,
                                                            sync_duration_seconds, cursor_lifetime_seconds,
                                                            connect_redirect_url, default_size, default_tool,
                                                            initial_setup_status}
    POST   /clock                                          {now, frozen} | {advance_seconds | advance_days} | {reset}
    POST   /integrations                                   {tool, size, seed, setup_status, organization_name,
                                                            end_user_email, origin_id, filtering_enabled,
                                                            integration_id, generate}
    GET    /integrations/{id}    PATCH {setup_status, enabled, raw_enums, filtering_enabled}
    POST   /integrations/{id}/sync                         {type: FULL|DELTA} → counts
    POST   /integrations/{id}/hire                         person fields (neutral vocabulary) → {id, local_id, …}
    POST   /integrations/{id}/employees/{ref}/change       any person fields
    POST   /integrations/{id}/employees/{ref}/terminate    {termination_date}
    POST   /integrations/{id}/employees/{ref}/delete
    POST   /integrations/{id}/mass-delete                  {count} | {percent}, {seed}
    POST   /faults   GET /faults   DELETE /faults   DELETE /faults/{fault_id}     see `faults`
    GET    /requests?path=/v1/hris/*   DELETE /requests    the request log (method, path, query, status, fault)

`raw_enums` on an integration emits the HR tool's unmapped strings for employment status and type.
"""

from staffsync.simulators.kombo.app import create_kombo_simulator
from staffsync.simulators.kombo.faults import Fault
from staffsync.simulators.kombo.integration import Clock, Integration, SimulatorSettings
from staffsync.simulators.kombo.server import serving_in_thread
from staffsync.simulators.kombo.state import SimulatorState

__all__ = [
    "Clock",
    "Fault",
    "Integration",
    "SimulatorSettings",
    "SimulatorState",
    "create_kombo_simulator",
    "serving_in_thread",
]
