"""Calling the handler as Lambda does, reading its response as Lambda does, and the
on-failure record Lambda sends to a destination when it gives up on a batch."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

__all__ = [
    "FUNCTION_NAME",
    "MAX_TIMEOUT",
    "TIMEOUT_ERROR",
    "Condition",
    "LambdaContext",
    "LambdaHandler",
    "OnFailureLog",
    "Outcome",
    "call_handler",
    "interpret_response",
    "on_failure_record",
    "timed_out",
]


class LambdaHandler(Protocol):
    """A Lambda function handler: ``handler(event, context) -> response``, any function or
    bound method taking two positional arguments (a :class:`~streamflow.Router`'s
    ``lambda_handler`` is one)."""

    def __call__(self, event: dict[str, Any], context: Any, /) -> Any: ...


Condition = Literal["RetryAttemptsExhausted", "RecordAgeExceeded"]
"""Why Lambda gave up on a batch, as its on-failure record says."""

FUNCTION_NAME = "streamflow-local"
MAX_TIMEOUT = 900
"""Lambda's largest function timeout (seconds), the default of ``--function-timeout``."""

TIMEOUT_ERROR = "Sandbox.Timedout"
"""Lambda's ``errorType`` for an invocation stopped at the function's timeout."""


class LambdaContext:
    """A stand-in for the context object Lambda passes a handler (Python runtime names).

    Attributes:
        function_name: ``streamflow-local``.
        function_version: ``$LATEST``.
        invoked_function_arn: a Lambda ARN in the stream's Region and account.
        memory_limit_in_mb: ``"128"`` (text, as the Python runtime gives it).
        aws_request_id: a fresh UUID per invocation.
        log_group_name: ``/aws/lambda/streamflow-local``.
        log_stream_name: a log stream name in Lambda's format.

    Args:
        region: the stream's Region.
        account: the stream's account.
        timeout: the function timeout in seconds, counted from the context's creation (the
            start of the invocation).

    >>> context = LambdaContext(region="eu-west-1", account="123456789012", timeout=60)
    >>> context.invoked_function_arn
    'arn:aws:lambda:eu-west-1:123456789012:function:streamflow-local'
    >>> 59_000 < context.get_remaining_time_in_millis() <= 60_000
    True
    """

    def __init__(self, *, region: str, account: str, timeout: float = MAX_TIMEOUT) -> None:
        self.function_name = FUNCTION_NAME
        self.function_version = "$LATEST"
        self.invoked_function_arn = function_arn(region, account)
        self.memory_limit_in_mb = "128"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{FUNCTION_NAME}"
        self.log_stream_name = (
            time.strftime("%Y/%m/%d", time.gmtime()) + f"/[$LATEST]{uuid.uuid4().hex}"
        )
        self.identity: Any = None
        self.client_context: Any = None
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left of this invocation before the function timeout stops it.

        Returns:
            The remaining time, counting down from the timeout (``--function-timeout``, 900
            seconds by default) at the start of the invocation; 0 once it has passed.
        """
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def __repr__(self) -> str:
        return f"LambdaContext(aws_request_id={self.aws_request_id!r})"


def function_arn(region: str, account: str) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{FUNCTION_NAME}"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an invocation came to.

    ``ok``: every record succeeded. ``partial``: ``batchItemFailures`` named records; Lambda
    checkpoints before the lowest (``failed_index`` in the batch) and retries from there.
    ``failed``: the whole batch failed; ``reason`` says why. ``function_error`` is Lambda's
    ``errorType`` when the invocation itself failed (a function error, ``functionError:
    "Unhandled"``): the class name of what the handler raised (``error``), or
    ``Sandbox.Timedout`` when it ran past the function timeout; ``None`` when the handler
    returned a response, and a failure broke a response rule.
    """

    status: Literal["ok", "partial", "failed"]
    failed_index: int | None = None
    reason: str | None = None
    error: BaseException | None = None
    state: dict[str, Any] | None = None
    function_error: str | None = None


def call_handler(
    handler: LambdaHandler,
    event: dict[str, Any],
    context: Any,
    *,
    sequence_numbers: Sequence[str],
    windowed: bool,
) -> Outcome:
    """Invoke ``handler`` once and judge its response.

    Whatever the handler raises is a function error that fails the whole batch, as Lambda's
    runtime reports any exception: ``asyncio.CancelledError``, ``SystemExit`` (Lambda's
    ``Runtime.ExitError``), ``GeneratorExit`` and every other ``BaseException`` included.

    Raises:
        KeyboardInterrupt: the one exception that is not the handler's failure but an
            operator's Ctrl-C (Lambda never raises it): it still interrupts the run.
    """
    try:
        response = handler(event, context)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # any raise is a function error, as in Lambda
        name = type(exc).__name__
        return Outcome("failed", reason=f"{name}: {exc}", error=exc, function_error=name)
    return interpret_response(response, sequence_numbers, windowed=windowed)


def timed_out(timeout: float) -> Outcome:
    """The outcome of an invocation stopped at the function timeout: a function error with
    Lambda's ``errorType`` and message.

    >>> timed_out(3).reason
    'Sandbox.Timedout: Task timed out after 3.00 seconds'
    """
    return Outcome(
        "failed",
        reason=f"{TIMEOUT_ERROR}: Task timed out after {timeout:.2f} seconds",
        function_error=TIMEOUT_ERROR,
    )


def interpret_response(
    response: Any, sequence_numbers: Sequence[str], *, windowed: bool = False
) -> Outcome:
    """Lambda's reading of a stream handler's response (``ReportBatchItemFailures`` on).

    Args:
        response: what the handler returned.
        sequence_numbers: the batch's sequence numbers, in order.
        windowed: a tumbling window is configured, so ``state`` is required.

    Returns:
        The outcome. A null or empty response, or an empty or null ``batchItemFailures``,
        is a success; an entry with an empty, null or missing ``itemIdentifier``, or one
        that names no record of the batch, fails the whole batch.

    >>> interpret_response({"batchItemFailures": []}, ["11", "12"]).status
    'ok'
    >>> failures = {"batchItemFailures": [{"itemIdentifier": "12"}]}
    >>> outcome = interpret_response(failures, ["11", "12"])
    >>> outcome.status, outcome.failed_index
    ('partial', 1)
    >>> interpret_response({"batchItemFailures": [{"itemIdentifier": ""}]}, ["11"]).reason
    'batchItemFailures[0].itemIdentifier is empty or null'
    """
    try:
        json.dumps(response)
    except (TypeError, ValueError, RecursionError) as exc:
        return Outcome("failed", reason=f"the response is not JSON (Runtime.MarshalError): {exc}")
    state: dict[str, Any] | None = None
    if windowed:
        if not isinstance(response, dict) or not isinstance(response.get("state"), dict):
            return Outcome(
                "failed", reason="with a tumbling window the response must hold a 'state' object"
            )
        state = response["state"]
    if not isinstance(response, dict):
        return Outcome("ok", state=state)
    failures = response.get("batchItemFailures")
    if not failures:
        if failures is None or failures == []:
            return Outcome("ok", state=state)
        return Outcome("failed", reason="batchItemFailures must be a list")
    if not isinstance(failures, list):
        return Outcome("failed", reason="batchItemFailures must be a list")
    positions = {number: index for index, number in enumerate(sequence_numbers)}
    lowest: int | None = None
    for index, item in enumerate(failures):
        where = f"batchItemFailures[{index}]"
        if not isinstance(item, dict) or "itemIdentifier" not in item:
            return Outcome("failed", reason=f"{where} has no itemIdentifier key")
        identifier = item["itemIdentifier"]
        if identifier is None or identifier == "":
            return Outcome("failed", reason=f"{where}.itemIdentifier is empty or null")
        position = positions.get(identifier) if isinstance(identifier, str) else None
        if position is None:
            return Outcome(
                "failed",
                reason=f"{where}.itemIdentifier {identifier!r} is not a sequence number of "
                "this batch",
            )
        lowest = position if lowest is None else min(lowest, position)
    return Outcome("partial", failed_index=lowest, state=state)


def on_failure_record(
    *,
    condition: Condition,
    invoke_count: int,
    function_error: bool | None,
    region: str,
    account: str,
    shard_id: str,
    stream_arn: str,
    first_sequence: str,
    last_sequence: str,
    first_created: float,
    last_created: float,
    batch_size: int,
) -> dict[str, Any]:
    """The document Lambda sends to an on-failure destination for a discarded batch.

    Args:
        condition: why the batch was discarded.
        invoke_count: how many times the function was invoked with it.
        function_error: the last invocation raised (``functionError: "Unhandled"``), or
            returned a response that failed the batch (``False``); ``None`` when the
            function was never invoked with it, which leaves ``responseContext`` out.
        region: the stream's Region (for the function ARN).
        account: the stream's account (for the function ARN).
        shard_id: the shard the records came from.
        stream_arn: the stream.
        first_sequence: the first discarded record's sequence number.
        last_sequence: the last one's.
        first_created: the first record's ApproximateCreationDateTime (epoch seconds).
        last_created: the last record's.
        batch_size: how many records were discarded.

    Returns:
        The record, ready for ``json.dumps``.
    """
    now = time.time()
    record: dict[str, Any] = {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn(region, account),
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
    }
    if function_error is not None:
        record["responseContext"] = {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            # AWS writes the key either way: null when the response failed the batch
            "functionError": "Unhandled" if function_error else None,
        }
    record["version"] = "1.0"
    record["timestamp"] = (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
    )
    record["DDBStreamBatchInfo"] = {
        "shardId": shard_id,
        "startSequenceNumber": first_sequence,
        "endSequenceNumber": last_sequence,
        "approximateArrivalOfFirstRecord": _iso_seconds(first_created),
        "approximateArrivalOfLastRecord": _iso_seconds(last_created),
        "batchSize": batch_size,
        "streamArn": stream_arn,
    }
    return record


def _iso_seconds(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))


class OnFailureLog:
    """Appends on-failure records to a JSON Lines file, one durable line each (flushed and
    synced before the shard's checkpoint moves past the records). ``None`` discards them,
    as Lambda does without a destination. A run's ``--on-failure`` may also name an SQS
    queue, an SNS topic or an S3 bucket: :class:`~._destination.OnFailureDestination`
    writes to any of them, and to a file through this class."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        """Append one record.

        Raises:
            OSError: the file cannot be written.
        """
        if self.path is None:
            return
        line = json.dumps(record, separators=(",", ":")) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
