"""examples/score_pipeline/handlers/submit.py against a real local DynamoDB endpoint."""

from __future__ import annotations

import base64
import importlib.util
import json
import pathlib
import uuid
from typing import Any

import boto3
import pytest

from streamflow import testing
from streamflow.codec import deserialize_item
from streamflow.recipes.scores import scores_router

PATH = pathlib.Path(__file__).resolve().parent.parent / "examples/score_pipeline/handlers/submit.py"


@pytest.fixture
def submit(aws_settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    dynamodb = boto3.client("dynamodb", **aws_settings)
    table = f"submit-{uuid.uuid4().hex[:8]}"
    testing.create_table(dynamodb, table)
    monkeypatch.setenv("TABLE_NAME", table)
    spec = importlib.util.spec_from_file_location("submit_under_test", PATH)
    assert spec is not None
    assert spec.loader is not None
    module: Any = importlib.util.module_from_spec(spec)  # the handler module's own names
    spec.loader.exec_module(module)
    module._client = dynamodb  # the handler's client, pointed at the local endpoint
    return module, dynamodb, table


def post(module: Any, body: object, *, encode: bool = False) -> tuple[int, dict[str, Any]]:
    text = body if isinstance(body, str) else json.dumps(body)
    event: dict[str, Any] = {"httpMethod": "POST", "path": "/scores", "body": text}
    if encode:
        event.update(body=base64.b64encode(text.encode()).decode(), isBase64Encoded=True)
    response = module.handler(event, None)
    return response["statusCode"], json.loads(response["body"])


def items(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    return [deserialize_item(i) for i in dynamodb.scan(TableName=table)["Items"]]


def test_accepts_a_score_and_stores_it_once(submit: Any) -> None:
    module, dynamodb, table = submit
    status, body = post(module, {"userId": "u7", "taskType": "hard", "scoreId": "s1"})
    assert (status, body) == (202, {"scoreId": "s1"})
    assert post(module, {"userId": "u7", "taskType": "hard", "scoreId": "s1"}, encode=True) == (
        202,
        {"scoreId": "s1"},
    )
    scores = [i for i in items(dynamodb, table) if i["PK"].startswith("SCORE#")]
    assert scores == [
        {"PK": "SCORE#s1", "SK": "USER#u7", "scoreId": "s1", "userId": "u7", "taskType": "hard"}
    ]


def test_a_reused_score_id_is_refused_even_for_another_user(submit: Any) -> None:
    module, dynamodb, table = submit
    assert post(module, {"userId": "u7", "taskType": "hard", "scoreId": "s1"})[0] == 202
    status, body = post(module, {"userId": "u8", "taskType": "easy", "scoreId": "s1"})
    assert status == 409
    assert "already used" in body["message"]
    assert sum(i["PK"] == "SCORE#s1" for i in items(dynamodb, table)) == 1


def test_makes_an_id_when_none_is_given(submit: Any) -> None:
    module, _, _ = submit
    status, body = post(module, {"userId": "u7", "taskType": "easy"})
    assert status == 202
    assert len(body["scoreId"]) == 32


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("not json", "not JSON"),
        ([1], "JSON object"),
        ({"taskType": "easy"}, "userId is required"),
        ({"userId": "u7"}, "taskType is required"),
        ({"userId": "u 7", "taskType": "easy"}, "userId must be"),
        ({"userId": "u7", "taskType": "legendary"}, "taskType must be one of"),
        ({"userId": "u7", "taskType": "easy", "points": 1000}, "unknown fields: points"),
        ({"userId": 7, "taskType": "easy"}, "userId must be"),
    ],
)
def test_invalid_payloads_are_refused_with_every_problem(
    submit: Any, body: object, problem: str
) -> None:
    module, dynamodb, table = submit
    status, answer = post(module, body)
    assert status == 400
    assert any(problem in e for e in answer["errors"])
    assert items(dynamodb, table) == []


def test_only_post(submit: Any) -> None:
    module, _, _ = submit
    assert module.handler({"httpMethod": "GET", "path": "/scores"}, None)["statusCode"] == 405


def test_guard_items_never_reach_the_processor(submit: Any) -> None:
    router = scores_router(table="any")
    router.assert_not_retriggered({"PK": "SUBMISSION#s1", "SK": "SUBMISSION", "userId": "u7"})


def test_processor_module_is_the_recipe_router(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamflow.recipes.scores import score_filter

    monkeypatch.setenv("TABLE_NAME", "scores")
    path = PATH.with_name("process.py")
    spec = importlib.util.spec_from_file_location("process_under_test", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.handler == module.router.lambda_handler
    assert module.router.filter_criteria().patterns == [score_filter().pattern]
