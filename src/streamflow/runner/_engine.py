"""The coordinator: find the stream, start a worker per shard as lineage allows, re-describe
the stream to pick up new shards, decide when the run ends, and stop it cleanly."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from streamflow.errors import RunnerError
from streamflow.runner._aws import AnySet, Backoff, Stopped, error_code, retrying
from streamflow.runner._checkpoint import CheckpointStore, ShardCheckpoint
from streamflow.runner._config import RunnerConfig, reported_options
from streamflow.runner._destination import OnFailureDestination
from streamflow.runner._discovery import (
    Shard,
    StreamDescription,
    describe_stream,
    find_stream,
    ready_to_start,
)
from streamflow.runner._invoke import LambdaHandler
from streamflow.runner._shard import ShardWorker
from streamflow.runner._shared import ReadBudget, Shared, StartPosition
from streamflow.runner._status import Reporter, RunSummary, Stats
from streamflow.runner._timeout import Invoker

__all__ = ["Engine"]

_STARTUP_ATTEMPTS = 6
"""Tries of the first calls before giving up (a wrong endpoint should fail, not hang)."""


class Engine:
    """Runs one table's stream through ``handler`` until a stop condition is met.

    Args:
        handler: the Lambda handler to invoke.
        matches: the filters' verdict on a record (``None``: keep every record).
        config: the validated settings.
        streams: a DynamoDB Streams client (boto3, or a test double).
        dynamodb: a DynamoDB client, used to find the table's latest stream (optional).
        reporter: where events go.
        stop_event: set it (from any thread) to stop after the batches in flight.
        on_failure: where discarded batches' on-failure records go (by default, what
            ``config.on_failure`` names, its client made when the run starts).
    """

    def __init__(
        self,
        *,
        handler: LambdaHandler,
        matches: Callable[[Any], bool] | None,
        config: RunnerConfig,
        streams: Any,
        dynamodb: Any,
        reporter: Reporter,
        stop_event: threading.Event | None = None,
        on_failure: OnFailureDestination | None = None,
    ) -> None:
        self.handler = handler
        if on_failure is None:
            on_failure = OnFailureDestination.of(config, handler=handler)
        self.on_failure = on_failure
        self.matches = matches
        self.config = config
        self.streams = streams
        self.dynamodb = dynamodb
        self.reporter = reporter
        self.stop_event = stop_event or threading.Event()
        self.stopping = threading.Event()
        self.stats = Stats()
        self.workers: dict[str, ShardWorker] = {}
        self.finished: set[str] = set()
        self.shared: Shared | None = None
        self.first_run = True  # no checkpoint for this stream yet
        self.initial: set[str] = set()  # the shards there at the start
        self.signalled: str | None = None  # the name of the first SIGINT/SIGTERM received
        self._stopping_reported = False

    def request_stop(self) -> None:
        """Stop after the batches in flight (from any thread, not from a signal handler)."""
        self.stop_event.set()
        if self.shared is not None:
            self.shared.wake.set()

    def signal_received(self, name: str) -> None:
        """Stop after the batches in flight: what a SIGINT or SIGTERM handler calls.

        A signal handler runs on the main thread between two bytecodes, possibly while that
        thread holds the reporter's lock (drawing the status line) or the lock inside
        ``shared.wake`` (which it waits on): taking either here would deadlock. So this only
        records the signal and sets ``stop_event``, which the main thread never waits on;
        the run loop notices within a quarter of a second and reports it.
        """
        self.signalled = name
        self.stop_event.set()

    def _call(
        self, operation: str, *, attempts: int | None = None
    ) -> Callable[[Callable[[], Any]], Any]:
        # The engine's own calls run on the main thread: their backoff also ends on a stop
        # request (a signal), which the run loop cannot see while a call is retried.
        stop = AnySet(self.stopping, self.stop_event)

        def call(fn: Callable[[], Any]) -> Any:
            return retrying(
                fn,
                stop=stop,
                backoff=Backoff(self.config.throttle_base, self.config.throttle_cap),
                on_retry=self._on_retry(operation),
                attempts=attempts,
            )

        return call

    def _on_retry(self, operation: str) -> Callable[[BaseException, float], None]:
        def report(exc: BaseException, delay: float) -> None:
            self.stats.add(throttled=1)
            self.reporter.retrying_call(
                operation=operation, code=error_code(exc), delay=delay, shard_id=None
            )

        return report

    # --- the run -----------------------------------------------------------------------------

    def run(self) -> RunSummary:
        """Run until idle, ``max_records``, a stop request, or the stream's end.

        Returns:
            What the run did.

        Raises:
            RunnerError: the stream cannot be found or read, or the on-failure destination
                cannot be reached or written (naming it).
            OSError: the checkpoint or on-failure file cannot be written.
        """
        config = self.config
        began = time.monotonic()
        checkpoints = CheckpointStore(config.checkpoint)
        arn = ""
        try:
            arn = find_stream(
                config.table,
                dynamodb=self.dynamodb,
                streams=self.streams,
                call=self._call("DescribeTable", attempts=_STARTUP_ATTEMPTS),
            )
            description = describe_stream(
                self.streams, arn, call=self._call("DescribeStream", attempts=_STARTUP_ATTEMPTS)
            )
            self.on_failure.open(
                lambda operation, fn: self._call(operation, attempts=_STARTUP_ATTEMPTS)(fn)
            )
        except Stopped:  # a signal while the first calls were throttled: nothing was read
            self._report_stopping()
            self.reporter.close()
            summary = self._summary(arn, "stopped", time.monotonic() - began)
            self.reporter.summary(summary)
            return summary
        parts = arn.split(":")
        shared = self.shared = Shared(
            config=config,
            streams=self.streams,
            stream_arn=arn,
            table=config.table,
            region=parts[3] if len(parts) > 5 else "us-east-1",
            account=parts[4] if len(parts) > 5 else "000000000000",
            invoker=Invoker(self.handler, timeout=config.function_timeout),
            matches=self.matches,
            partition_key=description.partition_key,
            checkpoints=checkpoints,
            on_failure=self.on_failure,
            reporter=self.reporter,
            stats=self.stats,
            budget=ReadBudget(config.max_records) if config.max_records else None,
            stopping=self.stopping,
            requested=self.stop_event,
        )
        self.first_run = not checkpoints.has_stream(arn)
        self.initial = {shard.shard_id for shard in description.shards}
        self.reporter.started(
            table=config.table,
            stream_arn=arn,
            shards=len(description.shards),
            options=reported_options(config),
        )
        reason = "stopped"
        next_discovery = time.monotonic() + config.discovery_interval
        try:
            while True:
                self._start_ready(description)
                stop = self._stop_reason(description)
                if stop is not None:
                    reason = stop
                    break
                self.reporter.tick(
                    self.stats.snapshot(),
                    iterator_age=max((w.iterator_age for w in self.workers.values()), default=0.0),
                    shards=len(self.workers),
                )
                shared.wake.wait(0.25)
                shared.wake.clear()
                if self._reap() or time.monotonic() >= next_discovery:
                    description = describe_stream(
                        self.streams, arn, call=self._call("DescribeStream")
                    )
                    next_discovery = time.monotonic() + config.discovery_interval
        except Stopped:  # a stop request while the run loop's own call was retried
            self._report_stopping()
        finally:
            self._stop_workers()
            shared.invoker.close()
            self.reporter.close()
        if shared.fatal is not None:
            raise _as_runner_error(shared.fatal)
        summary = self._summary(arn, reason, time.monotonic() - began)
        self.reporter.summary(summary)
        return summary

    def _start_ready(self, description: StreamDescription) -> None:
        """Start every shard whose parent is done; repeat while that finishes more."""
        assert self.shared is not None
        known = {shard.shard_id for shard in description.shards}
        progress = True
        while progress:
            progress = False
            for shard in description.shards:
                shard_id = shard.shard_id
                if shard_id in self.workers or shard_id in self.finished:
                    continue
                checkpoint = self.shared.checkpoints.get(self.shared.stream_arn, shard_id)
                if checkpoint is not None and checkpoint.finished:
                    self.finished.add(shard_id)
                    progress = True
                    continue
                if not ready_to_start(shard, known, self.finished):
                    continue
                position = self._position(shard, checkpoint)
                if position is None:
                    self.finished.add(shard_id)
                    progress = True
                    continue
                # _position may have just checkpointed a LATEST start: the worker keeps its
                # time in every checkpoint until a record is processed.
                checkpoint = self.shared.checkpoints.get(self.shared.stream_arn, shard_id)
                worker = ShardWorker(self.shared, shard, position, checkpoint)
                self.workers[shard_id] = worker
                worker.thread.start()

    def _position(self, shard: Shard, checkpoint: ShardCheckpoint | None) -> StartPosition | None:
        """Where to start reading a shard; ``None`` to skip it (closed, starting at LATEST)."""
        assert self.shared is not None
        if checkpoint is not None:
            if checkpoint.sequence_number is not None:
                return StartPosition("AFTER_SEQUENCE_NUMBER", checkpoint.sequence_number)
            if checkpoint.latest_since is not None:
                return StartPosition("TRIM_HORIZON", skip_before=checkpoint.latest_since)
            # Checkpointed before its first record was processed (a tumbling window's state
            # is kept after every invocation, a failed one included): it started from the
            # trim horizon, so nothing is passed over.
            return StartPosition("TRIM_HORIZON")
        if (
            self.first_run
            and shard.shard_id in self.initial
            and self.config.starting_position == "LATEST"
        ):
            # Remember the choice and its time, so that a restart neither re-delivers what
            # came before it nor loses what was written while the runner was down, and does
            # not wait for a closed shard that was skipped.
            self.shared.checkpoints.commit(
                self.shared.stream_arn,
                self.config.table,
                {
                    shard.shard_id: ShardCheckpoint(
                        sequence_number=None, finished=shard.closed, latest_since=int(time.time())
                    )
                },
            )
            return None if shard.closed else StartPosition("LATEST")
        return StartPosition("TRIM_HORIZON")

    def _reap(self) -> bool:
        """Forget finished workers; True if any finished (their children may be ready)."""
        done = [shard_id for shard_id, worker in self.workers.items() if worker.finished]
        for shard_id in done:
            self.finished.add(shard_id)
            del self.workers[shard_id]
        return bool(done)

    def _stop_reason(self, description: StreamDescription) -> str | None:
        assert self.shared is not None
        shared, config = self.shared, self.config
        if shared.fatal is not None:
            return "error"
        if self.stop_event.is_set():
            self._report_stopping()
            return "stopped"
        quiet = not any(worker.busy for worker in self.workers.values())
        if shared.budget is not None and shared.budget.left <= 0 and quiet:
            return "max_records"
        if (
            config.until_idle is not None
            and all(worker.idle for worker in self.workers.values())
            and time.monotonic() - shared.last_read_at >= config.until_idle
        ):
            return "idle"
        if (
            description.status == "DISABLED"
            and all(shard.closed for shard in description.shards)
            and all(shard.shard_id in self.finished for shard in description.shards)
            and not self.workers
        ):
            return "stream_disabled"
        return None

    def _report_stopping(self) -> None:
        if self.signalled is not None and not self._stopping_reported:
            self._stopping_reported = True
            self.reporter.stopping(self.signalled)

    def _stop_workers(self) -> None:
        self.stopping.set()
        for worker in self.workers.values():
            worker.kick.set()
        for worker in self.workers.values():
            worker.thread.join()

    def _summary(self, arn: str, reason: str, duration: float) -> RunSummary:
        counts = self.stats.snapshot()
        return RunSummary(stream_arn=arn, reason=reason, duration=duration, **counts)


def _as_runner_error(exc: BaseException) -> BaseException:
    code = error_code(exc)
    if code is None and not _is_botocore_error(exc):
        return exc
    error = RunnerError(f"reading the stream failed: {exc}", code=code)
    error.__cause__ = exc
    return error


def _is_botocore_error(exc: BaseException) -> bool:
    """No credentials, an unreachable endpoint...: botocore's own errors."""
    return any(cls.__module__.startswith("botocore") for cls in type(exc).__mro__)
