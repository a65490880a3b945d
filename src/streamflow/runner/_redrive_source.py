"""Where a redrive finds the batches to deliver again, and how it acknowledges each one.

A source yields :class:`Item`\\ s, one per on-failure record, in order. An item is
acknowledged (``ack``) only after its whole batch was delivered, and released (``release``)
otherwise, so that it stays in its source for the next redrive:

* :class:`JsonLinesSource`: a JSON Lines file (what ``streamflow run --on-failure`` writes,
  AWS's record shape, one per line). Done lines are kept in a state file (JSON, written
  atomically after every acknowledged line): each line's number with a hash of its text, so
  a rewritten file is not mistaken for the old one.
* :class:`SqsSource`: an SQS queue, Lambda's on-failure destination. A message body is the
  record itself, or an SNS notification (``{"Type": "Notification", "Message": "..."}``)
  holding it, when an SNS topic delivers to the queue without raw message delivery. A
  message is received hidden for ``visibility_timeout`` seconds, deleted once its batch
  succeeded, and made visible again when the redrive ends otherwise.
* :class:`S3Source`: one S3 object (``s3://bucket/key``) or every object under a prefix
  (``s3://bucket/prefix/``), Lambda's S3 on-failure destination. Each object is one record,
  holding the batch's invocation event in its ``payload``: the records are taken from it,
  not read from the stream. An object is marked done by the tag ``streamflow-redriven=true``
  (added to its other tags), and objects so tagged are skipped.

Any source's record that has a ``payload`` (the S3 form) has its records taken from it
(:func:`payload_records`).
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
    "S3Source",
    "Source",
    "SqsSource",
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
    ...     "shardId": "shardId-1", "startSequenceNumber": "400000000000000000001",
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
    if not (start.isdigit() and end.isdigit()) or int(start) > int(end):
        raise ValueError(f"the sequence numbers {start!r}..{end!r} are not a range")
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


class JsonLinesSource:
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
            raise RunnerConfigError("source", f"{path}: no such file (nor an SQS queue URL)")
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
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            digest = _digest(line)
            if self.done.get(str(number)) == digest:
                continue
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

    def release(self, item: Item) -> None:
        """Nothing to do: a line not recorded as done is read again next time."""

    def close(self) -> None:
        """Nothing to do: the state file is written at each acknowledgement."""


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


class SqsSource:
    """An SQS queue of on-failure records (see the module docstring).

    Args:
        client: a boto3 SQS client.
        queue_url: the queue.
        visibility_timeout: seconds a received message stays hidden.
    """

    def __init__(self, client: Any, queue_url: str, *, visibility_timeout: int) -> None:
        self.client = client
        self.queue_url = queue_url
        self.visibility_timeout = visibility_timeout
        self.seen: set[str] = set()
        self.held: dict[str, str] = {}

    def describe(self) -> str:
        return self.queue_url

    def items(self) -> Iterator[Item]:
        """Each message of the queue once, received one at a time (so that none waits
        hidden while another's batch is redriven); ends when the queue shows no message.
        A message seen before in this redrive (its visibility ran out) is hidden again."""
        while True:
            response = self.client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=1,
                VisibilityTimeout=self.visibility_timeout,
                WaitTimeSeconds=0,
            )
            messages = response.get("Messages") or []
            if not messages:
                return
            for message in messages:
                receipt = message["ReceiptHandle"]
                if message["MessageId"] in self.seen:
                    self.held[message["MessageId"]] = receipt
                    continue
                self.seen.add(message["MessageId"])
                yield _item(message["MessageId"], message.get("Body", ""), receipt, unwrap_sns=True)

    def ack(self, item: Item) -> None:
        """Delete the message: its batch is done."""
        self.client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=item.token)

    def release(self, item: Item) -> None:
        """Keep the message hidden until :meth:`close`, then visible again: it stays for
        the next redrive (shown at once, it would be received again by this one)."""
        self.held[item.where] = item.token

    def close(self) -> None:
        """Make every released message visible again."""
        held, self.held = self.held, {}
        for receipt in held.values():
            self.client.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=receipt, VisibilityTimeout=0
            )


DONE_TAG = "streamflow-redriven"
"""The tag that marks an S3 object done (value ``true``)."""


def is_s3_uri(source: str) -> bool:
    """An S3 URI (one object, or a prefix when it ends with ``/``).

    >>> is_s3_uri("s3://failures/aws/lambda/"), is_s3_uri("failures.jsonl")
    (True, False)
    """
    return source.startswith("s3://")


class S3Source:
    """S3 objects of on-failure records (see the module docstring).

    Args:
        client: a boto3 S3 client.
        uri: ``s3://bucket/key`` (that object) or ``s3://bucket/prefix/`` (every object
            under the prefix, in key order; ``s3://bucket`` for the whole bucket).

    Raises:
        RunnerConfigError: the URI names no bucket.
    """

    def __init__(self, client: Any, uri: str) -> None:
        bucket, _, key = uri[len("s3://") :].partition("/")
        if not bucket:
            raise RunnerConfigError("source", f"{uri}: no bucket (s3://BUCKET/KEY or PREFIX/)")
        self.client = client
        self.uri = uri
        self.bucket = bucket
        self.key = key
        self.prefix = key == "" or key.endswith("/")

    def describe(self) -> str:
        return self.uri

    def _keys(self) -> Iterator[str]:
        if not self.prefix:
            yield self.key
            return
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.key
        )
        for page in pages:
            for entry in page.get("Contents") or []:
                if not entry["Key"].endswith("/"):  # a console "folder"
                    yield entry["Key"]

    def _tags(self, key: str, version: str | None) -> list[dict[str, str]]:
        extra = {"VersionId": version} if version else {}
        response = self.client.get_object_tagging(Bucket=self.bucket, Key=key, **extra)
        return list(response.get("TagSet") or [])

    def items(self) -> Iterator[Item]:
        """Each object not tagged done, in key order (one record per object).

        Raises:
            Exception: an AWS error (no such bucket or key, access denied).
        """
        for key in self._keys():
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            body = response["Body"].read()
            version = response.get("VersionId")
            version = version if version and version != "null" else None
            tags = self._tags(key, version)
            if any(tag.get("Key") == DONE_TAG and tag.get("Value") == "true" for tag in tags):
                continue
            where = f"s3://{self.bucket}/{key}"
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield Item(where, problem=f"not UTF-8 text: {exc}", token=(key, version, tags))
                continue
            yield _item(where, text, (key, version, tags))

    def ack(self, item: Item) -> None:
        """Tag the object (the version read) ``streamflow-redriven=true``, keeping its
        other tags."""
        key, version, tags = item.token
        kept = [tag for tag in tags if tag.get("Key") != DONE_TAG]
        extra = {"VersionId": version} if version else {}
        self.client.put_object_tagging(
            Bucket=self.bucket,
            Key=key,
            Tagging={"TagSet": [*kept, {"Key": DONE_TAG, "Value": "true"}]},
            **extra,
        )

    def release(self, item: Item) -> None:
        """Nothing to do: an object not tagged done is read again next time."""

    def close(self) -> None:
        """Nothing to do: each object is tagged when its batch is done."""
