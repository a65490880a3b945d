"""POST /scores: validate a score submission and store it; the stream does the rest.

An API Gateway REST API (proxy integration) invokes ``handler``. The body is
``{"userId": "...", "taskType": "...", "scoreId": "..."}`` (``scoreId`` optional: one is made
when absent). The score item's key is ``SCORE#<scoreId>`` / ``USER#<userId>``, so a condition
on it alone would let the same ``scoreId`` be stored again for another user. The score is
therefore written in one transaction with a guard item ``SUBMISSION#<scoreId>`` (which no
route of the processor matches), both conditioned on not existing: a resubmitted ``scoreId``
is stored once. The same submission again answers 202 with the same id; another submission
reusing an id answers 409. The processor (``process.py``) adds the points to the user's total
from the table's stream.

Environment: ``TABLE_NAME`` (required), ``TASK_TYPES`` (comma-separated, default
``easy,medium,hard``), and boto3's usual settings (``AWS_ENDPOINT_URL`` for a local endpoint).
"""

from __future__ import annotations

import base64
import json
import os
import re
import uuid
from typing import Any

from streamflow.codec import serialize_item
from streamflow.recipes.scores import score_item

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_client: Any = None


def _dynamodb() -> Any:
    global _client
    if _client is None:
        import boto3

        _client = boto3.client("dynamodb")
    return _client


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }


def _task_types() -> set[str]:
    return {t.strip() for t in os.environ.get("TASK_TYPES", "easy,medium,hard").split(",") if t}


def validate(body: object) -> tuple[dict[str, str], list[str]]:
    """The submission's fields, and every problem found (empty when valid)."""
    if not isinstance(body, dict):
        return {}, ["the body must be a JSON object"]
    problems = []
    fields: dict[str, str] = {}
    for name, required in (("userId", True), ("taskType", True), ("scoreId", False)):
        value = body.get(name)
        if value is None:
            if required:
                problems.append(f"{name} is required")
            continue
        if not isinstance(value, str) or not _ID.fullmatch(value):
            problems.append(f"{name} must be 1 to 64 letters, digits, '-' or '_'")
            continue
        fields[name] = value
    if "taskType" in fields and fields["taskType"] not in _task_types():
        problems.append(f"taskType must be one of {', '.join(sorted(_task_types()))}")
    unknown = sorted(set(body) - {"userId", "taskType", "scoreId"})
    if unknown:
        problems.append(f"unknown fields: {', '.join(unknown)}")
    return fields, problems


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point behind ``POST /scores``."""
    if event.get("httpMethod") != "POST":
        return _response(405, {"message": "use POST /scores"})
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode("utf-8", "replace")
    try:
        body = json.loads(raw)
    except ValueError:
        return _response(400, {"message": "invalid JSON", "errors": ["the body is not JSON"]})
    fields, problems = validate(body)
    if problems:
        return _response(400, {"message": "invalid score", "errors": problems})
    score_id = fields.get("scoreId") or uuid.uuid4().hex
    item = score_item(score_id, fields["userId"], fields["taskType"])
    table = os.environ["TABLE_NAME"]
    client = _dynamodb()
    guard = {"PK": f"SUBMISSION#{score_id}", "SK": "SUBMISSION", "userId": fields["userId"]}
    try:
        client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table,
                        "Item": serialize_item(guard),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                {
                    "Put": {
                        "TableName": table,
                        "Item": serialize_item(item),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
            ]
        )
    except client.exceptions.TransactionCanceledException as error:
        reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
        if "ConditionalCheckFailed" not in reasons:
            raise  # throttled or conflicting: Lambda answers 5xx and the client retries
        stored = client.get_item(
            TableName=table,
            Key=serialize_item({"PK": item["PK"], "SK": item["SK"]}),
            ConsistentRead=True,
        ).get("Item")
        if stored != serialize_item(item):
            return _response(409, {"message": f"scoreId {score_id} is already used"})
    return _response(202, {"scoreId": score_id})
