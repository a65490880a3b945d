"""What a run tells its user: counters, a live status line, a JSON log, the summary.

Three modes, all on standard error (standard output is left to the handler, as in Lambda,
where it goes to CloudWatch Logs):

* human (default): a status line redrawn in place when standard error is a terminal, one
  line per notable event (shard started or finished, failed batch with its traceback on the
  first attempt, discarded records, throttling, data loss), and a summary at exit;
* ``json_log``: one JSON object per line and per event, with an ``event`` field, no status
  line; the last line is the ``summary`` event;
* ``quiet``: nothing but fatal errors.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

__all__ = ["Reporter", "RunSummary", "Stats", "camel_dict"]


class Stats:
    """Counters shared by every shard worker (thread-safe)."""

    FIELDS = (
        "records_read",
        "records_kept",
        "records_dropped",
        "invocations",
        "records_invoked",
        "failed_invocations",
        "records_discarded",
        "data_loss",
        "throttled",
        "shards_finished",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.values = dict.fromkeys(self.FIELDS, 0)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, count in counts.items():
                self.values[name] += count

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.values)


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What a run did, returned by :func:`streamflow.runner.run`.

    Attributes:
        stream_arn: the stream that was read.
        reason: why the run ended: ``"idle"`` (``until_idle``), ``"max_records"``,
            ``"stopped"`` (signal or ``stop_event``), or ``"stream_disabled"`` (the
            stream is off and every shard was read to its end).
        records_read: records read from the stream.
        records_kept: records that passed the filters.
        records_dropped: records the filters dropped (checkpointed past, never delivered).
        invocations: handler invocations, retries and window-final calls included.
        records_invoked: records handed to the handler, counting each delivery.
        failed_invocations: invocations that failed wholly or partly.
        records_discarded: records given up on (retries exhausted or too old), each
            written to the on-failure file when one is set.
        data_loss: times records were trimmed from the stream before they could be read.
        throttled: AWS calls answered with throttling or a 5xx error, then retried.
        shards_finished: closed shards read to their end.
        duration: seconds from start to exit.

    >>> summary = RunSummary(
    ...     stream_arn="arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x",
    ...     reason="idle", records_read=3, records_kept=2, records_dropped=1, invocations=1,
    ...     records_invoked=2, failed_invocations=0, records_discarded=0, data_loss=0,
    ...     throttled=0, shards_finished=0, duration=1.5)
    >>> summary.exit_code, summary.to_dict()["recordsDropped"]
    (0, 1)
    """

    stream_arn: str
    reason: str
    records_read: int
    records_kept: int
    records_dropped: int
    invocations: int
    records_invoked: int
    failed_invocations: int
    records_discarded: int
    data_loss: int
    throttled: int
    shards_finished: int
    duration: float

    @property
    def exit_code(self) -> int:
        """The CLI's exit code: 1 when records were discarded, else 0."""
        return 1 if self.records_discarded else 0

    def to_dict(self) -> dict[str, Any]:
        """The summary as a JSON-ready dictionary (camelCase keys, as the JSON log has).

        Returns:
            The figures, plus ``exitCode``.
        """
        return camel_dict(self)


def camel_dict(summary: Any) -> dict[str, Any]:
    """A summary's slots as a JSON-ready dictionary: camelCase keys, ``duration`` rounded to
    milliseconds, plus ``exitCode``."""
    out: dict[str, Any] = {}
    for name in summary.__slots__:
        head, *rest = name.split("_")
        out[head + "".join(part.title() for part in rest)] = getattr(summary, name)
    out["duration"] = round(summary.duration, 3)
    out["exitCode"] = summary.exit_code
    return out


def _human_count(value: int) -> str:
    return f"{value:,}"


class Reporter:
    """Writes a run's events in the chosen mode (see the module docstring)."""

    def __init__(
        self, *, quiet: bool = False, json_log: bool = False, stream: TextIO | None = None
    ) -> None:
        self.quiet = quiet
        self.json_log = json_log
        self._stream = stream
        self._lock = threading.Lock()
        self._line_shown = False
        self._last_tick = 0.0

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    @property
    def live(self) -> bool:
        """A status line is drawn: human mode on a terminal."""
        if self.quiet or self.json_log:
            return False
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    # --- output primitives -----------------------------------------------------------------

    def _emit(self, event: str, text: str | None, **fields: Any) -> None:
        if self.quiet:
            return
        with self._lock:
            if self.json_log:
                record = {"time": _now_iso(), "event": event, **fields}
                self.stream.write(json.dumps(record, default=str) + "\n")
            elif text is not None:
                self._clear_line()
                self.stream.write(text + "\n")
            else:
                return
            self.stream.flush()

    def _clear_line(self) -> None:
        if self._line_shown:
            self.stream.write("\r\x1b[K")
            self._line_shown = False

    # --- events ----------------------------------------------------------------------------

    def started(self, *, table: str, stream_arn: str, shards: int, options: dict[str, Any]) -> None:
        self._emit(
            "start",
            f"streamflow: reading {stream_arn} (table {table}, {shards} shard"
            f"{'' if shards == 1 else 's'})",
            table=table,
            streamArn=stream_arn,
            shards=shards,
            options=options,
        )

    def shard_started(
        self, shard_id: str, parent_id: str | None, position: str, sequence: str | None
    ) -> None:
        where = f"{position} {sequence}" if sequence else position
        self._emit(
            "shard_started",
            f"shard {shard_id}: reading from {where}",
            shardId=shard_id,
            parentShardId=parent_id,
            position=position,
            sequenceNumber=sequence,
        )

    def shard_finished(self, shard_id: str) -> None:
        self._emit(
            "shard_finished", f"shard {shard_id}: closed and fully processed", shardId=shard_id
        )

    def batch(
        self,
        *,
        shard_id: str,
        lane: int,
        records: int,
        first: str | None,
        last: str | None,
        status: str,
        attempt: int,
        duration: float,
        reason: str | None = None,
        error: BaseException | None = None,
        final_window: bool = False,
    ) -> None:
        fields: dict[str, Any] = {
            "shardId": shard_id,
            "lane": lane,
            "records": records,
            "firstSequenceNumber": first,
            "lastSequenceNumber": last,
            "status": status,
            "attempt": attempt + 1,  # 1 for the first invocation, as the text says
            "durationMs": round(duration * 1000, 3),
        }
        if final_window:
            fields["finalInvokeForWindow"] = True
        if reason:
            fields["reason"] = reason
        text = None
        if status != "ok":
            span = f"records {first}..{last}" if first else "window-final invocation"
            what = "partly failed" if status == "partial" else "failed"
            text = (
                f"shard {shard_id}: batch of {records} ({span}, attempt {attempt + 1}) "
                f"{what}: {reason}"
            )
            if error is not None and attempt == 0:
                text += "\n" + "".join(traceback.format_exception(error)).rstrip()
        self._emit("batch", text, **fields)

    def discarded(
        self, *, shard_id: str, condition: str, records: int, first: str, last: str, to: str | None
    ) -> None:
        where = f"written to {to}" if to else "no --on-failure file: dropped"
        self._emit(
            "discarded",
            f"shard {shard_id}: discarded {records} record{'' if records == 1 else 's'} "
            f"{first}..{last} ({condition}); {where}",
            shardId=shard_id,
            condition=condition,
            records=records,
            startSequenceNumber=first,
            endSequenceNumber=last,
            onFailure=to,
        )

    def retrying_call(
        self, *, operation: str, code: str | None, delay: float, shard_id: str | None
    ) -> None:
        where = f"shard {shard_id}: " if shard_id else ""
        self._emit(
            "throttled",
            f"{where}{operation} answered {code or 'an error'}; retrying in {delay:.2f}s",
            operation=operation,
            code=code,
            delay=round(delay, 3),
            shardId=shard_id,
        )

    def data_loss(self, *, shard_id: str, reason: str) -> None:
        self._emit(
            "data_loss",
            f"DATA LOSS on shard {shard_id}: {reason}",
            shardId=shard_id,
            reason=reason,
        )

    def iterator_expired(self, *, shard_id: str, position: str) -> None:
        self._emit(
            "iterator_expired",
            f"shard {shard_id}: shard iterator expired; re-acquired {position}",
            shardId=shard_id,
            position=position,
        )

    def window_dropped(self, *, shard_id: str, reason: str) -> None:
        self._emit(
            "window_dropped",
            f"shard {shard_id}: tumbling window state dropped: {reason}",
            shardId=shard_id,
            reason=reason,
        )

    def stopping(self, signal_name: str) -> None:
        self._emit(
            "stopping",
            f"streamflow: {signal_name}: stopping after the batch in flight (again to abort)",
            signal=signal_name,
        )

    def tick(self, counts: dict[str, int], *, iterator_age: float, shards: int) -> None:
        """Redraw the status line (at most 4 times a second)."""
        self.redraw(
            lambda: (
                f"read {_human_count(counts['records_read'])} | "
                f"kept {_human_count(counts['records_kept'])} | "
                f"dropped {_human_count(counts['records_dropped'])} | "
                f"invoked {_human_count(counts['records_invoked'])} "
                f"({_human_count(counts['invocations'])} calls) | "
                f"failed {_human_count(counts['failed_invocations'])} | "
                f"discarded {_human_count(counts['records_discarded'])} | "
                f"iterator age {iterator_age:.1f}s | shards {shards}"
            )
        )

    def redraw(self, line: Callable[[], str]) -> None:
        """Draw the status line ``line()`` in place of the last, at most 4 times a second,
        on a terminal only."""
        if not self.live:
            return
        now = time.monotonic()
        if now - self._last_tick < 0.25:
            return
        self._last_tick = now
        with self._lock:
            self.stream.write("\r\x1b[K" + line())
            self.stream.flush()
            self._line_shown = True

    def summary(self, summary: RunSummary) -> None:
        reasons = {
            "idle": "no new records",
            "max_records": "read the requested number of records",
            "stopped": "stopped",
            "stream_disabled": "the stream is disabled and fully read",
        }
        text = (
            f"streamflow: {reasons.get(summary.reason, summary.reason)} after "
            f"{summary.duration:.1f}s: read {summary.records_read:,} records, kept "
            f"{summary.records_kept:,}, dropped {summary.records_dropped:,} by filters; "
            f"{summary.invocations:,} invocations ({summary.records_invoked:,} records), "
            f"{summary.failed_invocations:,} failed; {summary.records_discarded:,} discarded"
        )
        if summary.data_loss:
            text += f"; DATA LOSS {summary.data_loss} time(s)"
        self._emit("summary", text, **summary.to_dict())

    def close(self) -> None:
        """Wipe the status line (the run is over; an error message may follow)."""
        with self._lock:
            self._clear_line()
            self.stream.flush()


def _now_iso() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
