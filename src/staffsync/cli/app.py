"""The `staffsync` command: one Typer app, one module per command group.

Every CLI call is a fresh process, and an hourly sync is mostly process start: so a command's module is
imported only when that command runs, or when help lists it. `staffsync sync` then pays for the sync
engine, not for the web server, the demo, the worker or the Kombo simulator."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from staffsync.cli.start_up import collector_paused

# A click command as Typer builds it: Typer's click is vendored in a private module, its types unnamed.
ClickCommand = Any


@dataclass(frozen=True, slots=True)
class LazyCommand:
    """Where a command lives: a module whose `app` is a command group, or one function of a module."""

    module: str
    function: str | None = None

    def load(self, name: str) -> ClickCommand:
        """The click command Typer builds for it, exactly as if it had been registered up front."""
        module = importlib.import_module(self.module)
        holder = typer.Typer(add_completion=False)
        if self.function is None:
            holder.add_typer(module.app)
        else:
            from staffsync.cli.runtime import GuardedCommand

            holder.command(name, cls=GuardedCommand)(getattr(module, self.function))
        return typer.main.get_group(holder).commands[name]


# In the order `staffsync --help` has always listed them (Typer puts single commands before groups).
COMMANDS: Mapping[str, LazyCommand] = {
    "demo": LazyCommand("staffsync.cli.demo", "demo_command"),
    "serve": LazyCommand("staffsync.cli.serve", "serve_command"),
    "worker": LazyCommand("staffsync.cli.worker", "worker_command"),
    "sync": LazyCommand("staffsync.cli.sync", "sync_command"),
    "preview": LazyCommand("staffsync.cli.preview", "preview_command"),
    "kombo-sim": LazyCommand("staffsync.cli.kombo_sim", "kombo_sim_command"),
    "db": LazyCommand("staffsync.cli.database"),
    "accounts": LazyCommand("staffsync.cli.accounts"),
    "tokens": LazyCommand("staffsync.cli.tokens"),
    "connections": LazyCommand("staffsync.cli.connections"),
    "employees": LazyCommand("staffsync.cli.employees"),
    "runs": LazyCommand("staffsync.cli.runs"),
}


class LoadedOnDemand(MutableMapping[str, ClickCommand]):
    """A group's commands by name, each built the first time it is looked up. Its keys are known without
    loading anything, which keeps Typer's "Did you mean 'sync'?" for a mistyped command."""

    def __init__(self, commands: Mapping[str, LazyCommand]) -> None:
        self._lazy = commands
        self._loaded: dict[str, ClickCommand] = {}

    def __getitem__(self, name: str) -> ClickCommand:
        if name not in self._loaded:
            self._loaded[name] = self._lazy[name].load(name)
        return self._loaded[name]

    def __setitem__(self, name: str, command: ClickCommand) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        raise TypeError("staffsync's commands are fixed: COMMANDS lists them")

    def __iter__(self) -> Iterator[str]:
        return iter({**dict.fromkeys(self._lazy), **dict.fromkeys(self._loaded)})

    def __len__(self) -> int:
        return len(self._lazy.keys() | self._loaded.keys())


class LazyGroup(TyperGroup):
    """The root `staffsync` group, its commands loaded on demand."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = LoadedOnDemand(COMMANDS)


app = typer.Typer(
    name="staffsync",
    cls=LazyGroup,
    help="Keep a company's employee directory in step with its HR systems, safely.",
    no_args_is_help=True,
    # A traceback's local variables can hold credentials and personal data: never print them.
    pretty_exceptions_show_locals=False,
)


@app.callback()
def root(
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback of unexpected errors.")] = False,
) -> None:
    """Keep a company's employee directory in step with its HR systems, safely.

    Commands that print data accept --json: one JSON document on stdout; progress and messages go to
    stderr. Exit codes: 0 success, 1 failed operation, 2 bad usage."""


def main() -> None:
    with collector_paused():
        preload(sys.argv[1:])
    app(prog_name="staffsync")


def preload(args: Sequence[str]) -> None:
    """Imports the module of the command `args` name, if any; Typer then finds it already loaded."""
    name = next((arg for arg in args if not arg.startswith("-")), "")
    if name in COMMANDS:
        importlib.import_module(COMMANDS[name].module)
