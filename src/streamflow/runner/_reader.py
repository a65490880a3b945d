"""Reading one shard: its iterator, polling cadence, error recovery, and turning GetRecords
pages into buffer entries.

* The first iterator is TRIM_HORIZON or LATEST, or AFTER_SEQUENCE_NUMBER the checkpoint.
* After a page with records the next poll is immediate; after an empty page it waits the
  poll interval (a quarter second: Lambda polls a shard four times a second). An empty page
  means "caught up" only on an open shard: AWS may answer a closed shard with empty pages
  before its last records, and only a null ``NextShardIterator`` ends it.
* Throttling and 5xx answers back off exponentially with jitter, capped.
* ExpiredIteratorException: a new iterator AFTER_SEQUENCE_NUMBER the last record read (the
  checkpoint, when nothing is buffered), so nothing is lost or read twice.
* TrimmedDataAccessException: the records at the iterator aged out (24 hours) before they
  were read. That is data loss: it is reported, and reading goes on from TRIM_HORIZON.
* ResourceNotFoundException for the shard: it aged out of the stream entirely; reported as
  data loss, and the shard counts as finished so that its children can start.
* A ``NextShardIterator`` of null: the shard is closed and read to its end.
"""

from __future__ import annotations

import json
import time
import zlib
from typing import TYPE_CHECKING, Any

from streamflow.records import StreamRecord
from streamflow.runner._aws import AnySet, Backoff, error_code, is_transient, retrying
from streamflow.runner._batcher import Entry

if TYPE_CHECKING:
    from streamflow.runner._discovery import Shard
    from streamflow.runner._shared import Shared, StartPosition
    from streamflow.runner._window import Window

__all__ = ["ShardReader"]

GET_RECORDS_LIMIT = 1000
_compact = json.JSONEncoder(separators=(",", ":")).encode


class ShardReader:
    """The reading half of a shard worker.

    Attributes:
        iterator: the shard iterator for the next GetRecords, ``None`` once reading ended.
        exhausted: the shard is closed and every record was read.
        cut: reading stopped early because ``max_records`` was reached.
        caught_up: the last poll of an open shard found no records.
        last_read: the sequence number of the last record read.
    """

    def __init__(self, shared: Shared, shard: Shard, start: StartPosition, window: Window) -> None:
        self.shared = shared
        self.shard = shard
        self.start = start
        self.window = window
        self.iterator: str | None = None
        self.exhausted = False
        self.cut = False
        self.caught_up = False
        # The last record read: AT_SEQUENCE_NUMBER (a redrive) has read none of its own yet.
        self.last_read = start.sequence if start.kind == "AFTER_SEQUENCE_NUMBER" else None
        self.next_poll = 0.0
        self.backoff = Backoff(shared.config.throttle_base, shared.config.throttle_cap)

    @property
    def ended(self) -> bool:
        """The shard was read to its end (not merely stopped by ``max_records``)."""
        return self.exhausted and self.iterator is None and not self.cut

    def open(self) -> None:
        """Get the first iterator and announce the shard.

        Raises:
            Stopped: a stop was requested while waiting out throttling.
        """
        self.iterator = self._acquire(self.start.kind, self.start.sequence)
        self.shared.reporter.shard_started(
            self.shard.shard_id, self.shard.parent_id, self.start.kind, self.start.sequence
        )

    def can_read(self, room: bool) -> bool:
        budget = self.shared.budget
        return self.iterator is not None and room and (budget is None or budget.left > 0)

    def read(self, now: float) -> list[Entry]:
        """One GetRecords call; the records it returned, as entries (possibly none).

        Raises:
            Stopped: a stop was requested while re-acquiring an iterator.
            Exception: an AWS error the runner cannot recover from.
        """
        shared = self.shared
        limit = GET_RECORDS_LIMIT
        if shared.budget is not None:
            limit = min(limit, shared.budget.left)
        try:
            response = shared.streams.get_records(ShardIterator=self.iterator, Limit=limit)
        except Exception as exc:
            self._failed(exc, now)
            return []
        self.backoff.reset()
        records = response.get("Records") or []
        following = response.get("NextShardIterator")
        self.iterator = str(following) if following else None
        if self.iterator is None:
            self.exhausted = True
        if not records:
            # An empty page of a closed shard is not its end (a null NextShardIterator is):
            # AWS may answer several empty pages before the records that follow, so such a
            # shard is never caught up, and --until-idle waits until it is read to its end.
            self.caught_up = self.iterator is not None and not self.shard.closed
            self.next_poll = now + shared.config.poll_interval
            return []
        if shared.budget is not None:
            granted = shared.budget.take(len(records))
            if granted < len(records):  # the rest is never seen: stop reading this shard
                records = records[:granted]
                self.iterator, self.cut = None, True
        self.caught_up = False
        self.next_poll = now
        return self._entries(records, now)

    # --- iterators and errors ---------------------------------------------------------------

    def _acquire(self, kind: str, sequence: str | None) -> str | None:
        shared = self.shared
        kwargs: dict[str, Any] = {
            "StreamArn": shared.stream_arn,
            "ShardId": self.shard.shard_id,
            "ShardIteratorType": kind,
        }
        if sequence is not None:
            kwargs["SequenceNumber"] = sequence
        try:
            response = retrying(
                lambda: shared.streams.get_shard_iterator(**kwargs),
                stop=AnySet(shared.stopping, shared.requested),
                backoff=Backoff(shared.config.throttle_base, shared.config.throttle_cap),
                on_retry=shared.on_retry("GetShardIterator", self.shard.shard_id),
            )
        except Exception as exc:
            code = error_code(exc)
            if code == "TrimmedDataAccessException" and kind != "TRIM_HORIZON":
                self._data_loss(f"records after {sequence} were trimmed before they were read")
                return self._acquire("TRIM_HORIZON", None)
            if code == "ResourceNotFoundException":
                self._gone()
                return None
            raise
        iterator = response.get("ShardIterator")
        if iterator is None:
            self.exhausted = True
            return None
        return str(iterator)

    def _failed(self, exc: Exception, now: float) -> None:
        shared = self.shared
        code = error_code(exc)
        if is_transient(exc):
            self.caught_up = False
            delay = self.backoff.next_delay()
            shared.on_retry("GetRecords", self.shard.shard_id)(exc, delay)
            self.next_poll = now + delay
        elif code == "ExpiredIteratorException":
            kind: str = self.start.kind
            sequence = self.start.sequence
            if self.last_read is not None:
                kind, sequence = "AFTER_SEQUENCE_NUMBER", self.last_read
            shared.reporter.iterator_expired(
                shard_id=self.shard.shard_id, position=f"{kind} {sequence or ''}".strip()
            )
            self.iterator = self._acquire(kind, sequence)
        elif code == "TrimmedDataAccessException":
            self._data_loss("records were trimmed before they were read (24-hour retention)")
            self.iterator = self._acquire("TRIM_HORIZON", None)
        elif code == "ResourceNotFoundException":
            self._gone()
        else:
            raise exc

    def _gone(self) -> None:
        self._data_loss("the shard is no longer in the stream; its unread records are lost")
        self.iterator, self.exhausted = None, True

    def _data_loss(self, reason: str) -> None:
        self.shared.stats.add(data_loss=1)
        self.shared.reporter.data_loss(shard_id=self.shard.shard_id, reason=f"{reason}; reading on")

    # --- records ------------------------------------------------------------------------------

    def _entries(self, records: list[dict[str, Any]], now: float) -> list[Entry]:
        shared = self.shared
        arn, matches = shared.stream_arn, shared.matches
        lanes = shared.config.parallelization_factor
        skip_before = self.start.skip_before
        entries = []
        kept = skipped = 0
        for item in records:
            record = StreamRecord.from_get_records(item, stream_arn=arn)
            raw = record.raw
            created = raw["dynamodb"].get("ApproximateCreationDateTime")
            created = float(created) if isinstance(created, (int, float)) else time.time()
            payload, lane, window = None, 0, 0
            if skip_before is not None and created < skip_before:
                skipped += 1  # written before a LATEST start: not this run's business
            elif matches is None or matches(raw):
                kept += 1
                payload = _compact(raw)
                lane = self._lane_of(raw, lanes) if lanes > 1 else 0
                window = self.window.assign(created)
            entries.append(
                Entry(
                    text=record.sequence_number,
                    payload=payload,
                    created=created,
                    lane=lane,
                    read_at=now,
                    window=window,
                )
            )
        self.last_read = entries[-1].text
        shared.stats.add(
            records_read=len(records) - skipped,
            records_kept=kept,
            records_dropped=len(records) - kept - skipped,
        )
        shared.last_read_at = time.monotonic()
        return entries

    def _lane_of(self, raw: dict[str, Any], lanes: int) -> int:
        """The lane of a record: a hash of its partition key (all its keys if the key
        schema is unknown), so that one key's records always share a lane."""
        keys = raw["dynamodb"]["Keys"]
        name = self.shared.partition_key
        key = keys[name] if name is not None and name in keys else keys
        text = json.dumps(key, sort_keys=True, separators=(",", ":"))
        return zlib.crc32(text.encode()) % lanes
