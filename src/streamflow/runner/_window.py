"""Tumbling windows: which window a record belongs to, when a window closes, its state.

Lambda places each record in a window by its ``ApproximateCreationDateTime``; windows are
aligned on multiples of their length since the epoch. Batches never mix windows. The state
the handler returns is kept per shard and passed back in the next invocation of the same
window. A window closes with one more invocation, ``isFinalInvokeForWindow: true`` and no
records, when a record of a later window arrives, when the window's end has passed and the
shard is caught up, or when the shard ends (then ``isWindowTerminatedEarly`` says whether
that was before the window's end). A state over 1 MB also ends the window early; the
window then goes on with a fresh state.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from streamflow.runner._config import MAX_WINDOW_STATE_BYTES

if TYPE_CHECKING:
    from streamflow.runner._batcher import Entry
    from streamflow.runner._checkpoint import ShardCheckpoint

__all__ = ["Window"]


_FIXED_FIELDS_BYTES = 200
"""The window's fields other than the state, shard id and ARN, as compact JSON (about 180)."""


def _iso(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")))


class Window:
    """One shard's tumbling window (inert when ``seconds`` is 0)."""

    def __init__(self, seconds: int, checkpoint: ShardCheckpoint | None = None) -> None:
        self.seconds = seconds
        self.start: int | None = checkpoint.window_start if checkpoint else None
        self.state: dict[str, Any] = dict(checkpoint.window_state or {}) if checkpoint else {}
        self.terminate_early = False
        self.state_bytes = _json_size(self.state)
        self._last_assigned = self.start or 0

    @property
    def is_open(self) -> bool:
        return self.start is not None

    @property
    def end(self) -> int:
        return (self.start or 0) + self.seconds

    def assign(self, created: float) -> int:
        """The window of a record created at ``created`` (never earlier than the last one
        assigned, so that a record with a slightly older timestamp stays in order)."""
        if not self.seconds:
            return 0
        window = max(int(created // self.seconds) * self.seconds, self._last_assigned)
        self._last_assigned = window
        return window

    def open(self, window: int) -> None:
        if self.seconds and self.start is None:
            self.start = window
            self.state = {}
            self.state_bytes = 2

    def fields_bytes(self, shard_id: str, stream_arn: str) -> int:
        """Bytes of JSON the window's fields add to an event (an upper bound; 0 without
        windows): the state, up to 1 MB, counts against the 6 MB payload with the records."""
        if not self.seconds:
            return 0
        return self.state_bytes + len(shard_id) + len(stream_arn) + _FIXED_FIELDS_BYTES

    def closing(
        self, following: Entry | None, *, caught_up: bool, shard_ended: bool
    ) -> bool | None:
        """Whether the open window must close now: ``None`` if not, else the value of
        ``isWindowTerminatedEarly`` for the final invocation.

        Args:
            following: the next record to deliver, if any is buffered.
            caught_up: the last poll found no new records.
            shard_ended: the shard is closed and every record has been read.
        """
        if self.start is None:
            return None
        if self.terminate_early:
            return True
        if following is not None:
            return False if following.window > self.start else None
        if shard_ended:
            return time.time() < self.end
        if caught_up and time.time() >= self.end:
            return False
        return None

    def keep(self, state: dict[str, Any] | None) -> None:
        """Keep the state a handler returned; past 1 MB the window ends early."""
        if not self.seconds or state is None:
            return
        self.state = state
        self.state_bytes = _json_size(state)
        if self.state_bytes > MAX_WINDOW_STATE_BYTES:
            self.terminate_early = True

    def close(self, *, continue_same: bool) -> None:
        """After a successful final invocation: drop the state; ``continue_same`` keeps the
        window open (ended early by the state's size)."""
        self.state = {}
        self.state_bytes = 2
        self.terminate_early = False
        if not continue_same:
            self.start = None

    def event_fields(
        self, *, shard_id: str, stream_arn: str, final: bool, terminated_early: bool
    ) -> dict[str, Any]:
        """The fields Lambda adds to the event of a tumbling-window invocation."""
        start = self.start or 0
        return {
            "window": {"start": _iso(start), "end": _iso(start + self.seconds)},
            "state": dict(self.state),
            "shardId": shard_id,
            "eventSourceARN": stream_arn,
            "isFinalInvokeForWindow": final,
            "isWindowTerminatedEarly": terminated_early,
        }
