"""One shard's worker thread: read, batch, invoke, retry, checkpoint.

The loop, as an event source mapping runs it for one shard:

1. poll GetRecords when the buffer has room (see :mod:`._reader`);
2. buffer the records, filtered, in Lambda's shape; checkpoint past a filtered-out prefix;
3. hand each lane's next due batch to the handler, on an invoker thread (see
   :mod:`._timeout`): waiting for it until it returns or times out, or, when the
   parallelization factor is above 1, collecting each lane's result as it comes; then apply
   Lambda's response rules: success, partial failure (retry from the lowest failed record),
   failure (bisect, or retry with backoff until MaximumRetryAttempts, then discard to the
   on-failure destination: see :mod:`._retry`);
4. checkpoint the done prefix of the buffer, durably, after every completed batch;
5. once the shard is closed and drained, close its tumbling window and report it finished,
   so that its children may start.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from streamflow.runner._aws import Stopped
from streamflow.runner._batcher import DONE, INFLIGHT, PENDING, Entry, Lane, ShardBuffer
from streamflow.runner._checkpoint import ShardCheckpoint
from streamflow.runner._config import MAX_PAYLOAD_BYTES
from streamflow.runner._discovery import Shard
from streamflow.runner._invoke import LambdaContext, Outcome
from streamflow.runner._reader import ShardReader
from streamflow.runner._retry import Retries
from streamflow.runner._shared import Shared, StartPosition
from streamflow.runner._timeout import Invocation
from streamflow.runner._window import Window

__all__ = ["ShardWorker"]


@dataclass(eq=False, slots=True)
class _Batch:
    lane: Lane
    entries: list[Entry]
    attempt: int
    final: bool = False
    terminated_early: bool = False


class ShardWorker:
    """Reads and delivers one shard on its own thread (see the module docstring).

    Attributes read by the engine: ``busy`` (records buffered or being delivered),
    ``finished`` (closed and fully processed), ``iterator_age`` (seconds), ``kick`` (set it
    to wake the worker).
    """

    def __init__(
        self,
        shared: Shared,
        shard: Shard,
        start: StartPosition,
        checkpoint: ShardCheckpoint | None = None,
    ) -> None:
        config = shared.config
        self.shared = shared
        self.shard = shard
        self.buffer = ShardBuffer(
            lanes=config.parallelization_factor,
            batch_size=config.batch_size,
            batching_window=config.batching_window,
            max_bytes=MAX_PAYLOAD_BYTES,
        )
        self.capacity = min(
            max(2 * config.batch_size * config.parallelization_factor, 1000), 20_000
        )
        self.window = Window(config.tumbling_window, checkpoint)
        self.reader = ShardReader(shared, shard, start, self.window)
        self.retries = Retries(shared, shard.shard_id)
        self.checkpoint_sequence = checkpoint.sequence_number if checkpoint else None
        self.latest_since = checkpoint.latest_since if checkpoint else None
        self.inflight: dict[int, tuple[_Batch, Invocation]] = {}
        self.kick = threading.Event()
        self.busy = True
        self.finished = False
        self.iterator_age = 0.0
        self.thread = threading.Thread(
            target=self.run, name=f"streamflow-{shard.shard_id[-12:]}", daemon=True
        )

    @property
    def idle(self) -> bool:
        """Caught up (the last poll found nothing new) with nothing left to deliver."""
        return not self.busy and (self.reader.caught_up or self.reader.iterator is None)

    # --- the loop ----------------------------------------------------------------------------

    def run(self) -> None:
        """The thread's body: loop until the shard is finished or the run stops."""
        shared, reader = self.shared, self.reader
        try:
            try:
                reader.open()
                while not shared.should_stop():
                    self._collect()
                    now = time.monotonic()
                    if (
                        reader.can_read(len(self.buffer) < self.capacity)
                        and now >= reader.next_poll
                    ):
                        self._add(reader.read(now))
                    self._dispatch()
                    self._update_busy()
                    if reader.ended and not self.busy and not self.window.is_open:
                        self._finish()
                        return
                    self._sleep()
            except Stopped:
                pass
            self._drain()
        except BaseException as exc:
            shared.fatal = shared.fatal or exc
            shared.stopping.set()
        finally:
            self.busy = False
            shared.wake.set()

    def _add(self, entries: list[Entry]) -> None:
        if not entries:
            if self.reader.caught_up and self.buffer.settled():
                self.iterator_age = 0.0
            return
        for entry in entries:
            self.buffer.add(entry)
        self.busy = True
        self._advance()  # a filtered-out prefix is checkpointed past at once

    def _sleep(self) -> None:
        now = time.monotonic()
        moments = [now + 0.5]
        if self.reader.can_read(len(self.buffer) < self.capacity):
            moments.append(self.reader.next_poll)
        moments.extend(invocation.deadline for _, invocation in self.inflight.values())
        for lane in self.buffer.lanes:
            if not lane.busy and lane.retry_at > now:
                moments.append(lane.retry_at)
            elif not lane.busy:
                due = self.buffer.due_at(lane)
                if due is not None:
                    moments.append(due)
        if self.window.is_open and self.reader.caught_up:
            moments.append(now + max(0.0, self.window.end - time.time()))
        timeout = min(moments) - now
        if timeout > 0 and self.kick.wait(timeout):
            self.kick.clear()

    def _update_busy(self) -> None:
        busy = bool(self.inflight) or len(self.buffer) > 0
        if busy != self.busy:
            self.busy = busy
            self.shared.wake.set()

    def _finish(self) -> None:
        self.finished = True
        self._commit()
        self.shared.stats.add(shards_finished=1)
        self.shared.reporter.shard_finished(self.shard.shard_id)

    def _drain(self) -> None:
        """Stopping: let the batches in flight complete and checkpoint; start nothing new.
        A batch whose discard was stopped while its on-failure destination's errors were
        waited out stays undone (not checkpointed past)."""
        for batch, invocation in list(self.inflight.values()):
            invocation.wait()  # until its timeout at most
            del self.inflight[batch.lane.index]
            try:
                self._complete(batch, *invocation.result())
            except Stopped:
                continue

    # --- invoking ----------------------------------------------------------------------------

    def _dispatch(self) -> None:
        """Start every lane's due batch; inline lanes run one batch after another."""
        started = True
        while started and not self.shared.should_stop():
            started = False
            for lane in self.buffer.lanes:
                if not lane.busy and time.monotonic() >= lane.retry_at and self._start(lane):
                    started = True

    def _start(self, lane: Lane) -> bool:
        config, reader = self.shared.config, self.reader
        self._expire(lane)
        if config.tumbling_window:
            closing = self.window.closing(
                next(self.buffer.pending(lane), None),
                caught_up=reader.caught_up,
                shard_ended=reader.ended,
            )
            if closing is not None:
                self._invoke(_Batch(lane, [], lane.attempts, final=True, terminated_early=closing))
                return True
        budget = self.shared.budget
        flush = reader.iterator is None or (budget is not None and budget.left <= 0)
        entries = self.buffer.take(
            lane,
            time.monotonic(),
            flush=flush,
            windowed=bool(config.tumbling_window),
            reserved=self.window.fields_bytes(self.shard.shard_id, self.shared.stream_arn),
        )
        if not entries:
            return False
        self.window.open(entries[0].window)
        self._invoke(_Batch(lane, entries, lane.attempts))
        return True

    def _invoke(self, batch: _Batch) -> None:
        shared = self.shared
        lane = batch.lane
        lane.busy = True
        lane.invokes += 1
        for entry in batch.entries:
            entry.state = INFLIGHT
        event = self.buffer.event(batch.entries)
        windowed = bool(shared.config.tumbling_window)
        if windowed:
            event.update(
                self.window.event_fields(
                    shard_id=self.shard.shard_id,
                    stream_arn=shared.stream_arn,
                    final=batch.final,
                    terminated_early=batch.terminated_early,
                )
            )
        context = LambdaContext(
            region=shared.region, account=shared.account, timeout=shared.config.function_timeout
        )
        inline = shared.config.parallelization_factor == 1
        invocation = shared.invoker.start(
            event,
            context,
            sequence_numbers=[entry.text for entry in batch.entries],
            windowed=windowed,
            on_done=None if inline else self.kick.set,
        )
        if inline:  # one lane: nothing else to do until it returns or times out
            invocation.wait()
            self._complete(batch, *invocation.result())
        else:
            self.inflight[lane.index] = (batch, invocation)

    def _collect(self) -> None:
        now = time.monotonic()
        for index, (batch, invocation) in list(self.inflight.items()):
            if invocation.over(now):
                del self.inflight[index]
                self._complete(batch, *invocation.result())

    def _complete(self, batch: _Batch, outcome: Outcome, duration: float) -> None:
        lane, entries = batch.lane, batch.entries
        lane.busy = False
        self._report(batch, outcome, duration)
        if outcome.status != "ok":
            lane.last_function_error = outcome.function_error is not None
        if batch.final:
            self._complete_final(batch, outcome)
        elif outcome.status == "ok":
            for entry in entries:
                entry.state = DONE
            lane.reset()
            if lane.splits:
                lane.splits.pop(0)
            self.iterator_age = max(0.0, time.time() - entries[-1].created)
            self.window.keep(outcome.state)
        elif outcome.status == "partial":
            failed_from = outcome.failed_index or 0
            for entry in entries[:failed_from]:
                entry.state = DONE
            for entry in entries[failed_from:]:
                entry.state = PENDING
            lane.splits.clear()
            if failed_from:  # progress: count afresh for the new head record
                lane.attempts, lane.invokes = 1, 1
            else:
                lane.attempts += 1
            self.window.keep(outcome.state)
            self.retries.retry_or_discard(lane, entries[failed_from:])
        else:
            for entry in entries:
                entry.state = PENDING
            if self.shared.config.bisect_on_error and len(entries) > 1:
                half = (len(entries) + 1) // 2  # retried at once; not counted as a retry
                lane.splits[:1] = [half, len(entries) - half]
            else:
                lane.attempts += 1
                self.retries.retry_or_discard(lane, entries)
        self._advance(force=bool(self.shared.config.tumbling_window))

    def _report(self, batch: _Batch, outcome: Outcome, duration: float) -> None:
        entries = batch.entries
        self.shared.stats.add(
            invocations=1,
            records_invoked=len(entries),
            failed_invocations=0 if outcome.status == "ok" else 1,
        )
        reason = outcome.reason
        if outcome.status == "partial" and outcome.failed_index is not None:
            reason = f"batchItemFailures: lowest is {entries[outcome.failed_index].text}"
        self.shared.reporter.batch(
            shard_id=self.shard.shard_id,
            lane=batch.lane.index,
            records=len(entries),
            first=entries[0].text if entries else None,
            last=entries[-1].text if entries else None,
            status=outcome.status,
            attempt=batch.attempt,
            duration=duration,
            reason=reason,
            error=outcome.error,
            final_window=batch.final,
        )

    def _complete_final(self, batch: _Batch, outcome: Outcome) -> None:
        lane = batch.lane
        if outcome.status == "ok":
            lane.reset()
            self.window.close(continue_same=batch.terminated_early and not self.reader.ended)
            return
        lane.attempts += 1
        if self.retries.exhausted(lane):
            self.shared.reporter.window_dropped(
                shard_id=self.shard.shard_id, reason="its final invocation kept failing"
            )
            lane.reset()
            self.window.close(continue_same=False)
        else:
            self.retries.retry_later(lane)

    def _expire(self, lane: Lane) -> None:
        """MaximumRecordAgeInSeconds: discard the lane's leading records that are too old."""
        if self.retries.expire(lane, self.buffer.pending(lane)):
            self._advance()

    # --- checkpoints -------------------------------------------------------------------------

    def _advance(self, *, force: bool = False) -> None:
        last = self.buffer.pop_done()
        if last is not None:
            self.checkpoint_sequence = last.text
        if last is not None or force:
            self._commit()

    def _commit(self) -> None:
        shared = self.shared
        window = self.window
        shared.checkpoints.commit(
            shared.stream_arn,
            shared.table,
            {
                self.shard.shard_id: ShardCheckpoint(
                    sequence_number=self.checkpoint_sequence,
                    finished=self.finished,
                    latest_since=self.latest_since,
                    window_start=window.start,
                    window_state=window.state if window.start is not None else None,
                )
            },
        )
