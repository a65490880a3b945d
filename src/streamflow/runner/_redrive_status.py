"""What a redrive tells its user: one event per on-failure record, progress, the summary.

The runner's :class:`~._status.Reporter` (its modes: human, ``json_log``, ``quiet``; its
``batch``, ``discarded``, ``throttled`` and ``data_loss`` events, which the reused shard
worker and reader emit) with a redrive's own events: ``redrive_start``, ``item`` (one per
on-failure record: what became of it) and ``summary``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from streamflow.runner._status import Reporter, camel_dict

__all__ = ["ItemReport", "RedriveReporter", "RedriveSummary"]


@dataclass(frozen=True, slots=True)
class RedriveSummary:
    """What a redrive did, returned by :func:`streamflow.runner.redrive`.

    Attributes:
        source: the JSON Lines file or SQS queue URL read.
        reason: ``"done"`` (the source had nothing more) or ``"stopped"`` (a signal or
            ``stop_event``).
        batches: on-failure records read (malformed ones included).
        batches_redriven: batches delivered in full, and acknowledged in their source.
        batches_failed: batches whose delivery failed again (retries exhausted); left in
            their source.
        batches_lost: batches with records no longer in the stream.
        batches_mismatched: batches whose range did not hold the batch (count or range);
            left in their source, not invoked.
        malformed: records that are not on-failure records of a DynamoDB stream; left in
            their source.
        batches_listed: batches listed by a dry run.
        records_found: records of the batches read back from the stream.
        records_invoked: records handed to the handler, counting each delivery.
        invocations: handler invocations, retries included.
        failed_invocations: invocations that failed wholly or partly.
        records_lost: records no longer in the stream (``batchSize`` less those found).
        duration: seconds from start to exit.
        left: on-failure records not read yet when it ended (a file's lines, the objects
            listed, a queue's visible messages as SQS counts them), ``None`` when unknown:
            what a redrive that was stopped leaves for the next one.
        unreceived: SQS messages the redrive could not receive (approximate, as SQS counts
            them): hidden by another consumer, or by a redrive that was stopped or killed
            (visible again after their visibility timeout), or delayed. Not lost: run
            again once they are visible.

    >>> summary = RedriveSummary(source="f.jsonl", reason="done", batches=2,
    ...     batches_redriven=1, batches_failed=0, batches_lost=1, batches_mismatched=0,
    ...     malformed=0, batches_listed=0, records_found=3, records_invoked=3, invocations=1,
    ...     failed_invocations=0, records_lost=2, duration=0.5)
    >>> summary.exit_code, summary.to_dict()["recordsLost"]
    (1, 2)
    """

    source: str
    reason: str
    batches: int
    batches_redriven: int
    batches_failed: int
    batches_lost: int
    batches_mismatched: int
    malformed: int
    batches_listed: int
    records_found: int
    records_invoked: int
    invocations: int
    failed_invocations: int
    records_lost: int
    duration: float
    unreceived: int = 0
    left: int | None = None

    @property
    def exit_code(self) -> int:
        """The CLI's exit code: 1 when a batch failed again, was lost (even in part),
        mismatched or malformed, messages could not be received, or the redrive was stopped
        before the end of its source; else 0."""
        troubles = self.batches_failed + self.batches_lost + self.batches_mismatched
        stopped = self.reason == "stopped"
        return 1 if troubles + self.malformed + self.unreceived or stopped else 0

    def to_dict(self) -> dict[str, Any]:
        """The summary as a JSON-ready dictionary (camelCase keys, plus ``exitCode``)."""
        return camel_dict(self)


@dataclass(frozen=True, slots=True)
class ItemReport:
    """What became of one on-failure record (the ``item`` event).

    ``status``: ``redriven``, ``failed``, ``lost`` (some or all records trimmed),
    ``mismatch``, ``malformed``, ``listed`` (dry run) or ``stopped``.
    """

    where: str
    status: str
    shard_id: str | None = None
    start: str | None = None
    end: str | None = None
    batch_size: int | None = None
    found: int = 0
    dropped: int = 0
    lost: int = 0
    age: float | None = None
    acknowledged: bool = False
    reason: str | None = None

    def fields(self) -> dict[str, Any]:
        """The event's fields (camelCase)."""
        out = {
            "source": self.where,
            "status": self.status,
            "shardId": self.shard_id,
            "startSequenceNumber": self.start,
            "endSequenceNumber": self.end,
            "batchSize": self.batch_size,
            "recordsFound": self.found,
            "recordsDropped": self.dropped,
            "recordsLost": self.lost,
            "ageSeconds": None if self.age is None else round(self.age),
            "acknowledged": self.acknowledged,
        }
        if self.reason:
            out["reason"] = self.reason
        return out

    def text(self) -> str:
        if self.status == "malformed":
            return f"{self.where}: malformed, left in place: {self.reason}"
        span = f"{self.start}..{self.end}"
        age = "" if self.age is None else f", {_duration(self.age)} old"
        what = (
            f"{self.where}: {self.status}: shard {self.shard_id} {span}: {self.found} of "
            f"{self.batch_size} records found{age}"
        )
        if self.dropped:
            what += f", {self.dropped} dropped by filters"
        if self.lost:
            what += f", {self.lost} LOST"
        if self.reason:
            what += f" ({self.reason})"
        return what + ("; acknowledged" if self.acknowledged else "")


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 60:.0f}m" if seconds >= 60 else f"{seconds:.0f}s"


class RedriveReporter(Reporter):
    """The runner's reporter with a redrive's events (see the module docstring)."""

    def redrive_started(self, *, source: str, dry_run: bool, options: dict[str, Any]) -> None:
        verb = "listing" if dry_run else "redriving"
        self._emit(
            "redrive_start",
            f"streamflow: {verb} the batches of {source}",
            source=source,
            dryRun=dry_run,
            options=options,
        )

    def item(self, report: ItemReport) -> None:
        self._emit("item", report.text(), **report.fields())

    def shard_finished(self, shard_id: str) -> None:
        """Silent: each batch's worker finishes its shard when the batch is delivered."""

    def progress(self, counts: dict[str, int], left: Callable[[], int | None]) -> None:
        """Redraw the status line (at most 4 times a second); ``left()`` is the number of
        on-failure records still to read, or ``None`` when unknown."""

        def line() -> str:
            remaining = left()
            more = "" if remaining is None else f" | left {remaining:,}"
            return (
                f"batches {counts['batches']:,}{more} | redriven {counts['batches_redriven']:,}"
                f" | failed {counts['batches_failed']:,} | lost {counts['batches_lost']:,} | "
                f"records invoked {counts['records_invoked']:,}"
            )

        self.redraw(line)

    def redrive_summary(self, summary: RedriveSummary) -> None:
        verb = "listed" if summary.batches_listed else "redriven"
        done = summary.batches_listed or summary.batches_redriven
        text = (
            f"streamflow: {summary.reason} after {summary.duration:.1f}s: {summary.batches:,} "
            f"on-failure records, {done:,} {verb}, {summary.batches_failed:,} failed again, "
            f"{summary.batches_mismatched:,} mismatched, {summary.malformed:,} malformed; "
            f"{summary.records_found:,} records found, {summary.records_invoked:,} invoked "
            f"({summary.invocations:,} invocations)"
        )
        if summary.records_lost or summary.batches_lost:
            text += f"; LOST {summary.records_lost:,} records in {summary.batches_lost:,} batches"
        if summary.reason == "stopped":
            left = "" if summary.left is None else f"{summary.left:,} "
            text += f"; stopped before the end: {left}left for the next redrive"
        if summary.unreceived:
            text += (
                f"; {summary.unreceived:,} messages in flight elsewhere or delayed, not "
                "received: run again once they are visible"
            )
        self._emit("summary", text, **summary.to_dict())

    def warning(self, message: str) -> None:
        """Trouble that does not stop the redrive."""
        self._emit("warning", f"streamflow: warning: {message}", message=message)
