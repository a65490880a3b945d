"""Reading back the records of a batch Lambda gave up on, and handing them to a shard worker.

:func:`read_batch` reads a shard from ``AT_SEQUENCE_NUMBER`` the batch's first record up to
and including its last, with the runner's :class:`~._reader.ShardReader`: the same
iterators, throttling backoff, expired-iterator recovery, empty pages and closed shards, and
the same conversion to Lambda's shape and filtering. Where the reader meets data loss
(``TrimmedDataAccessException``: the start is before the trim horizon, or records were
trimmed while reading; or the shard aged out), it reads on from the trim horizon and the
records in between are a :class:`Gap`: lost, never skipped silently.

:class:`ReplayReader` is the reading half of a :class:`~._shard.ShardWorker` for records
already read: the worker then batches, invokes, retries, bisects and discards them exactly
as ``streamflow run`` does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from streamflow.runner._aws import AnySet
from streamflow.runner._batcher import DONE
from streamflow.runner._discovery import Shard
from streamflow.runner._reader import ShardReader
from streamflow.runner._shard import ShardWorker
from streamflow.runner._shared import StartPosition
from streamflow.runner._window import Window

if TYPE_CHECKING:
    from streamflow.runner._batcher import Entry
    from streamflow.runner._redrive_source import BatchInfo
    from streamflow.runner._shared import Shared

__all__ = ["Found", "Gap", "ReplayReader", "deliver", "read_batch"]

LOST_REASON = "no longer in the stream (trimmed after the 24-hour retention, or the shard aged out)"


@dataclass(frozen=True, slots=True)
class Gap:
    """Records of a batch no longer in the stream: those after ``after`` (from the batch's
    first record when ``None``) and before ``before`` (through its last when ``None``)."""

    after: str | None
    before: str | None


@dataclass(eq=False, slots=True)
class Found:
    """What reading a batch's range found.

    Attributes:
        entries: the records of the range, in order (those the filters drop included, as
            entries already done).
        gaps: the ranges lost.
        reached_end: the last record of the range, or the shard's end, was reached.
        stopped: a stop was requested before the end.
    """

    entries: list[Entry] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    reached_end: bool = False
    stopped: bool = False

    @property
    def kept(self) -> int:
        """Records the filters keep: the batch, once more."""
        return sum(entry.payload is not None for entry in self.entries)

    @property
    def dropped(self) -> int:
        return len(self.entries) - self.kept


def _worker_start(info: BatchInfo) -> tuple[Shard, StartPosition]:
    return Shard(info.shard_id, None, None, None), StartPosition("AT_SEQUENCE_NUMBER", info.start)


def read_batch(shared: Shared, info: BatchInfo, *, patience: float) -> Found:
    """Read the records of ``info``'s range (see the module docstring).

    Args:
        shared: the settings, client, filters, reporter and counters of the redrive.
        info: the batch.
        patience: seconds of empty pages of an open shard after which the rest of the
            range counts as not found.

    Raises:
        Stopped: a stop was requested while waiting out throttling.
        Exception: an AWS error retrying cannot fix.
    """
    shard, start = _worker_start(info)
    reader = ShardReader(shared, shard, start, Window(0))
    first, last = int(info.start), int(info.end)
    found = Found()
    losses = _losses(shared)
    gap_after: str | None = None
    gap_open = False
    reader.open()
    if _losses(shared) > losses:
        losses, gap_open = _losses(shared), True
    stop = AnySet(shared.stopping, shared.requested)
    empty_since: float | None = None
    while reader.iterator is not None:
        if stop.is_set():
            found.stopped = True
            return found
        now = time.monotonic()
        if now < reader.next_poll:
            stop.wait(reader.next_poll - now)
            continue
        page = reader.read(now)
        if _losses(shared) > losses:
            losses = _losses(shared)
            if not gap_open:
                gap_open = True
                gap_after = found.entries[-1].text if found.entries else None
        if not page:
            if reader.caught_up:
                empty_since = empty_since or now
                if now - empty_since >= patience:
                    break
            continue
        empty_since = None
        for entry in page:
            number = int(entry.text)
            if number < first:
                continue
            if number > last:
                found.reached_end = True
                break
            if gap_open:
                found.gaps.append(Gap(gap_after, entry.text))
                gap_open = False
            found.entries.append(entry)
            if number == last:
                found.reached_end = True
                break
        if found.reached_end:
            break
    else:
        found.reached_end = True  # the shard was read to its end (or is gone)
    if gap_open:
        found.gaps.append(Gap(gap_after, None))
    return found


def deliver(shared: Shared, info: BatchInfo, entries: list[Entry]) -> str:
    """Deliver ``entries`` (read by :func:`read_batch`) as ``streamflow run`` delivers a
    shard's records, on this thread: a shard worker over a :class:`ReplayReader`.

    Returns:
        ``"ok"`` (every record delivered), ``"failed"`` (some were discarded again:
        retries exhausted; ``shared.on_failure`` has their record) or ``"stopped"`` (a stop
        was requested before every record was delivered). A fatal error is left in
        ``shared.fatal``, as the worker leaves it.
    """
    discarded = shared.stats.snapshot()["records_discarded"]
    shard, start = _worker_start(info)
    worker = ShardWorker(shared, shard, start)
    worker.reader = ReplayReader(shared, info, worker.window, entries)
    worker.run()
    if shared.stats.snapshot()["records_discarded"] > discarded:
        return "failed"
    return "ok" if all(entry.state == DONE for entry in entries) else "stopped"


def _losses(shared: Shared) -> int:
    return shared.stats.snapshot()["data_loss"]


class ReplayReader(ShardReader):
    """A shard worker's reader that hands over records already read, at its first poll,
    then reports the shard ended: the worker delivers exactly those records."""

    def __init__(self, shared: Shared, info: BatchInfo, window: Window, entries: list[Entry]):
        shard, start = _worker_start(info)
        super().__init__(shared, shard, start, window)
        self._held = entries
        self.exhausted = True  # nothing more to read than these

    def open(self) -> None:
        """Nothing to open: the records were read."""

    def can_read(self, room: bool) -> bool:
        return bool(self._held)

    def read(self, now: float) -> list[Entry]:
        entries, self._held = self._held, []
        return entries
