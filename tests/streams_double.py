"""``StreamsDouble``: an in-memory TEST DOUBLE of the four DynamoDB Streams calls.

It stands in for a ``boto3.client("dynamodbstreams")`` where moto cannot help: moto has one
shard per stream that never splits or closes and iterators that never expire. The double has
what AWS has: several shards, parents and children, closing and splitting shards, shard
iterators that expire, records trimmed from the trim horizon, shards that age out, paginated
DescribeStream and ListStreams, empty pages before records, and injected errors (throttling,
5xx). It answers with
boto3's shapes (binary as ``bytes``, ``ApproximateCreationDateTime`` as a ``datetime``) and
fails with ``botocore.exceptions.ClientError`` carrying AWS's error codes, exactly as the
real client does, and validates parameters as the real API does (``Limit`` ranges, a
``SequenceNumber`` for AT/AFTER_SEQUENCE_NUMBER).

Sequence numbers are 21 to 22 digits, cross a digit boundary, and are not contiguous, so
that comparing them as text or by counting would break tests.

It is not a simulation of timing or capacity: calls answer at once, and every call is logged
in ``calls`` with its time, for tests that check backoff.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

__all__ = ["Recorder", "StreamsDouble", "run_on"]

_serialize = TypeSerializer().serialize


@dataclass
class _Shard:
    shard_id: str
    parent_id: str | None
    next_sequence: int
    records: list[dict[str, Any]] = field(default_factory=list)
    closed: bool = False
    trimmed: int = 0  # records[:trimmed] are gone
    forgotten: bool = False  # aged out of the stream: not described, not readable


@dataclass
class Call:
    operation: str
    params: dict[str, Any]
    at: float


class StreamsDouble:
    """An in-memory DynamoDB stream with the four Streams calls (a test double).

    Args:
        table: the table name (in the stream ARN).
        region: the Region (in the ARN and each record's ``awsRegion``).
        view_type: the stream's StreamViewType.
        partition_key: the table's HASH key name; ``sort_key`` its RANGE key, if any.
        describe_page_size: shards per DescribeStream page (AWS: up to 100).
        page_size: the most records one GetRecords returns whatever the ``Limit`` (AWS
            stops at 1 MB), to make small pages easy.
    """

    def __init__(
        self,
        *,
        table: str = "orders",
        region: str = "eu-west-1",
        account: str = "123456789012",
        view_type: str = "NEW_AND_OLD_IMAGES",
        partition_key: str = "PK",
        sort_key: str | None = "SK",
        describe_page_size: int = 100,
        page_size: int = 1000,
    ) -> None:
        self.table = table
        self.region = region
        self.view_type = view_type
        self.label = "2025-01-01T00:00:00.000"
        self.stream_arn = f"arn:aws:dynamodb:{region}:{account}:table/{table}/stream/{self.label}"
        self.key_schema = [{"AttributeName": partition_key, "KeyType": "HASH"}]
        if sort_key:
            self.key_schema.append({"AttributeName": sort_key, "KeyType": "RANGE"})
        self.status = "ENABLED"
        self.describe_page_size = describe_page_size
        self.page_size = page_size
        self.calls: list[Call] = []
        self._shards: dict[str, _Shard] = {}
        self._iterators: dict[str, tuple[str, int, int]] = {}
        self._generation = 0
        self._faults: dict[str, list[tuple[str, int]]] = {}
        self._empty_pages: dict[str, int] = {}
        self._lock = threading.RLock()
        self._count = 0

    # --- controls for tests ------------------------------------------------------------------

    def add_shard(self, parent: str | None = None, *, first_sequence: int | None = None) -> str:
        """Open a new shard (a child of ``parent``, if given); returns its id."""
        with self._lock:
            index = len(self._shards)
            shard_id = f"shardId-{1_700_000_000_000 + index:020d}-{uuid.uuid4().hex[:8]}"
            start = first_sequence or (999_999_999_999_999_999_990 + index * 10**22)
            self._shards[shard_id] = _Shard(shard_id, parent, start)
            return shard_id

    def put(
        self,
        shard_id: str,
        keys: Mapping[str, Any],
        *,
        new: Mapping[str, Any] | None = None,
        old: Mapping[str, Any] | None = None,
        event: str = "INSERT",
        created: dt.datetime | None = None,
    ) -> str:
        """Append a change to an open shard; returns its sequence number."""
        with self._lock:
            shard = self._shards[shard_id]
            assert not shard.closed, f"{shard_id} is closed"
            self._count += 1
            sequence = shard.next_sequence
            shard.next_sequence += 3 + (self._count * 13) % 29  # increasing, never contiguous
            when = created or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
            change: dict[str, Any] = {
                "ApproximateCreationDateTime": when,
                "Keys": {name: _serialize(value) for name, value in keys.items()},
                "SequenceNumber": str(sequence),
                "SizeBytes": 100,
                "StreamViewType": self.view_type,
            }
            if new is not None and self.view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
                change["NewImage"] = {name: _serialize(value) for name, value in new.items()}
            if old is not None and self.view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
                change["OldImage"] = {name: _serialize(value) for name, value in old.items()}
            shard.records.append(
                {
                    "eventID": uuid.uuid4().hex,
                    "eventName": event,
                    "eventVersion": "1.1",
                    "eventSource": "aws:dynamodb",
                    "awsRegion": self.region,
                    "dynamodb": change,
                }
            )
            return str(sequence)

    def close(self, shard_id: str) -> None:
        """Close a shard: it gets an EndingSequenceNumber and no more records."""
        with self._lock:
            self._shards[shard_id].closed = True

    def split(self, shard_id: str) -> tuple[str, str]:
        """Close ``shard_id`` and open two children of it, as a partition split does."""
        with self._lock:
            self.close(shard_id)
            return self.add_shard(shard_id), self.add_shard(shard_id)

    def trim(self, shard_id: str, count: int) -> None:
        """Drop the shard's first ``count`` records (they passed the 24-hour retention)."""
        with self._lock:
            shard = self._shards[shard_id]
            shard.trimmed = max(shard.trimmed, min(count, len(shard.records)))

    def forget(self, shard_id: str) -> None:
        """The whole shard ages out of the stream (no longer described or readable)."""
        with self._lock:
            self._shards[shard_id].forgotten = True

    def expire_iterators(self) -> None:
        """Every shard iterator handed out so far expires (AWS: 15 minutes after issue)."""
        with self._lock:
            self._generation += 1

    def fail(self, operation: str, code: str, *, times: int = 1, status: int = 400) -> None:
        """Make the next ``times`` calls of ``operation`` (e.g. ``"get_records"``) fail."""
        with self._lock:
            self._faults.setdefault(operation, []).extend([(code, status)] * times)

    def empty_pages(self, shard_id: str, count: int) -> None:
        """The shard's next ``count`` GetRecords answer no records but a NextShardIterator,
        as AWS may before a portion of a shard that holds records ("it might take multiple
        calls to get to a portion of the shard that contains stream records")."""
        with self._lock:
            self._empty_pages[shard_id] = self._empty_pages.get(shard_id, 0) + count

    def disable(self) -> None:
        """Turn the stream off: every shard closes, the status becomes DISABLED."""
        with self._lock:
            for shard in self._shards.values():
                shard.closed = True
            self.status = "DISABLED"

    def calls_of(self, operation: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.operation == operation]

    # --- the four calls ------------------------------------------------------------------------

    def list_streams(
        self,
        *,
        TableName: str | None = None,
        Limit: int = 100,
        ExclusiveStartStreamArn: str | None = None,
    ) -> dict[str, Any]:
        self._enter("list_streams", TableName=TableName, Limit=Limit)
        _check_range("Limit", Limit, 1, 100)
        streams = []
        if TableName in (None, self.table) and ExclusiveStartStreamArn != self.stream_arn:
            streams.append(
                {"StreamArn": self.stream_arn, "TableName": self.table, "StreamLabel": self.label}
            )
        return {"Streams": streams}

    def describe_stream(
        self, *, StreamArn: str, Limit: int = 100, ExclusiveStartShardId: str | None = None
    ) -> dict[str, Any]:
        self._enter(
            "describe_stream",
            StreamArn=StreamArn,
            Limit=Limit,
            ExclusiveStartShardId=ExclusiveStartShardId,
        )
        _check_range("Limit", Limit, 1, 100)
        self._check_stream(StreamArn)
        with self._lock:
            visible = [shard for shard in self._shards.values() if not shard.forgotten]
            ids = [shard.shard_id for shard in visible]
            start = ids.index(ExclusiveStartShardId) + 1 if ExclusiveStartShardId in ids else 0
            size = min(Limit, self.describe_page_size)
            page = visible[start : start + size]
            description: dict[str, Any] = {
                "StreamArn": self.stream_arn,
                "StreamLabel": self.label,
                "StreamStatus": self.status,
                "StreamViewType": self.view_type,
                "CreationRequestDateTime": dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc),
                "TableName": self.table,
                "KeySchema": copy.deepcopy(self.key_schema),
                "Shards": [self._describe_shard(shard) for shard in page],
            }
            if start + size < len(visible):
                description["LastEvaluatedShardId"] = page[-1].shard_id
            return {"StreamDescription": description}

    def get_shard_iterator(
        self,
        *,
        StreamArn: str,
        ShardId: str,
        ShardIteratorType: str,
        SequenceNumber: str | None = None,
    ) -> dict[str, Any]:
        self._enter(
            "get_shard_iterator",
            StreamArn=StreamArn,
            ShardId=ShardId,
            ShardIteratorType=ShardIteratorType,
            SequenceNumber=SequenceNumber,
        )
        self._check_stream(StreamArn)
        with self._lock:
            shard = self._shards.get(ShardId)
            if shard is None or shard.forgotten:
                raise _error("GetShardIterator", "ResourceNotFoundException", f"no {ShardId}")
            if ShardIteratorType == "TRIM_HORIZON":
                position = shard.trimmed
            elif ShardIteratorType == "LATEST":
                position = len(shard.records)
            elif ShardIteratorType in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
                if SequenceNumber is None or not 21 <= len(SequenceNumber) <= 40:
                    raise _error(
                        "GetShardIterator", "ValidationException", "SequenceNumber is required"
                    )
                index = self._index_of(shard, int(SequenceNumber))
                position = index + (ShardIteratorType == "AFTER_SEQUENCE_NUMBER")
                if position < shard.trimmed:
                    raise _error(
                        "GetShardIterator",
                        "TrimmedDataAccessException",
                        f"{SequenceNumber} is beyond the trim horizon",
                    )
            else:
                raise _error("GetShardIterator", "ValidationException", ShardIteratorType)
            iterator = uuid.uuid4().hex
            self._iterators[iterator] = (ShardId, position, self._generation)
            return {"ShardIterator": iterator}

    def get_records(self, *, ShardIterator: str, Limit: int = 1000) -> dict[str, Any]:
        self._enter("get_records", ShardIterator=ShardIterator, Limit=Limit)
        _check_range("Limit", Limit, 1, 1000)
        with self._lock:
            if ShardIterator not in self._iterators:
                raise _error("GetRecords", "ValidationException", "Invalid ShardIterator")
            shard_id, position, generation = self._iterators[ShardIterator]
            if generation < self._generation:
                raise _error("GetRecords", "ExpiredIteratorException", "Iterator expired")
            shard = self._shards[shard_id]
            if shard.forgotten:
                raise _error("GetRecords", "ResourceNotFoundException", f"{shard_id} not found")
            if position < shard.trimmed:
                raise _error("GetRecords", "TrimmedDataAccessException", "the iterator is trimmed")
            injected_empty = bool(self._empty_pages.get(shard_id))
            if injected_empty:
                self._empty_pages[shard_id] -= 1
                end = position
            else:
                end = min(position + Limit, position + self.page_size, len(shard.records))
            records = copy.deepcopy(shard.records[position:end])
            response: dict[str, Any] = {"Records": records}
            if not (shard.closed and end >= len(shard.records)) or injected_empty:
                following = uuid.uuid4().hex
                self._iterators[following] = (shard_id, end, self._generation)
                response["NextShardIterator"] = following
            return response

    # --- internals ---------------------------------------------------------------------------

    def _enter(self, operation: str, **params: Any) -> None:
        with self._lock:
            self.calls.append(Call(operation, params, time.monotonic()))
            faults = self._faults.get(operation)
            fault = faults.pop(0) if faults else None
        if fault is not None:
            code, status = fault
            raise _error(operation, code, "injected by the test", status=status)

    def _check_stream(self, arn: str) -> None:
        if arn != self.stream_arn:
            raise _error("DescribeStream", "ResourceNotFoundException", f"{arn} not found")

    def _describe_shard(self, shard: _Shard) -> dict[str, Any]:
        numbers: dict[str, str] = {"StartingSequenceNumber": str(self._first_sequence(shard))}
        if shard.closed:
            last = shard.records[-1]["dynamodb"]["SequenceNumber"] if shard.records else None
            numbers["EndingSequenceNumber"] = last or numbers["StartingSequenceNumber"]
        described: dict[str, Any] = {"ShardId": shard.shard_id, "SequenceNumberRange": numbers}
        if shard.parent_id:
            described["ParentShardId"] = shard.parent_id
        return described

    def _first_sequence(self, shard: _Shard) -> int:
        if shard.trimmed < len(shard.records):
            return int(shard.records[shard.trimmed]["dynamodb"]["SequenceNumber"])
        return shard.next_sequence

    def _index_of(self, shard: _Shard, sequence: int) -> int:
        for index, record in enumerate(shard.records):
            if int(record["dynamodb"]["SequenceNumber"]) == sequence:
                return index
        raise _error("GetShardIterator", "ValidationException", f"no record {sequence}")


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise _error("Validate", "ValidationException", f"{name} must be {low} to {high}")


def _error(operation: str, code: str, message: str, *, status: int | None = None) -> ClientError:
    if status is None:
        status = 500 if code == "InternalServerError" else 400
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            # only the field the runner reads: a real response also has RequestId and more
            "ResponseMetadata": {"HTTPStatusCode": status},  # type: ignore[typeddict-item]
        },
        operation,
    )


def run_on(
    double: StreamsDouble,
    handler: Any,
    *,
    filters: Any = None,
    stop_event: threading.Event | None = None,
    log: Any = None,
    **options: Any,
) -> Any:
    """Run the runner against ``double`` with test timings: polls every 20 ms, re-describes
    every 100 ms, retries after 10 to 50 ms, backs off throttling from 20 ms. ``log`` (a
    text stream) receives the JSON log. Returns the RunSummary."""
    import io

    from streamflow.runner._config import RunnerConfig
    from streamflow.runner._engine import Engine
    from streamflow.runner._handler import resolve_filters, resolve_handler
    from streamflow.runner._status import Reporter

    settings: dict[str, Any] = {
        "poll_interval": 0.02,
        "discovery_interval": 0.1,
        "retry_base": 0.01,
        "retry_cap": 0.05,
        "throttle_base": 0.02,
        "throttle_cap": 0.2,
    }
    settings.update(options)
    config = RunnerConfig(table=double.table, **settings)
    function, implied = resolve_handler(handler)
    criteria = resolve_filters(filters) if filters is not None else implied
    engine = Engine(
        handler=function,
        matches=criteria.matches if criteria is not None else None,
        config=config,
        streams=double,
        dynamodb=None,
        reporter=Reporter(json_log=True, stream=log if log is not None else io.StringIO()),
        stop_event=stop_event,
    )
    return engine.run()


class Recorder:
    """A Lambda handler that keeps every event it gets (thread-safe) and succeeds."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        with self._lock:
            self.events.append(event)
        return None

    @property
    def sequences(self) -> list[str]:
        with self._lock:
            return [r["dynamodb"]["SequenceNumber"] for e in self.events for r in e["Records"]]

    def wait_for(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.sequences) < count:
            assert time.monotonic() < deadline, f"got {len(self.sequences)} of {count} records"
            time.sleep(0.01)
