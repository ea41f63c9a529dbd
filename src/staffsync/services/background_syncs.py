"""Starting a sync from a request (API "POST /syncs", the UI's Sync now): the run goes on in a thread of
its own and the request answers as soon as the run's record exists, or with the reason it could not start."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from staffsync.connectors.base import HRConnector
from staffsync.storage.db import Database
from staffsync.sync.engine import ProposedSettings, SyncOutcome, run_sync

# How long a request waits for the background run to exist; it is recorded before the first fetch.
START_TIMEOUT_S = 30.0


class SyncNotStarted(RuntimeError):
    """The run never began (no record of it exists); `cause` is why, when known."""

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.cause = cause


@dataclass
class _StartSignal:
    """Set once the run's record exists (its id is known), or once the run could not start at all."""

    started: threading.Event = field(default_factory=threading.Event)
    run_id: str | None = None
    error: BaseException | None = None

    def run_started(self, run_id: str) -> None:
        self.run_id = run_id
        self.started.set()


@dataclass
class BackgroundSyncs:
    """The syncs a web process started; kept so that a shutdown or a test can wait for them."""

    db: Database
    on_finished: Callable[[SyncOutcome], None] = lambda _outcome: None
    threads: list[threading.Thread] = field(default_factory=list)

    def start(
        self,
        connection_id: str,
        *,
        account_id: str,
        connector: HRConnector,
        dry_run: bool = False,
        full: bool | None = None,
        trigger: str,
        proposed: ProposedSettings | None = None,
    ) -> str:
        """The new run's id once it is recorded. Raises SyncNotStarted (with the cause, e.g. ConnectionBusy)
        when it could not begin."""
        signal = _StartSignal()

        def work() -> None:
            try:
                outcome = run_sync(
                    self.db,
                    connection_id,
                    account_id=account_id,
                    connector=connector,
                    dry_run=dry_run,
                    full=full,
                    trigger=trigger,
                    on_started=signal.run_started,
                    proposed=proposed,
                )
                self.on_finished(outcome)
            except BaseException as error:  # handed to the waiting request, which answers with it
                signal.error = error
            finally:
                signal.started.set()

        thread = threading.Thread(target=work, name=f"sync-{connection_id}", daemon=True)
        self.threads[:] = [t for t in self.threads if t.is_alive()]
        self.threads.append(thread)
        thread.start()
        if not signal.started.wait(START_TIMEOUT_S):
            raise SyncNotStarted("The sync did not start in time; see the connection's runs")
        if signal.run_id is None:
            raise SyncNotStarted("The sync could not start", signal.error)
        return signal.run_id

    def join(self, timeout: float | None = None) -> None:
        for thread in list(self.threads):
            thread.join(timeout)
