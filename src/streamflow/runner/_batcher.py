"""One shard's read-ahead buffer, cut into batches as Lambda cuts them.

Records enter in stream order. A record dropped by the filters stays in the buffer as a
marker already done, so that the checkpoint moves past it exactly when every record before
it is processed. Kept records are spread over *lanes*: one lane, or one per unit of the
parallelization factor, chosen by hashing the record's partition key, so that a key's
records are always handled by the same lane, in order. Each lane runs at most one batch at a
time. The checkpoint is the last record of the longest done prefix of the buffer: below the
lowest record any lane still has to deliver.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["DONE", "INFLIGHT", "PENDING", "Entry", "Lane", "ShardBuffer"]

PENDING, INFLIGHT, DONE = 0, 1, 2
_EVENT_OVERHEAD = len('{"Records":[]}')


class Entry:
    """One record of the shard, as read.

    Attributes:
        text: the sequence number.
        payload: the record in Lambda's shape as compact JSON text, ``None`` for a record
            the filters dropped. Each invocation decodes its own copy, as Lambda's runtime
            does, so a handler that changes its event cannot change a retry's.
        created: ApproximateCreationDateTime, epoch seconds.
        lane: the lane (parallelization) the record belongs to.
        read_at: when it was read (monotonic), for the batching window.
        window: the start of its tumbling window (epoch seconds), 0 without windows.
        state: PENDING, INFLIGHT or DONE.
    """

    __slots__ = ("created", "lane", "payload", "read_at", "state", "text", "window")

    def __init__(
        self,
        *,
        text: str,
        payload: str | None,
        created: float,
        lane: int,
        read_at: float,
        window: int = 0,
    ) -> None:
        self.text = text
        self.payload = payload
        self.created = created
        self.lane = lane
        self.read_at = read_at
        self.window = window
        self.state = DONE if payload is None else PENDING

    @property
    def size(self) -> int:
        """Bytes of JSON this record adds to an event (the text is ASCII)."""
        return len(self.payload) if self.payload is not None else 0

    def __repr__(self) -> str:
        kept = "kept" if self.payload is not None else "dropped"
        return f"Entry({self.text}, {kept}, lane={self.lane}, state={self.state})"


class Lane:
    """A sequential stream of batches within a shard, with its retry bookkeeping.

    Attributes:
        busy: a batch of this lane is being invoked.
        attempts: failed invocations counted against MaximumRetryAttempts for the records
            at the head of the lane (bisection does not count).
        invokes: invocations that included the head record.
        splits: sizes of the next batches after a bisection, first to last.
        retry_at: do not invoke before this (monotonic) time: the retry backoff.
        last_function_error: whether the last failed invocation was a function error (it
            raised or timed out; ``None``: none).
    """

    __slots__ = (
        "attempts",
        "busy",
        "index",
        "invokes",
        "last_function_error",
        "retry_at",
        "splits",
    )

    def __init__(self, index: int) -> None:
        self.index = index
        self.busy = False
        self.attempts = 0
        self.invokes = 0
        self.splits: list[int] = []
        self.retry_at = 0.0
        self.last_function_error: bool | None = None

    def reset(self) -> None:
        """The head record is done (delivered or discarded): start counting afresh."""
        self.attempts = 0
        self.invokes = 0
        self.last_function_error = None


class ShardBuffer:
    """Records read from one shard and not yet checkpointed past.

    Args:
        lanes: how many lanes (the parallelization factor).
        batch_size: the largest batch.
        batching_window: seconds to wait for a full batch after a lane's first record.
        max_bytes: the largest event, in bytes of JSON (Lambda's 6 MB payload limit).
    """

    def __init__(
        self, *, lanes: int, batch_size: int, batching_window: float, max_bytes: int
    ) -> None:
        self.entries: deque[Entry] = deque()
        self.lanes = [Lane(index) for index in range(lanes)]
        self.batch_size = batch_size
        self.batching_window = batching_window
        self.max_bytes = max_bytes

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)

    def pending(self, lane: Lane) -> Iterator[Entry]:
        """The lane's records still to deliver, in order."""
        index = lane.index
        for entry in self.entries:
            if entry.state == PENDING and entry.lane == index:
                yield entry

    def has_pending(self) -> bool:
        return any(entry.state == PENDING for entry in self.entries)

    def settled(self) -> bool:
        """Nothing left to deliver or being delivered."""
        return all(entry.state == DONE for entry in self.entries)

    def take(
        self, lane: Lane, now: float, *, flush: bool, windowed: bool = False, reserved: int = 0
    ) -> list[Entry] | None:
        """The lane's next batch if it is due, else ``None``.

        A batch is due when it is full (batch size, or the split size after a bisection),
        when one more record would pass the payload limit or (``windowed``) start another
        tumbling window, when the batching window has run out since its first record was
        read, or when ``flush`` says no more records are coming soon. ``reserved`` bytes of
        the payload are taken by the event's other fields (a tumbling window's state).
        """
        limit = lane.splits[0] if lane.splits else self.batch_size
        picked: list[Entry] = []
        size = _EVENT_OVERHEAD + reserved
        full = False
        for entry in self.pending(lane):
            if picked and (
                size + entry.size + 1 > self.max_bytes
                or (windowed and entry.window != picked[0].window)
            ):
                full = True
                break
            picked.append(entry)
            size += entry.size + 1
            if len(picked) >= limit:
                full = True
                break
        if not picked:
            return None
        if full or flush or now - picked[0].read_at >= self.batching_window:
            return picked
        return None

    def due_at(self, lane: Lane) -> float | None:
        """When the lane's partial batch becomes due by the batching window."""
        for entry in self.pending(lane):
            return entry.read_at + self.batching_window
        return None

    @staticmethod
    def event(entries: Sequence[Entry]) -> dict[str, Any]:
        """A fresh ``{"Records": [...]}`` event of these records, decoded from their JSON."""
        event: dict[str, Any] = json.loads(ShardBuffer.event_json(entries))
        return event

    @staticmethod
    def event_json(entries: Sequence[Entry]) -> str:
        """The ``{"Records": [...]}`` event of these records as compact JSON text."""
        return '{"Records":[' + ",".join(entry.payload or "null" for entry in entries) + "]}"

    def pop_done(self) -> Entry | None:
        """Drop the done prefix; return its last entry (the new checkpoint), if any."""
        last = None
        entries = self.entries
        while entries and entries[0].state == DONE:
            last = entries.popleft()
        return last
