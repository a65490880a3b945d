"""What one invocation of the router did: :class:`BatchResult`, its log line and metrics."""

from __future__ import annotations

import os
import sys
import time

from streamflow._value import Value

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from typing import Any, TextIO

__all__ = ["BatchResult", "RecordFailure", "Window", "default_service", "emit_metrics"]


class RecordFailure(Value):
    """One record that failed, and why.

    Attributes:
        index: the record's position in the batch.
        sequence_number: the record's sequence number (``None`` if it had none).
        route: the route whose handler failed, or ``None`` for a record that could not be
            read or matched no route.
        error: the exception.
    """

    __slots__ = ("error", "index", "route", "sequence_number")
    index: int
    sequence_number: str | None
    route: str | None
    error: BaseException


class Window(Value):
    """The tumbling window of an invocation, from the event's window fields.

    Attributes:
        start: the window's start (``window.start``), as an aware UTC datetime.
        end: its end (``window.end``).
        shard_id: the shard the batch came from.
        is_final: this is the last invocation for the window (``isFinalInvokeForWindow``).
        terminated_early: the window ended early, e.g. a shard split
            (``isWindowTerminatedEarly``).
    """

    __slots__ = ("end", "is_final", "shard_id", "start", "terminated_early")
    start: Any
    end: Any
    shard_id: str | None
    is_final: bool
    terminated_early: bool


class BatchResult(Value):
    """What the router did with one batch, and the response Lambda needs.

    Attributes:
        received: records in the batch.
        per_route: records handed to each route, by route name.
        unmatched: records no route matched.
        succeeded: records whose handlers all completed.
        failed: records that failed themselves (a handler raised, or they could not be read
            or mapped onto their model).
        not_attempted: records skipped because an earlier record failed (stop mode).
        deferred: records not started because the invocation's time was running out (see
            the Router's ``time_margin``); reported, so Lambda delivers them again.
        deferred_reason: why records were deferred, ``None`` when none were.
        failures: the failed records, in stream order.
        reported: the sequence numbers reported back to Lambda as ``batchItemFailures``:
            the lowest failure and every record after it.
        iterator_age: seconds from the oldest record's creation to now, ``None`` if empty.
        duration: seconds spent in :meth:`Router.process`.
        state: the tumbling window state to return, ``None`` outside windows.
    """

    __slots__ = (
        "deferred",
        "deferred_reason",
        "duration",
        "failed",
        "failures",
        "iterator_age",
        "not_attempted",
        "per_route",
        "received",
        "reported",
        "state",
        "succeeded",
        "unmatched",
        "window",
    )
    received: int
    per_route: dict[str, int]
    unmatched: int
    succeeded: int
    failed: int
    not_attempted: int
    deferred: int
    deferred_reason: str | None
    failures: tuple[RecordFailure, ...]
    reported: tuple[str, ...]
    iterator_age: float | None
    duration: float
    state: dict[str, Any] | None
    window: Window | None

    def response(self) -> dict[str, Any]:
        """The dictionary a Lambda handler returns for ``ReportBatchItemFailures``.

        >>> BatchResult(received=1, per_route={}, unmatched=0, succeeded=1, failed=0,
        ...     not_attempted=0, deferred=0, deferred_reason=None, failures=(),
        ...     reported=("4001",), iterator_age=None,
        ...     duration=0.0, state=None, window=None).response()
        {'batchItemFailures': [{'itemIdentifier': '4001'}]}
        """
        out: dict[str, Any] = {
            "batchItemFailures": [{"itemIdentifier": number} for number in self.reported]
        }
        if self.state is not None:
            out["state"] = self.state
        return out

    def summary(self) -> dict[str, Any]:
        """The invocation's figures as one JSON-ready dictionary (what the router logs)."""
        return {
            "message": "streamflow batch processed",
            "received": self.received,
            "per_route": self.per_route,
            "unmatched": self.unmatched,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "not_attempted": self.not_attempted,
            "deferred": self.deferred,
            "deferred_reason": self.deferred_reason,
            "reported": len(self.reported),
            "first_reported": self.reported[0] if self.reported else None,
            "iterator_age_seconds": None
            if self.iterator_age is None
            else round(self.iterator_age, 3),
            "duration_ms": round(self.duration * 1000, 3),
            "errors": [
                {
                    "index": f.index,
                    "sequence_number": f.sequence_number,
                    "route": f.route,
                    "error": type(f.error).__name__,
                    "detail": str(f.error)[:500],
                }
                for f in self.failures[:10]
            ],
        }


_METRICS = (
    ("RecordsReceived", "received", "Count"),
    ("RecordsSucceeded", "succeeded", "Count"),
    ("RecordsFailed", "failed", "Count"),
    ("RecordsNotAttempted", "not_attempted", "Count"),
    ("RecordsDeferred", "deferred", "Count"),
    ("RecordsUnmatched", "unmatched", "Count"),
)


def emit_metrics(result: BatchResult, *, namespace: str, service: str, out: TextIO | None) -> None:
    """Write one CloudWatch Embedded Metric Format document for the invocation to stdout,
    where Lambda's log capture turns it into metrics."""
    values: dict[str, Any] = {name: getattr(result, attr) for name, attr, _ in _METRICS}
    definitions = [{"Name": name, "Unit": unit} for name, _, unit in _METRICS]
    values["BatchItemFailures"] = len(result.reported)
    definitions.append({"Name": "BatchItemFailures", "Unit": "Count"})
    values["ProcessingTime"] = round(result.duration * 1000, 3)
    definitions.append({"Name": "ProcessingTime", "Unit": "Milliseconds"})
    if result.iterator_age is not None:
        values["IteratorAge"] = round(result.iterator_age * 1000)
        definitions.append({"Name": "IteratorAge", "Unit": "Milliseconds"})
    document = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {"Namespace": namespace, "Dimensions": [["service"]], "Metrics": definitions}
            ],
        },
        "service": service,
        **values,
    }
    import json  # loaded on first use: json's import compiles regexes, a cold-start cost

    stream = out if out is not None else sys.stdout
    stream.write(json.dumps(document, separators=(",", ":")) + "\n")
    stream.flush()


def default_service() -> str:
    """The metrics dimension: the Lambda function's name where there is one."""
    return os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "streamflow")
