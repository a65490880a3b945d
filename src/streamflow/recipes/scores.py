"""Per-user score totals from a DynamoDB stream, each score counted exactly once.

The reference handler of the score pipeline (``docs/score-recipe.md``). One table, keys
``PK``/``SK``:

- a score: ``PK=SCORE#<scoreId>``, ``SK=USER#<userId>``, with ``userId``, ``taskType`` and an
  optional ``points`` that overrides the task mapping;
- a task mapping: ``PK=TASK#<taskType>``, ``SK=TASK#<taskType>``, with ``points``;
- a total: ``PK=USER#<userId>``, ``SK=TOTAL``, with ``total``, ``count`` and ``updatedAt``;
- an idempotency marker: ``PK=APPLIED#<eventID>``, ``SK=APPLIED``, expiring by TTL
  (``expiresAt``) 25 hours after it is written, past the stream's 24-hour retention.

Per batch, records are grouped by user, and each user's records go to DynamoDB in one
TransactWriteItems: an Update that ADDs their summed points to the total, and one marker Put
per record, conditioned on the marker not existing. A record whose marker exists was applied
before: it is dropped and the rest retried. Totals and markers never match the route's filter,
so the handler cannot trigger itself.

Usage::

    from streamflow.recipes.scores import scores_router

    router = scores_router(table="scores")
    handler = router.lambda_handler
    # the event source mapping carries router.filter_criteria()

Just over 400 lines: the batch's grouping, its transactions and their retries are one
exactly-once argument, read best in one file; reading changes is in ``_scores_changes``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from streamflow.errors import ScoreRecordError, ScoreWriteError, StreamflowError
from streamflow.filters import Filter, prefix
from streamflow.recipes._scores_changes import (
    Change,
    change_of,
    checked_points,
    images_of,
    task_types_needed,
)
from streamflow.recipes._scores_store import MAX_CHANGES_PER_TRANSACTION, Outcome, Store
from streamflow.records import StreamRecord
from streamflow.router import Router

__all__ = [
    "DEFAULT_TASKS",
    "MARKER_TTL_SECONDS",
    "ApplyResult",
    "ScoreAggregator",
    "ScoreRecordError",
    "ScoreWriteError",
    "score_filter",
    "score_item",
    "scores_router",
    "task_item",
]

DEFAULT_TASKS: Mapping[str, int] = {"easy": 5, "medium": 10, "hard": 30}
"""The task types of the scenario and their points."""

MARKER_TTL_SECONDS = 25 * 3600
"""How long an idempotency marker lives: past the stream's 24-hour retention."""

_BATCH_GET_KEYS = 100
_logger = logging.getLogger("streamflow.recipes.scores")

TtlDeletes = Literal["ignore", "subtract"]


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What :meth:`ScoreAggregator.apply` did with each record of a batch.

    Attributes:
        applied: records whose change was added to a total by this call.
        duplicates: records applied before (their marker existed), or copies in this batch
            of a record not failed: left alone.
        skipped: records with nothing to apply (a TTL deletion when ignored, a MODIFY that
            does not change points).
        failed: records not applied (and their copies in this batch), with the error;
            Lambda must deliver them again.
    """

    applied: tuple[StreamRecord, ...] = ()
    duplicates: tuple[StreamRecord, ...] = ()
    skipped: tuple[StreamRecord, ...] = ()
    failed: tuple[tuple[StreamRecord, StreamflowError], ...] = ()

    @property
    def failed_records(self) -> list[StreamRecord]:
        """The failed records, what a batch route returns."""
        return [record for record, _ in self.failed]


def score_filter(*, ttl_deletes: TtlDeletes = "ignore") -> Filter:
    """The filter of score records: INSERT, MODIFY and REMOVE of ``SCORE#`` items.

    Args:
        ttl_deletes: ``"ignore"`` also drops TTL deletions in the filter itself.

    Returns:
        The filter, for the route and the event source mapping.

    >>> score_filter().to_json()  # doctest: +ELLIPSIS
    '{"eventName":["INSERT","MODIFY","REMOVE"],"dynamodb":{"Keys":{"PK":{"S":[{"prefix":"SCORE#"}]}}},...'
    """
    base = Filter.events("INSERT", "MODIFY", "REMOVE").key("PK", prefix("SCORE#"))
    return base.exclude_ttl_deletes() if ttl_deletes == "ignore" else base


def score_item(
    score_id: str, user_id: str, task_type: str, *, points: int | None = None
) -> dict[str, Any]:
    """The item of one score, as the submit side writes it.

    Args:
        score_id: the score's unique id.
        user_id: who scored.
        task_type: a task type with a mapping (see :func:`task_item`).
        points: fixes the score's points instead of the mapping's.

    Returns:
        The item, as plain Python values.

    >>> score_item("s1", "u7", "hard")
    {'PK': 'SCORE#s1', 'SK': 'USER#u7', 'scoreId': 's1', 'userId': 'u7', 'taskType': 'hard'}
    """
    item: dict[str, Any] = {
        "PK": f"SCORE#{score_id}",
        "SK": f"USER#{user_id}",
        "scoreId": score_id,
        "userId": user_id,
        "taskType": task_type,
    }
    if points is not None:
        item["points"] = points
    return item


def task_item(task_type: str, points: int, *, difficulty: str | None = None) -> dict[str, Any]:
    """The task mapping item of one task type.

    Args:
        task_type: the task type's name.
        points: the points a score of this type earns.
        difficulty: shown to people; the task type's name by default.

    Returns:
        The item, as plain Python values.

    >>> task_item("easy", 5)
    {'PK': 'TASK#easy', 'SK': 'TASK#easy', 'points': 5, 'difficulty': 'easy'}
    """
    key = f"TASK#{task_type}"
    return {"PK": key, "SK": key, "points": points, "difficulty": difficulty or task_type}


class ScoreAggregator:
    """Adds score records to per-user totals, each record exactly once.

    Call it with a batch of score records (it is a batch route handler); it returns the
    records that failed, or ``None``.

    Args:
        table: the table holding scores, task mappings, totals and markers.
        dynamodb: a boto3 DynamoDB client; ``boto3.client("dynamodb")`` on first use if None.
        ttl_deletes: ``"ignore"`` (default) leaves totals alone when TTL deletes a score;
            ``"subtract"`` takes its points off as for a deletion by a user.
        mapping_ttl: seconds a task mapping read from the table is reused.
        marker_ttl: seconds an idempotency marker lives; keep it above 24 hours.
        max_attempts: tries per transaction on throttling and conflicts.
        backoff: base delay in seconds of the exponential backoff (full jitter, capped at 1 s).
        clock: epoch seconds now (for ``updatedAt``, ``expiresAt`` and the cache).
        sleep: waits between attempts.

    Raises:
        ValueError: an option is out of range.

    >>> aggregator = ScoreAggregator(table="scores")
    >>> aggregator([]) is None
    True
    """

    def __init__(
        self,
        *,
        table: str,
        dynamodb: Any = None,
        ttl_deletes: TtlDeletes = "ignore",
        mapping_ttl: float = 300.0,
        marker_ttl: int = MARKER_TTL_SECONDS,
        max_attempts: int = 5,
        backoff: float = 0.05,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if ttl_deletes not in ("ignore", "subtract"):
            raise ValueError(f"ttl_deletes must be 'ignore' or 'subtract', got {ttl_deletes!r}")
        if mapping_ttl < 0 or marker_ttl <= 0 or max_attempts < 1 or backoff < 0:
            raise ValueError("mapping_ttl, backoff >= 0; marker_ttl, max_attempts >= 1")
        self.table = table
        self.ttl_deletes: TtlDeletes = ttl_deletes
        self._client = dynamodb
        self._mapping_ttl = mapping_ttl
        self._mappings: dict[str, tuple[int, float]] = {}
        self._store = Store(
            table=table,
            make_client=lambda: self.client,
            marker_ttl=marker_ttl,
            max_attempts=max_attempts,
            backoff=backoff,
            clock=clock,
            sleep=sleep,
        )

    @property
    def client(self) -> Any:
        """The boto3 DynamoDB client, created on first use."""
        if self._client is None:
            import boto3

            self._client = boto3.client("dynamodb")
        return self._client

    @property
    def filter(self) -> Filter:
        """The records this aggregator takes (see :func:`score_filter`)."""
        return score_filter(ttl_deletes=self.ttl_deletes)

    def __call__(
        self, records: Sequence[StreamRecord]
    ) -> list[tuple[StreamRecord, StreamflowError]] | None:
        """Apply a batch; the batch route handler.

        Args:
            records: score records, in stream order.

        Returns:
            The records that failed with their errors (the router reports them), or None.
        """
        failed = list(self.apply(records).failed)
        return failed or None

    def apply(self, records: Iterable[StreamRecord]) -> ApplyResult:
        """Apply a batch of score records to the totals, and say what became of each.

        Never raises for a record: a record that cannot be read or written is in
        :attr:`ApplyResult.failed` (and logged on ``streamflow.recipes.scores``). A record
        whose image cannot be decoded, even in an attribute the recipe never reads, fails
        alone with the :class:`~streamflow.errors.AttributeDecodeError` naming its path.

        Args:
            records: score records, in stream order.

        Returns:
            The records applied, already applied before, skipped and failed.
        """
        records = list(records)
        outcome = Outcome()
        skipped: list[StreamRecord] = []
        seen: set[str] = set()
        wanted: list[StreamRecord] = []
        copies: list[StreamRecord] = []  # delivered twice in one batch
        for record in records:
            if record.event_id in seen:
                copies.append(record)
            elif record.is_ttl_delete and self.ttl_deletes == "ignore":
                skipped.append(record)
            else:
                seen.add(record.event_id)
                try:
                    images_of(record)
                except StreamflowError as problem:  # a malformed image fails its record alone
                    outcome.failed.append((record, problem))
                    continue
                wanted.append(record)
        points = self._mapping_points(wanted)
        by_user: dict[str, list[Change]] = {}
        for record in wanted:
            try:
                change = change_of(record, points)
            except ScoreRecordError as problem:
                outcome.failed.append((record, problem))
                continue
            if change.points == 0 and change.count == 0:
                skipped.append(record)
            else:
                by_user.setdefault(change.user_id, []).append(change)
        step = MAX_CHANGES_PER_TRANSACTION
        for user_id, changes in by_user.items():
            for start in range(0, len(changes), step):
                self._store.commit(user_id, changes[start : start + step], outcome)
        errors = {record.event_id: error for record, error in outcome.failed}
        for record in copies:  # a copy shares the fate of the record it copies
            if record.event_id in errors:
                outcome.failed.append((record, errors[record.event_id]))
            else:
                outcome.duplicates.append(record)
        for record, error in outcome.failed:
            _logger.error(
                "score record %s (sequence number %s) not applied: %s",
                record.event_id,
                record.sequence_number,
                error,
            )
        order = {id(record): i for i, record in enumerate(records)}

        def in_order(found: Iterable[StreamRecord]) -> tuple[StreamRecord, ...]:
            return tuple(sorted(found, key=lambda r: order[id(r)]))

        return ApplyResult(
            applied=in_order(outcome.applied),
            duplicates=in_order(outcome.duplicates),
            skipped=tuple(skipped),
            failed=tuple(sorted(outcome.failed, key=lambda pair: order[id(pair[0])])),
        )

    # --- task mappings ---------------------------------------------------------------------

    def _mapping_points(self, records: Sequence[StreamRecord]) -> dict[str, int | Exception]:
        """Points per task type needed by ``records``: from the cache, else one BatchGetItem
        per 100 types. A type without a usable mapping maps to the error to report."""
        now = self._store.clock()
        out: dict[str, int | Exception] = {}
        missing = []
        for task_type in sorted(task_types_needed(records)):
            cached = self._mappings.get(task_type)
            if cached is not None and now - cached[1] < self._mapping_ttl:
                out[task_type] = cached[0]
            else:
                missing.append(task_type)
        for start in range(0, len(missing), _BATCH_GET_KEYS):
            chunk = missing[start : start + _BATCH_GET_KEYS]
            try:
                items = self._store.task_items(chunk)
            except Exception as error:  # throttled or refused: those records fail, retried
                for task_type in chunk:
                    out[task_type] = error
                continue
            for task_type in chunk:
                item = items.get(task_type)
                if item is None:
                    out[task_type] = LookupError(f"unknown task type {task_type!r}")
                    continue
                try:
                    value = checked_points(item.get("points"), f"task type {task_type!r}")
                except ValueError as error:
                    out[task_type] = error
                    continue
                out[task_type] = value
                self._mappings[task_type] = (value, now)
        return out


def scores_router(
    *,
    table: str,
    dynamodb: Any = None,
    ttl_deletes: TtlDeletes = "ignore",
    mapping_ttl: float = 300.0,
    max_attempts: int = 5,
    failure_mode: Literal["stop", "continue"] = "continue",
    metrics: bool = False,
) -> Router:
    """A Router with one batch route that keeps per-user totals of score records.

    Deploy ``router.lambda_handler`` with an event source mapping that carries
    ``router.filter_criteria()``, ReportBatchItemFailures, and an on-failure destination.

    Args:
        table: the table's name.
        dynamodb: a boto3 DynamoDB client; a default client on first use if None.
        ttl_deletes: ``"ignore"`` (default; the filter drops TTL deletions) or
            ``"subtract"``.
        mapping_ttl: seconds a task mapping is reused before it is read again.
        max_attempts: tries per transaction on throttling and conflicts.
        failure_mode: the router's; ``"continue"`` applies every record it can.
        metrics: write CloudWatch EMF metrics to stdout.

    Returns:
        The router.

    Raises:
        ValueError: an option is out of range.

    >>> router = scores_router(table="scores")
    >>> router.routes
    ('scores',)
    >>> router.assert_not_retriggered({"PK": "USER#u7", "SK": "TOTAL", "total": 35})
    """
    aggregator = ScoreAggregator(
        table=table,
        dynamodb=dynamodb,
        ttl_deletes=ttl_deletes,
        mapping_ttl=mapping_ttl,
        max_attempts=max_attempts,
    )
    router = Router(failure_mode=failure_mode, metrics=metrics)
    router.on_batch(aggregator.filter, name="scores")(aggregator)
    return router
