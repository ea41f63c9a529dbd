"""`staffsync kombo-sim`: a local Kombo on 127.0.0.1 with one integration of seeded people.

Prints what a Kombo client needs (base URL, API key, integration id) and serves until Ctrl-C. The
simulator's own control API (`/_control`, see `staffsync.simulators.kombo`) changes people, arms
faults and reads the request log.
"""

from __future__ import annotations

import secrets
from typing import Annotated

import typer

from staffsync.cli.output import JsonOption, emit_json


def kombo_sim_command(
    port: Annotated[
        int, typer.Option("--port", min=0, max=65_535, help="Port on 127.0.0.1 (0: any free port).")
    ] = 8765,
    employees: Annotated[
        int, typer.Option("--employees", min=0, max=500_000, help="How many people the integration's HR system holds.")
    ] = 1_000,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the generated people.")] = 42,
    api_key: Annotated[
        str | None, typer.Option("--api-key", help="The API key clients must send (default: a new random one).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Run a local Kombo simulator that the official Kombo SDK can talk to."""
    # FastAPI and uvicorn cost most of a second to import: only this command should pay for them.
    from staffsync.simulators.kombo import SimulatorState, create_kombo_simulator
    from staffsync.simulators.kombo.server import base_url, bind, server_for

    key = api_key or f"sim_{secrets.token_urlsafe(18)}"
    state = SimulatorState(api_keys={key})
    integration = state.create_integration(size=employees, seed=seed)
    # Generating 100,000 people takes seconds: better now than inside the first request.
    integration.mirror  # noqa: B018
    sock = bind(port)
    url = base_url(sock)
    details = {
        "base_url": f"{url}/v1",
        "api_key": key,
        "integration_id": integration.id,
        "control_url": f"{url}/_control",
        "employees": employees,
    }
    if json_output:
        emit_json(details)
    else:
        for name, value in details.items():
            typer.echo(f"{name}: {value}")
        typer.echo(
            f'Try: Kombo(api_key="{key}", integration_id="{integration.id}", server_url="{url}/v1"). Ctrl-C stops.'
        )
    # Pipes buffer stdout; a script waiting for the URL must see it before the server blocks.
    typer.get_text_stream("stdout").flush()
    server_for(create_kombo_simulator(state), log_level="info").run(sockets=[sock])
