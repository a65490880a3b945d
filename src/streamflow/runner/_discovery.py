"""Finding the table's stream, listing its shards, and the lineage rule.

A DynamoDB stream is a tree of shards: a shard is closed after about four hours (or when the
table's partitions split) and its children carry on. Lambda reads a child only once its
parent is fully processed, so that a key's changes are delivered in order; a parent that has
aged out of the stream (24 hours) no longer holds anything back.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NoReturn

from streamflow.errors import RunnerError
from streamflow.runner._aws import error_code

__all__ = ["Shard", "StreamDescription", "describe_stream", "find_stream", "ready_to_start"]

Call = Callable[[Callable[[], Any]], Any]
"""Runs one AWS call, retrying transient errors (see ``_aws.retrying``)."""


@dataclass(frozen=True, slots=True)
class Shard:
    """One shard as DescribeStream lists it."""

    shard_id: str
    parent_id: str | None
    starting_sequence: str | None
    ending_sequence: str | None

    @property
    def closed(self) -> bool:
        """A closed shard has an ``EndingSequenceNumber`` and receives no more records."""
        return self.ending_sequence is not None


@dataclass(frozen=True, slots=True)
class StreamDescription:
    """What the runner needs of DescribeStream: status, partition key and every shard."""

    arn: str
    status: str
    view_type: str | None
    partition_key: str | None
    shards: tuple[Shard, ...]


def find_stream(table: str, *, dynamodb: Any, streams: Any, call: Call) -> str:
    """The ARN of the table's latest stream.

    With a DynamoDB client, DescribeTable's ``LatestStreamArn`` (and a clear error when the
    stream is off); with only a Streams client, the ListStreams entry with the latest label.

    Raises:
        RunnerError: no such table, no stream, or AWS refused the call.
    """
    if dynamodb is not None:
        try:
            table_description = call(lambda: dynamodb.describe_table(TableName=table))["Table"]
        except Exception as exc:
            _reraise(exc, f"cannot describe table {table!r}")
        arn = table_description.get("LatestStreamArn")
        spec = table_description.get("StreamSpecification") or {}
        if not arn or not spec.get("StreamEnabled", True):
            raise RunnerError(
                f"table {table!r} has no stream enabled: set StreamSpecification "
                "(StreamEnabled true, a StreamViewType) on the table"
            )
        return str(arn)
    found: list[tuple[str, str]] = []
    start: str | None = None
    while True:
        kwargs: dict[str, Any] = {"TableName": table}
        if start:
            kwargs["ExclusiveStartStreamArn"] = start
        try:
            page = call(functools.partial(streams.list_streams, **kwargs))
        except Exception as exc:
            _reraise(exc, f"cannot list the streams of table {table!r}")
        for stream in page.get("Streams") or []:
            if stream.get("TableName", table) == table:
                found.append((str(stream.get("StreamLabel") or ""), str(stream["StreamArn"])))
        following = page.get("LastEvaluatedStreamArn")
        if not following or following == start:
            break
        start = following
    if not found:
        raise RunnerError(f"table {table!r} has no stream (or no such table)")
    return max(found)[1]


def describe_stream(streams: Any, arn: str, *, call: Call) -> StreamDescription:
    """Every shard of the stream, following DescribeStream's pages.

    Raises:
        RunnerError: the stream does not exist or AWS refused the call.
    """
    shards: list[Shard] = []
    seen: set[str] = set()
    start: str | None = None
    description: dict[str, Any] = {}
    while True:
        kwargs: dict[str, Any] = {"StreamArn": arn}
        if start:
            kwargs["ExclusiveStartShardId"] = start
        try:
            description = call(functools.partial(streams.describe_stream, **kwargs))[
                "StreamDescription"
            ]
        except Exception as exc:
            _reraise(exc, f"cannot describe stream {arn}")
        for raw in description.get("Shards") or []:
            shard = _shard(raw)
            if shard.shard_id not in seen:
                seen.add(shard.shard_id)
                shards.append(shard)
        following = description.get("LastEvaluatedShardId")
        if not following or following == start:
            break
        start = following
    partition_key = None
    for element in description.get("KeySchema") or []:
        if element.get("KeyType") == "HASH":
            partition_key = str(element.get("AttributeName"))
    return StreamDescription(
        arn=arn,
        status=str(description.get("StreamStatus", "ENABLED")),
        view_type=description.get("StreamViewType"),
        partition_key=partition_key,
        shards=tuple(shards),
    )


def ready_to_start(shard: Shard, known: Iterable[str], finished: Iterable[str]) -> bool:
    """Lambda's lineage rule: a shard starts once its parent is fully processed, or when
    its parent is no longer in the stream (trimmed after 24 hours).

    >>> child = Shard("b", parent_id="a", starting_sequence=None, ending_sequence=None)
    >>> ready_to_start(child, known={"a", "b"}, finished=set())
    False
    >>> ready_to_start(child, known={"a", "b"}, finished={"a"})
    True
    >>> ready_to_start(child, known={"b"}, finished=set())
    True
    """
    parent = shard.parent_id
    return parent is None or parent not in set(known) or parent in set(finished)


def _shard(raw: dict[str, Any]) -> Shard:
    numbers = raw.get("SequenceNumberRange") or {}
    return Shard(
        shard_id=str(raw["ShardId"]),
        parent_id=raw.get("ParentShardId") or None,
        starting_sequence=numbers.get("StartingSequenceNumber"),
        ending_sequence=numbers.get("EndingSequenceNumber"),
    )


def _reraise(exc: Exception, what: str) -> NoReturn:
    """Raise an AWS error as a :class:`RunnerError`; anything else unchanged."""
    code = error_code(exc)
    if code is None:
        if any(cls.__module__.startswith("botocore") for cls in type(exc).__mro__):
            raise RunnerError(f"{what}: {exc}") from exc  # no credentials, no endpoint...
        raise exc
    if code == "ResourceNotFoundException":
        raise RunnerError(f"{what}: not found", code=code) from exc
    raise RunnerError(f"{what}: {exc}", code=code) from exc
