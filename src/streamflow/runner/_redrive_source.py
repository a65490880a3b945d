"""Where a redrive finds the batches to deliver again, and how it acknowledges each one.

A source yields :class:`Item`\\ s, one per on-failure record, in order. An item is
acknowledged (``ack``) only after its whole batch was delivered, and released (``release``)
otherwise, so that it stays in its source for the next redrive. This module holds what every
source shares (the on-failure record's :class:`BatchInfo`, :func:`payload_records`, the
:class:`Source` protocol) and the file source:

* :class:`JsonLinesSource`: a JSON Lines file (what ``streamflow run --on-failure`` writes,
  AWS's record shape, one per line). Done lines are kept in a state file (JSON, written
  atomically after every acknowledged line): each line's number with a hash of its text, so
  a rewritten file is not mistaken for the old one.

The AWS sources are in :mod:`._redrive_aws` (an SQS queue) and :mod:`._redrive_s3` (S3
objects). Any source's
record that has a ``payload`` (the S3 form) has its records taken from it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from streamflow.errors import RunnerConfigError
from streamflow.runner._checkpoint import _write_atomically

__all__ = [
    "BatchInfo",
    "Item",
    "JsonLinesSource",
    "ReadThrough",
    "Source",
    "batch_info",
    "is_queue_url",
    "is_s3_uri",
    "payload_records",
]

STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class BatchInfo:
    """What an on-failure record says of the batch Lambda gave up on (``DDBStreamBatchInfo``)."""

    stream_arn: str
    shard_id: str
    start: str
    end: str
    batch_size: int
    first_arrival: str | None
    last_arrival: str | None
    condition: str | None

    @property
    def table(self) -> str:
        """The table's name, from the stream ARN (``...:table/NAME/stream/LABEL``)."""
        return self.stream_arn.split(":table/", 1)[-1].split("/stream/", 1)[0]

    @property
    def region(self) -> str:
        return self.stream_arn.split(":")[3]

    @property
    def account(self) -> str:
        return self.stream_arn.split(":")[4]


def batch_info(document: Any) -> BatchInfo:
    """The batch an on-failure record names.

    Args:
        document: the record, parsed (AWS's shape: ``DDBStreamBatchInfo`` with
            ``shardId``, ``startSequenceNumber``, ``endSequenceNumber``, ``batchSize``,
            ``streamArn``; ``requestContext``; ``responseContext``).

    Raises:
        ValueError: it is not an on-failure record of a DynamoDB stream, saying why.

    >>> info = batch_info({"DDBStreamBatchInfo": {
    ...     "shardId": "shardId-00000001700000000000-1a2b3c4d",
    ...     "startSequenceNumber": "400000000000000000001",
    ...     "endSequenceNumber": "400000000000000000009", "batchSize": 3,
    ...     "streamArn": "arn:aws:dynamodb:us-east-1:123456789012:table/scores/stream/x"}})
    >>> info.table, info.batch_size
    ('scores', 3)
    """
    if not isinstance(document, dict):
        raise ValueError(f"expected a JSON object, got {type(document).__name__}")
    info = document.get("DDBStreamBatchInfo")
    if not isinstance(info, dict):
        raise ValueError("no DDBStreamBatchInfo: not an on-failure record of a DynamoDB stream")
    texts = {}
    for key in ("streamArn", "shardId", "startSequenceNumber", "endSequenceNumber"):
        value = info.get(key)
        if not isinstance(value, str) or not value:
            raise ValueError(f"DDBStreamBatchInfo.{key} is missing or not text")
        texts[key] = value
    arn = texts["streamArn"]
    if not arn.startswith("arn:") or ":table/" not in arn or "/stream/" not in arn:
        raise ValueError(f"DDBStreamBatchInfo.streamArn {arn!r} is not a DynamoDB stream ARN")
    start, end = texts["startSequenceNumber"], texts["endSequenceNumber"]
    for key, number in (("startSequenceNumber", start), ("endSequenceNumber", end)):
        if not (number.isdigit() and number.isascii() and 21 <= len(number) <= 40):
            raise ValueError(
                f"DDBStreamBatchInfo.{key} {number[:50]!r} is not a DynamoDB Streams sequence "
                "number (21 to 40 digits)"
            )
    if int(start) > int(end):
        raise ValueError(f"the sequence numbers {start!r}..{end!r} are not a range")
    if not 28 <= len(texts["shardId"]) <= 65:
        raise ValueError(
            f"DDBStreamBatchInfo.shardId {texts['shardId'][:80]!r} is not a DynamoDB Streams "
            "shard ID (28 to 65 characters)"
        )
    size = info.get("batchSize")
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ValueError(f"DDBStreamBatchInfo.batchSize must be a positive integer, got {size!r}")
    context = document.get("requestContext")
    condition = context.get("condition") if isinstance(context, dict) else None
    return BatchInfo(
        stream_arn=arn,
        shard_id=texts["shardId"],
        start=start,
        end=end,
        batch_size=size,
        first_arrival=info.get("approximateArrivalOfFirstRecord"),
        last_arrival=info.get("approximateArrivalOfLastRecord"),
        condition=condition if isinstance(condition, str) else None,
    )


@dataclass(eq=False)
class Item:
    """One on-failure record of a source.

    Attributes:
        where: how the source names it (``failures.jsonl:3``, an SQS message id).
        document: the on-failure record as read (``None`` when it could not be read).
        info: the batch it names, or ``None`` when the record is malformed.
        problem: why the record is malformed.
        token: what the source needs to acknowledge or release it.
        records: the batch's records from the record's ``payload`` (Lambda's shape), or
            ``None`` when it has none (they are read from the stream).
    """

    where: str
    document: Any = None
    info: BatchInfo | None = None
    problem: str | None = None
    token: Any = field(default=None, repr=False)
    records: list[dict[str, Any]] | None = field(default=None, repr=False)


def payload_records(document: Any) -> list[dict[str, Any]] | None:
    """The records of an on-failure record's ``payload`` (what an S3 destination writes:
    the whole invocation event, ``{"Records": [...]}``, as a JSON object or as JSON text),
    or ``None`` when it has no payload.

    Raises:
        ValueError: the payload is not an event of DynamoDB stream records, saying why.

    >>> payload_records({"payload": '{"Records": [{"dynamodb": {"SequenceNumber": "7"}}]}'})
    [{'dynamodb': {'SequenceNumber': '7'}}]
    >>> payload_records({"DDBStreamBatchInfo": {}}) is None
    True
    """
    if not isinstance(document, dict) or document.get("payload") is None:
        return None
    payload = document["payload"]
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except (ValueError, RecursionError) as exc:
            raise ValueError(f"the payload is not JSON: {exc}") from None
    records = payload.get("Records") if isinstance(payload, dict) else None
    if not isinstance(records, list) or not records:
        raise ValueError("the payload is not an invocation event (no Records)")
    for number, record in enumerate(records):
        stream = record.get("dynamodb") if isinstance(record, dict) else None
        sequence = stream.get("SequenceNumber") if isinstance(stream, dict) else None
        if not isinstance(sequence, str) or not sequence.isdigit():
            raise ValueError(f"the payload's record {number} has no dynamodb.SequenceNumber")
    return records


class Source(Protocol):
    """Yields a redrive's items, acknowledges the done ones, releases the others."""

    def items(self) -> Iterator[Item]: ...

    def ack(self, item: Item) -> None: ...

    def release(self, item: Item) -> None: ...

    def close(self) -> None: ...

    def describe(self) -> str: ...

    def unreceived(self) -> int:
        """On-failure records the source holds that this redrive could not receive (SQS
        messages hidden by another consumer or delayed), counted once ``items`` ended."""
        ...

    def remaining(self) -> int | None:
        """On-failure records not read yet (approximate for a queue), or ``None`` while
        unknown: the progress line's ``left``."""
        ...


def _item(where: str, text: str, token: Any, *, unwrap_sns: bool = False) -> Item:
    try:
        document = json.loads(text)
    except ValueError as exc:
        return Item(where, problem=f"not JSON: {exc}", token=token)
    except RecursionError:
        return Item(where, problem="nests too deeply to be read", token=token)
    if unwrap_sns and isinstance(document, dict) and document.get("Type") == "Notification":
        message = document.get("Message")
        if not isinstance(message, str):
            return Item(where, document, problem="an SNS notification without a Message")
        return _item(where, message, token)
    try:
        info = batch_info(document)
        records = payload_records(document)
    except ValueError as exc:
        return Item(where, document, problem=str(exc), token=token)
    return Item(where, document, info=info, token=token, records=records)


class ReadThrough:
    """A source read through to its end (a file's lines, the objects under a prefix) whose
    items are marked done as each is acknowledged: nothing to release, nothing to close,
    nothing it could not receive; ``left`` counts the items not read yet."""

    left: int | None = None

    def release(self, item: Item) -> None:
        """Nothing to do: an item not marked done is read again next time."""

    def close(self) -> None:
        """Nothing to do: each item is marked done when its batch is."""

    def unreceived(self) -> int:
        """None: every item was read."""
        return 0

    def remaining(self) -> int | None:
        """Items not read yet (``None`` before the source was read)."""
        return self.left


class JsonLinesSource(ReadThrough):
    """A JSON Lines file of on-failure records, with a state file of the lines done.

    Args:
        path: the file.
        state_path: the state file (created at the first acknowledged line).

    Raises:
        RunnerConfigError: the file cannot be read, or the state file is not a state file.
    """

    def __init__(self, path: str, state_path: str) -> None:
        self.path = path
        self.state_path = state_path
        if not os.path.isfile(path):
            raise RunnerConfigError(
                "source",
                f"{path}: no such file (a source is a JSON Lines file, an SQS queue URL or "
                "ARN, or s3://BUCKET/KEY or s3://BUCKET/PREFIX/)",
            )
        self.done: dict[str, str] = self._read_state()

    def describe(self) -> str:
        return self.path

    def _read_state(self) -> dict[str, str]:
        if not os.path.exists(self.state_path):
            return {}
        try:
            with open(self.state_path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError) as exc:
            raise RunnerConfigError("state", f"cannot read {self.state_path}: {exc}") from None
        done = data.get("done") if isinstance(data, dict) else None
        if (
            not isinstance(data, dict)
            or data.get("version") != STATE_VERSION
            or not isinstance(done, dict)
            or not all(isinstance(value, str) for value in done.values())
        ):
            raise RunnerConfigError(
                "state", f"{self.state_path} is not a redrive state file (fix or remove it)"
            )
        return dict(done)

    def items(self) -> Iterator[Item]:
        """Every line not done yet, in order (blank lines are skipped).

        Raises:
            RunnerConfigError: the file cannot be read.
        """
        try:
            with open(self.path, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise RunnerConfigError("source", f"cannot read {self.path}: {exc}") from None
        pending = [
            (number, line, _digest(line))
            for number, line in enumerate(lines, start=1)
            if line.strip() and self.done.get(str(number)) != _digest(line)
        ]
        self.left = len(pending)
        for number, line, digest in pending:
            self.left -= 1
            yield _item(f"{os.path.basename(self.path)}:{number}", line, (str(number), digest))

    def ack(self, item: Item) -> None:
        """Record the line as done, durably, before returning.

        Raises:
            OSError: the state file cannot be written.
        """
        number, digest = item.token
        self.done[number] = digest
        document = {"version": STATE_VERSION, "source": os.path.abspath(self.path)}
        document["done"] = dict(sorted(self.done.items(), key=lambda pair: int(pair[0])))
        _write_atomically(os.path.abspath(self.state_path), json.dumps(document, indent=1))


def _digest(line: str) -> str:
    return hashlib.sha256(line.encode()).hexdigest()[:16]


def is_queue_url(source: str) -> bool:
    """An SQS queue URL rather than a file.

    >>> is_queue_url("https://sqs.us-east-1.amazonaws.com/123456789012/failures")
    True
    >>> is_queue_url("failures.jsonl")
    False
    """
    return source.startswith(("https://", "http://"))


def is_s3_uri(source: str) -> bool:
    """An S3 URI (one object, or a prefix when it ends with ``/``).

    >>> is_s3_uri("s3://failures/aws/lambda/"), is_s3_uri("failures.jsonl")
    (True, False)
    """
    return source.startswith("s3://")
