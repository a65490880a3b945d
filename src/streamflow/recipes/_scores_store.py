"""The score recipe's DynamoDB calls: task mappings in, totals and markers out, with retries.

Part of :mod:`streamflow.recipes.scores`; import from there.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from streamflow.codec import deserialize_item, serialize_item
from streamflow.errors import AttributeEncodeError, ScoreWriteError, StreamflowError
from streamflow.recipes._scores_changes import Change
from streamflow.records import StreamRecord

__all__ = ["MAX_CHANGES_PER_TRANSACTION", "Outcome", "Store"]

MAX_CHANGES_PER_TRANSACTION = 99  # TransactWriteItems takes 100 actions: one Update, 99 Puts
_BATCH_GET_KEYS = 100
_RETRYABLE = frozenset(
    {
        "TransactionConflict",
        "ThrottlingError",
        "ThrottlingException",
        "ProvisionedThroughputExceeded",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalServerError",
        "TransactionInProgressException",
        "ServiceUnavailable",
    }
)


@dataclass
class Outcome:
    """What became of the records of one batch, filled in as transactions complete."""

    applied: list[StreamRecord] = field(default_factory=list)
    duplicates: list[StreamRecord] = field(default_factory=list)
    failed: list[tuple[StreamRecord, StreamflowError]] = field(default_factory=list)


@dataclass
class Store:
    """The table, reached through a client made on first use."""

    table: str
    make_client: Callable[[], Any]
    marker_ttl: int
    max_attempts: int
    backoff: float
    clock: Callable[[], float]
    sleep: Callable[[float], None]

    def task_items(self, task_types: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The mapping items of ``task_types`` that exist (at most 100 types), keyed by type.

        Raises:
            ScoreWriteError: keys stayed unprocessed after ``max_attempts`` calls.
            botocore.exceptions.ClientError: DynamoDB refused the call.
        """
        keys = [serialize_item({"PK": f"TASK#{t}", "SK": f"TASK#{t}"}) for t in task_types]
        request: dict[str, Any] = {
            self.table: {
                "Keys": keys,
                "ProjectionExpression": "#pk, #points",
                "ExpressionAttributeNames": {"#pk": "PK", "#points": "points"},
            }
        }
        found: dict[str, dict[str, Any]] = {}
        for attempt in range(self.max_attempts):
            response = self.make_client().batch_get_item(RequestItems=request)
            for raw in response.get("Responses", {}).get(self.table, []):
                item = deserialize_item(raw)
                found[str(item["PK"]).removeprefix("TASK#")] = item
            request = response.get("UnprocessedKeys") or {}
            if not request:
                return found
            self.pause(attempt)
        raise ScoreWriteError("(task mappings)", "keys still unprocessed after retries")

    def commit(self, user_id: str, changes: Sequence[Change], outcome: Outcome) -> None:
        """Apply ``changes`` (one user's, at most 99) in one transaction, retried until each
        is applied, known applied before, or failed; the result goes into ``outcome``."""
        from botocore.exceptions import ClientError

        pending = list(changes)
        attempt = 0
        while pending:
            try:
                actions = self.actions(user_id, pending)
            except AttributeEncodeError as error:  # a sum of points past DynamoDB's numbers
                self._fail(pending, user_id, str(error), outcome)
                return
            try:
                self.make_client().transact_write_items(TransactItems=actions)
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                if code != "TransactionCanceledException":
                    if code not in _RETRYABLE:
                        self._fail(pending, user_id, f"{code}: {error}", outcome)
                        return
                    reason = code
                else:
                    reasons = [
                        r.get("Code", "None") for r in error.response.get("CancellationReasons", [])
                    ]
                    # action 0 is the Update; action i + 1 is the marker of pending[i]
                    done = {
                        i
                        for i in range(len(pending))
                        if i + 1 < len(reasons) and reasons[i + 1] == "ConditionalCheckFailed"
                    }
                    outcome.duplicates.extend(pending[i].record for i in sorted(done))
                    pending = [c for i, c in enumerate(pending) if i not in done]
                    others = {r for r in reasons if r not in ("None", "ConditionalCheckFailed")}
                    if others - _RETRYABLE:
                        self._fail(pending, user_id, ", ".join(sorted(others)), outcome)
                        return
                    if done and not others:
                        continue  # only duplicates: the rest goes again at once
                    reason = ", ".join(sorted(others)) or code
            except Exception as error:  # the connection, not DynamoDB: try again
                reason = f"{type(error).__name__}: {error}"
            else:
                outcome.applied.extend(change.record for change in pending)
                return
            attempt += 1
            if attempt >= self.max_attempts:
                self._fail(pending, user_id, f"{reason} after {attempt} attempts", outcome)
                return
            self.pause(attempt - 1)

    def actions(self, user_id: str, changes: Sequence[Change]) -> list[dict[str, Any]]:
        """The TransactWriteItems actions: the total's Update, then one marker Put each."""
        now = self.clock()
        stamp = datetime.fromtimestamp(now, timezone.utc).isoformat(timespec="seconds")
        values = {
            ":points": sum(c.points for c in changes),
            ":count": sum(c.count for c in changes),
            ":at": stamp,
            ":user": user_id,
        }
        update = {
            "Update": {
                "TableName": self.table,
                "Key": serialize_item({"PK": f"USER#{user_id}", "SK": "TOTAL"}),
                "UpdateExpression": (
                    "ADD #total :points, #count :count SET #at = :at, #user = :user"
                ),
                "ExpressionAttributeNames": {
                    "#total": "total",
                    "#count": "count",
                    "#at": "updatedAt",
                    "#user": "userId",
                },
                "ExpressionAttributeValues": serialize_item(values),
            }
        }
        expires = int(now) + self.marker_ttl
        markers = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": serialize_item(
                        {
                            "PK": f"APPLIED#{c.record.event_id}",
                            "SK": "APPLIED",
                            "expiresAt": expires,
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
            for c in changes
        ]
        return [update, *markers]

    def pause(self, attempt: int) -> None:
        """Wait before try ``attempt + 2``: full jitter, exponential, capped at 1 s."""
        if self.backoff:
            self.sleep(random.uniform(0, min(1.0, self.backoff * 2**attempt)))

    @staticmethod
    def _fail(changes: Sequence[Change], user_id: str, reason: str, outcome: Outcome) -> None:
        error = ScoreWriteError(user_id, reason)
        outcome.failed.extend((change.record, error) for change in changes)
