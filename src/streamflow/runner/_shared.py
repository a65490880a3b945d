"""What the shard workers of one run share: settings, clients, sinks, and stop signals."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from streamflow.runner._aws import AnySet, Backoff, error_code, retrying
from streamflow.runner._checkpoint import CheckpointStore
from streamflow.runner._config import RunnerConfig
from streamflow.runner._destination import OnFailureDestination
from streamflow.runner._status import Reporter, Stats
from streamflow.runner._timeout import Invoker

__all__ = ["ReadBudget", "Shared", "StartPosition"]

T = TypeVar("T")


class ReadBudget:
    """How many more records the run may read (``max_records``), shared by all shards."""

    def __init__(self, total: int) -> None:
        self.left = total
        self._lock = threading.Lock()

    def take(self, wanted: int) -> int:
        with self._lock:
            granted = min(wanted, self.left)
            self.left -= granted
            return granted


@dataclass(eq=False)
class Shared:
    """What every shard worker of a run shares."""

    config: RunnerConfig
    streams: Any
    stream_arn: str
    table: str
    region: str
    account: str
    invoker: Invoker
    matches: Callable[[Any], bool] | None
    partition_key: str | None
    checkpoints: CheckpointStore
    on_failure: OnFailureDestination
    reporter: Reporter
    stats: Stats
    budget: ReadBudget | None
    stopping: threading.Event = field(default_factory=threading.Event)
    requested: threading.Event = field(default_factory=threading.Event)
    wake: threading.Event = field(default_factory=threading.Event)
    last_read_at: float = field(default_factory=time.monotonic)
    fatal: BaseException | None = None

    def should_stop(self) -> bool:
        """A stop was asked for (``stop_event``, a signal) or the run is ending."""
        return self.stopping.is_set() or self.requested.is_set()

    def on_retry(
        self, operation: str, shard_id: str | None
    ) -> Callable[[BaseException, float], None]:
        """A callback that counts and reports one throttled (or 5xx) call."""

        def report(exc: BaseException, delay: float) -> None:
            self.stats.add(throttled=1)
            self.reporter.retrying_call(
                operation=operation, code=error_code(exc), delay=delay, shard_id=shard_id
            )

        return report

    def call(self, operation: str, fn: Callable[[], T], *, shard_id: str | None = None) -> T:
        """One AWS call of a worker, transient errors waited out with the run's throttling
        backoff, counted and reported, until a stop is requested or the run is stopping.

        Raises:
            Stopped: a stop while an error is waited out.
            Exception: an error that is not transient.
        """
        return retrying(
            fn,
            stop=AnySet(self.stopping, self.requested),
            backoff=Backoff(self.config.throttle_base, self.config.throttle_cap),
            on_retry=self.on_retry(operation, shard_id),
        )


@dataclass(frozen=True, slots=True)
class StartPosition:
    """Where a shard's reading begins: an iterator type and, for AFTER_SEQUENCE_NUMBER,
    the checkpointed sequence number. ``skip_before`` (epoch seconds) passes over records
    created earlier, silently: a shard first started at LATEST, resumed from TRIM_HORIZON."""

    kind: str
    sequence: str | None = None
    skip_before: int | None = None
