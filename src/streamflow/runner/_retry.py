"""When one shard's failing batch is retried, and when its records are given up.

As the event source mapping does: a failed batch is retried after a pause (doubling from
``retry_base`` up to ``retry_cap``) until it has failed more than ``max_retries`` times
(MaximumRetryAttempts); records older than ``max_record_age`` (MaximumRecordAgeInSeconds)
are given up before an invocation. Records given up are *discarded*: Lambda's on-failure
record goes to the ``--on-failure`` destination (see :mod:`._destination`), the discard is
counted and reported, and the lane counts afresh for the record after them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from streamflow.runner._batcher import DONE, Entry, Lane, ShardBuffer
from streamflow.runner._invoke import Condition, on_failure_record

if TYPE_CHECKING:
    from streamflow.runner._shared import Shared

__all__ = ["Retries"]


class Retries:
    """The retry and discard rules of one shard's lanes.

    Args:
        shared: what the run's workers share (settings, on-failure destination, stats,
            reporter).
        shard_id: the shard whose records these are.
    """

    def __init__(self, shared: Shared, shard_id: str) -> None:
        self.shared = shared
        self.shard_id = shard_id

    def exhausted(self, lane: Lane) -> bool:
        """The lane's head records have failed more times than MaximumRetryAttempts allows."""
        limit = self.shared.config.max_retries
        return limit >= 0 and lane.attempts > limit

    def retry_later(self, lane: Lane) -> None:
        """Hold the lane back for the next retry's pause."""
        config = self.shared.config
        delay = min(config.retry_cap, config.retry_base * 2 ** min(lane.attempts - 1, 30))
        lane.retry_at = time.monotonic() + float(delay)

    def retry_or_discard(self, lane: Lane, entries: list[Entry]) -> None:
        """After a failed invocation: discard ``entries`` if retries are exhausted, else
        retry them after a pause."""
        if self.exhausted(lane):
            self.discard(entries, "RetryAttemptsExhausted", lane)
            if lane.splits:
                lane.splits.pop(0)
        else:
            self.retry_later(lane)

    def expire(self, lane: Lane, pending: Iterable[Entry]) -> bool:
        """Discard the lane's leading ``pending`` records that are older than
        MaximumRecordAgeInSeconds; True if there were any."""
        age = self.shared.config.max_record_age
        if age < 0:
            return False
        oldest_allowed = time.time() - age
        expired = []
        for entry in pending:
            if entry.created >= oldest_allowed:
                break
            expired.append(entry)
        # Discarded as the batches Lambda would have read them: one on-failure record (with
        # its batchSize) per batch-size run of records, not one for them all.
        size = self.shared.config.batch_size
        for start in range(0, len(expired), size):
            self.discard(expired[start : start + size], "RecordAgeExceeded", lane)
        if expired:
            lane.splits.clear()
        return bool(expired)

    def discard(self, entries: list[Entry], condition: Condition, lane: Lane) -> None:
        """Give up on ``entries``: send Lambda's on-failure record to the destination, then
        mark them done (so the checkpoint moves past them only once the record is written),
        report.

        Raises:
            RunnerError: the destination cannot be written; the entries stay undone.
            Stopped: the run stopped while the destination's errors were waited out.
            OSError: the on-failure file cannot be written.
        """
        shared = self.shared
        shard_id = self.shard_id
        shared.on_failure.write(
            on_failure_record(
                condition=condition,
                invoke_count=lane.invokes,
                function_error=lane.last_function_error if lane.invokes else None,
                region=shared.region,
                account=shared.account,
                shard_id=self.shard_id,
                stream_arn=shared.stream_arn,
                first_sequence=entries[0].text,
                last_sequence=entries[-1].text,
                first_created=entries[0].created,
                last_created=entries[-1].created,
                batch_size=len(entries),
            ),
            event=ShardBuffer.event_json(entries),
            call=lambda operation, fn: shared.call(operation, fn, shard_id=shard_id),
        )
        for entry in entries:
            entry.state = DONE
        lane.reset()
        shared.stats.add(records_discarded=len(entries))
        shared.reporter.discarded(
            shard_id=self.shard_id,
            condition=condition,
            records=len(entries),
            first=entries[0].text,
            last=entries[-1].text,
            to=shared.on_failure.target,
        )
