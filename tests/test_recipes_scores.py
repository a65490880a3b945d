"""streamflow.recipes.scores against moto's server over HTTP: totals exactly once under every
way Lambda delivers (whole retries, suffixes, splits, duplicates), per-record failures, TTL
deletions, injected conflicts and throttling, and recursion safety."""

from __future__ import annotations

import logging
import random
import types
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from streamflow import Router, StreamRecord, testing
from streamflow.codec import deserialize_item, serialize_item
from streamflow.errors import AttributeDecodeError, RecursionRiskError
from streamflow.recipes.scores import (
    DEFAULT_TASKS,
    ScoreAggregator,
    ScoreRecordError,
    ScoreWriteError,
    score_filter,
    score_item,
    scores_router,
    task_item,
)
from tests import strategies

# --- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture
def dynamodb(aws_settings: dict[str, Any]) -> Any:
    import boto3

    return boto3.client("dynamodb", **aws_settings)


@pytest.fixture
def streams(aws_settings: dict[str, Any]) -> Any:
    import boto3

    return boto3.client("dynamodbstreams", **aws_settings)


@pytest.fixture
def table(dynamodb: Any) -> Iterator[tuple[str, str]]:
    """A fresh table with a stream and the scenario's task mappings: (name, stream ARN)."""
    name = f"scores-{uuid.uuid4().hex[:8]}"
    arn = testing.create_table(dynamodb, name)
    for task_type, points in DEFAULT_TASKS.items():
        dynamodb.put_item(TableName=name, Item=serialize_item(task_item(task_type, points)))
    yield name, arn
    dynamodb.delete_table(TableName=name)


def put(dynamodb: Any, table: str, item: dict[str, Any]) -> None:
    dynamodb.put_item(TableName=table, Item=serialize_item(item))


def delete(dynamodb: Any, table: str, score_id: str, user_id: str) -> None:
    key = {"PK": f"SCORE#{score_id}", "SK": f"USER#{user_id}"}
    dynamodb.delete_item(TableName=table, Key=serialize_item(key))


def stream_events(streams: Any, arn: str, router: Router) -> list[dict[str, Any]]:
    """Every record on the stream that the router's FilterCriteria lets through, in the Lambda
    shape: what the event source mapping would deliver."""
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    criteria = router.filter_criteria()
    out = []
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            for record in page["Records"]:
                raw = StreamRecord.from_get_records(record, stream_arn=arn).raw
                if criteria.matches(raw):
                    out.append(raw)
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return out


def scan(dynamodb: Any, table: str, key_prefix: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = dynamodb.scan(**kwargs)
        items += [deserialize_item(raw) for raw in page["Items"]]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return [item for item in items if str(item["PK"]).startswith(key_prefix)]


def totals(dynamodb: Any, table: str) -> dict[str, tuple[int, int]]:
    """Each user's (total, count) as the processor left them."""
    return {
        item["userId"]: (int(item["total"]), int(item["count"]))
        for item in scan(dynamodb, table, "USER#")
        if item["SK"] == "TOTAL" and (item["total"] or item["count"])
    }


def expected(dynamodb: Any, table: str) -> dict[str, tuple[int, int]]:
    """The totals computed independently, from the score items now in the table."""
    out: dict[str, tuple[int, int]] = {}
    for item in scan(dynamodb, table, "SCORE#"):
        points = int(item.get("points", DEFAULT_TASKS.get(item["taskType"], 0)))
        total, count = out.get(item["userId"], (0, 0))
        out[item["userId"]] = (total + points, count + 1)
    return out


def write_scores(dynamodb: Any, table: str, count: int, users: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    for i in range(count):
        task_type = rng.choice(sorted(DEFAULT_TASKS))
        points = rng.choice([None, None, None, 7])
        put(
            dynamodb,
            table,
            score_item(f"s{i}", f"u{rng.randrange(users)}", task_type, points=points),
        )


def count_calls(client: Any) -> dict[str, int]:
    """API calls the client makes from now on, by operation (botocore's before-call hook)."""
    calls: dict[str, int] = {}

    def seen(model: Any, **_: Any) -> None:
        calls[model.name] = calls.get(model.name, 0) + 1

    client.meta.events.register("before-call.dynamodb", seen)
    return calls


def inject(client: Any, operation: str, failures: Callable[[int], dict[str, Any] | None]) -> None:
    """Answer the n-th call of ``operation`` with ``failures(n)`` (an error response) instead
    of sending it, when that is not None: fault injection at botocore's before-call seam."""
    count = [0]

    def answer(**_: Any) -> Any:
        count[0] += 1
        response = failures(count[0])
        if response is None:
            return None
        return types.SimpleNamespace(status_code=400, headers={}), response

    client.meta.events.register(f"before-call.dynamodb.{operation}", answer)


def cancelled(*codes: str) -> dict[str, Any]:
    return {
        "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
        "CancellationReasons": [{"Code": code} for code in codes],
    }


def router_for(aggregator: ScoreAggregator) -> Router:
    router = Router(failure_mode="continue")
    router.on_batch(aggregator.filter, name="scores")(aggregator)
    return router


def no_sleep(_: float) -> None:
    pass


# --- totals ---------------------------------------------------------------------------------


def test_inserts_from_the_stream_make_totals(
    dynamodb: Any, streams: Any, table: tuple[str, str]
) -> None:
    name, arn = table
    write_scores(dynamodb, name, 40, users=6)
    router = scores_router(table=name, dynamodb=dynamodb)
    events = stream_events(streams, arn, router)
    assert len(events) == 40  # the task mappings do not match the filter
    assert router.lambda_handler({"Records": events}, None) == {"batchItemFailures": []}
    assert totals(dynamodb, name) == expected(dynamodb, name)
    total = scan(dynamodb, name, "USER#")[0]
    assert total["updatedAt"].endswith("+00:00")


def test_modify_applies_the_difference_and_remove_takes_points_off(
    dynamodb: Any, streams: Any, table: tuple[str, str]
) -> None:
    name, arn = table
    put(dynamodb, name, score_item("a", "u1", "easy"))
    put(dynamodb, name, score_item("b", "u1", "hard"))
    put(dynamodb, name, score_item("c", "u2", "medium"))
    put(dynamodb, name, score_item("a", "u1", "medium"))  # MODIFY: 5 -> 10
    put(dynamodb, name, score_item("c", "u2", "medium", points=12))  # MODIFY: 10 -> 12
    delete(dynamodb, name, "b", "u1")  # REMOVE: -30
    router = scores_router(table=name, dynamodb=dynamodb)
    events = stream_events(streams, arn, router)
    assert [e["eventName"] for e in events] == ["INSERT"] * 3 + ["MODIFY"] * 2 + ["REMOVE"]
    router.lambda_handler({"Records": events}, None)
    assert totals(dynamodb, name) == {"u1": (10, 1), "u2": (12, 1)}
    assert totals(dynamodb, name) == expected(dynamodb, name)


def test_every_delivery_pattern_counts_each_record_once(
    dynamodb: Any, streams: Any, table: tuple[str, str]
) -> None:
    name, arn = table
    write_scores(dynamodb, name, 60, users=5, seed=1)
    for i in range(0, 60, 7):  # some changes of points, some deletions
        put(dynamodb, name, score_item(f"s{i}", "u0", "hard", points=i))
    router = scores_router(table=name, dynamodb=dynamodb)
    events = stream_events(streams, arn, router)
    rng = random.Random(7)
    # whole batch, twice
    router.lambda_handler({"Records": events[:30]}, None)
    router.lambda_handler({"Records": events[:30]}, None)
    # retried from a failed record: an overlapping suffix
    router.lambda_handler({"Records": events[20:45]}, None)
    # bisected: halves and quarters of what is left, some twice
    rest = events[40:]
    for start in range(0, len(rest), 5):
        chunk = rest[start : start + rng.randint(3, 9)]
        router.lambda_handler({"Records": chunk}, None)
        if rng.random() < 0.5:
            router.lambda_handler({"Records": chunk}, None)
    # a duplicate inside one batch, and everything once more
    router.lambda_handler({"Records": [*events, events[3]]}, None)
    assert totals(dynamodb, name) == expected(dynamodb, name)


def test_a_batch_racing_a_parallel_duplicate_applies_each_record_once(
    dynamodb: Any, streams: Any, table: tuple[str, str], aws_settings: dict[str, Any]
) -> None:
    """Two invocations with overlapping records at once. On AWS the transactions serialize:
    the loser sees TransactionConflict while the winner is in flight, then
    ConditionalCheckFailed on the winner's markers. moto does not isolate concurrent
    transactions (its threaded server takes no lock), so the race is staged here: while
    invocation A's first transaction is in flight, invocation B (its own client) runs whole,
    and A's transaction is answered with TransactionConflict."""
    import boto3

    name, arn = table
    write_scores(dynamodb, name, 30, users=3, seed=2)
    router_a = scores_router(table=name, dynamodb=dynamodb)
    router_b = scores_router(table=name, dynamodb=boto3.client("dynamodb", **aws_settings))
    events = stream_events(streams, arn, router_a)

    def race(n: int) -> dict[str, Any] | None:
        if n != 1:
            return None
        assert router_b.lambda_handler({"Records": events[5:]}, None) == {"batchItemFailures": []}
        return cancelled("TransactionConflict", *["None"] * 10)

    inject(dynamodb, "TransactWriteItems", race)
    assert router_a.lambda_handler({"Records": events[:20]}, None) == {"batchItemFailures": []}
    assert totals(dynamodb, name) == expected(dynamodb, name)


def test_one_user_over_99_records_takes_several_transactions(
    dynamodb: Any, table: tuple[str, str]
) -> None:
    name, _ = table
    calls = count_calls(dynamodb)
    event = testing.event(
        *(testing.insert(score_item(f"s{i}", "whale", "easy")) for i in range(150))
    )
    router = scores_router(table=name, dynamodb=dynamodb)
    assert router.lambda_handler(event, None) == {"batchItemFailures": []}
    assert calls == {"BatchGetItem": 1, "TransactWriteItems": 2}
    assert totals(dynamodb, name) == {"whale": (750, 150)}


def test_task_mappings_are_read_in_one_call_and_cached_for_mapping_ttl(
    dynamodb: Any, table: tuple[str, str]
) -> None:
    name, _ = table
    now = [1_800_000_000.0]
    aggregator = ScoreAggregator(
        table=name, dynamodb=dynamodb, mapping_ttl=60, clock=lambda: now[0]
    )
    calls = count_calls(dynamodb)
    first = testing.event(
        *(testing.insert(score_item(f"s{i}", "u", t)) for i, t in enumerate(DEFAULT_TASKS)),
        first_sequence_number=10**20,
    )
    router_for(aggregator).lambda_handler(first, None)
    assert calls["BatchGetItem"] == 1
    now[0] += 59
    second = testing.event(
        testing.insert(score_item("s9", "u", "hard")), first_sequence_number=2 * 10**20
    )
    router_for(aggregator).lambda_handler(second, None)
    assert calls["BatchGetItem"] == 1
    put(dynamodb, name, task_item("hard", 50))
    now[0] += 2
    third = testing.event(
        testing.insert(score_item("s10", "u", "hard")), first_sequence_number=3 * 10**20
    )
    router_for(aggregator).lambda_handler(third, None)
    assert calls["BatchGetItem"] == 2
    assert totals(dynamodb, name) == {"u": (5 + 10 + 30 + 30 + 50, 5)}
    expiries = {marker["expiresAt"] for marker in scan(dynamodb, name, "APPLIED#")}
    assert max(expiries) == int(now[0]) + 25 * 3600  # a day past the stream's retention


# --- failures -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (score_item("x", "u1", "legendary"), "unknown task type 'legendary'"),
        ({"PK": "SCORE#x", "SK": "USER#u1", "taskType": "easy"}, "no userId"),
        (score_item("x", "u1", "easy", points=-3), "malformed points -3"),
        ({**score_item("x", "u1", "easy"), "points": "ten"}, "malformed points 'ten'"),
        ({**score_item("x", "u1", "easy"), "points": 2.5}, "malformed points"),
        ({**score_item("x", "u1", "easy"), "points": True}, "malformed points True"),
        ({"PK": "SCORE#x", "SK": "USER#u1", "userId": "u1"}, "no points or taskType"),
    ],
)
def test_a_bad_record_fails_alone_with_a_clear_reason(
    dynamodb: Any, table: tuple[str, str], item: dict[str, Any], reason: str
) -> None:
    name, _ = table
    event = testing.event(
        testing.insert(score_item("a", "u1", "easy")),
        testing.insert(item),
        testing.insert(score_item("b", "u2", "hard")),
    )
    records = [StreamRecord.from_lambda(raw) for raw in event["Records"]]
    result = ScoreAggregator(table=name, dynamodb=dynamodb).apply(records)
    assert result.applied == (records[0], records[2])
    [(record, error)] = result.failed
    assert record == records[1]
    assert isinstance(error, ScoreRecordError)
    assert reason in str(error)
    assert error.event_id == records[1].event_id
    assert totals(dynamodb, name) == {"u1": (5, 1), "u2": (30, 1)}


@pytest.mark.parametrize(
    ("bad", "path", "reason"),
    [
        ({"S": 5}, "NewImage.comment", "S value must be a string"),
        ({"N": "1e99999999999999999999"}, "NewImage.comment", "outside DynamoDB's range"),
        (
            strategies.nested_av(40),
            "NewImage.comment" + ".a" * 32,
            "deeper than DynamoDB's 32 levels",
        ),
    ],
    ids=["S-holding-a-number", "huge-exponent", "40-levels-of-M"],
)
@pytest.mark.parametrize("failure_mode", ["stop", "continue"])
def test_an_attribute_the_recipe_never_reads_but_cannot_decode_fails_its_record_alone(
    dynamodb: Any,
    table: tuple[str, str],
    failure_mode: Any,
    bad: dict[str, Any],
    path: str,
    reason: str,
) -> None:
    name, _ = table
    event = testing.event(
        *(testing.insert(score_item(f"s{i}", f"u{i}", "easy", points=i + 1)) for i in range(10))
    )
    event["Records"][6]["dynamodb"]["NewImage"]["comment"] = bad
    sequence = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
    aggregator = ScoreAggregator(table=name, dynamodb=dynamodb)
    router = Router(failure_mode=failure_mode)
    router.on_batch(aggregator.filter, name="scores")(aggregator)
    # each user scores once: (total, count) is how many times each record was applied
    once = {f"u{i}": (i + 1, 1) for i in range(10) if i != 6}

    response = router.lambda_handler(event, None)
    assert response == {"batchItemFailures": [{"itemIdentifier": s} for s in sequence[6:]]}
    assert totals(dynamodb, name) == once
    # Lambda resumes at the lowest failure: what follows it comes again and is not re-applied
    again = router.lambda_handler({"Records": event["Records"][6:]}, None)
    assert again == response
    assert totals(dynamodb, name) == once

    records = [StreamRecord.from_lambda(raw) for raw in event["Records"]]
    result = aggregator.apply(records)
    [(record, error)] = result.failed
    assert record is records[6]
    assert isinstance(error, AttributeDecodeError)
    assert error.path == path
    assert reason in error.reason
    assert result.duplicates == tuple(records[:6] + records[7:])


def test_a_total_past_dynamodbs_numbers_fails_that_users_records_alone(
    dynamodb: Any, table: tuple[str, str]
) -> None:
    name, _ = table
    huge = 10**100  # each record's points are a DynamoDB number; their sum (101 digits) is not
    event = testing.event(
        testing.insert(score_item("a", "u1", "easy", points=huge)),
        testing.insert(score_item("b", "u1", "easy", points=1)),
        testing.insert(score_item("c", "u2", "hard")),
    )
    records = [StreamRecord.from_lambda(raw) for raw in event["Records"]]
    calls = count_calls(dynamodb)
    result = ScoreAggregator(table=name, dynamodb=dynamodb, sleep=no_sleep).apply(records)
    assert calls["TransactWriteItems"] == 1  # u2's; u1's is refused before it is sent
    assert [record for record, _ in result.failed] == records[:2]
    assert all(isinstance(error, ScoreWriteError) for _, error in result.failed)
    assert "significant digits" in str(result.failed[0][1])
    assert "attempts" not in str(result.failed[0][1])  # refused at once: retrying cannot help
    assert result.applied == (records[2],)
    assert totals(dynamodb, name) == {"u2": (30, 1)}


def test_failed_records_are_reported_logged_and_applied_once_when_fixed(
    dynamodb: Any, table: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    name, _ = table
    event = testing.event(
        testing.insert(score_item("a", "u1", "easy")),
        testing.insert(score_item("b", "u1", "epic")),
        testing.insert(score_item("c", "u2", "hard")),
    )
    router = scores_router(table=name, dynamodb=dynamodb)
    with caplog.at_level(logging.ERROR, logger="streamflow.recipes.scores"):
        response = router.lambda_handler(event, None)
    sequence = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
    # Lambda resumes at the lowest failure: "b", then "c" again
    assert response == {"batchItemFailures": [{"itemIdentifier": s} for s in sequence[1:]]}
    assert "unknown task type 'epic'" in caplog.text
    assert sequence[1] in caplog.text
    put(dynamodb, name, task_item("epic", 100))  # the operator adds the mapping
    fixed = scores_router(table=name, dynamodb=dynamodb)  # a new container, an empty cache
    assert fixed.lambda_handler({"Records": event["Records"][1:]}, None) == {
        "batchItemFailures": []
    }
    assert totals(dynamodb, name) == {"u1": (105, 2), "u2": (30, 1)}


def test_images_missing_from_the_stream_fail_the_record(
    dynamodb: Any, table: tuple[str, str]
) -> None:
    name, _ = table
    event = testing.event(testing.remove(score_item("a", "u1", "easy")), view_type="KEYS_ONLY")
    record = StreamRecord.from_lambda(event["Records"][0])
    [(_, error)] = ScoreAggregator(table=name, dynamodb=dynamodb).apply([record]).failed
    assert "NEW_AND_OLD_IMAGES" in str(error)


def test_conflicts_are_retried_with_backoff(dynamodb: Any, table: tuple[str, str]) -> None:
    name, _ = table
    inject(
        dynamodb,
        "TransactWriteItems",
        lambda n: cancelled("TransactionConflict", "None") if n <= 2 else None,
    )
    pauses: list[float] = []
    aggregator = ScoreAggregator(table=name, dynamodb=dynamodb, sleep=pauses.append)
    event = testing.event(testing.insert(score_item("a", "u1", "hard")))
    assert router_for(aggregator).lambda_handler(event, None) == {"batchItemFailures": []}
    assert len(pauses) == 2
    assert all(0 <= p <= 1 for p in pauses)
    assert totals(dynamodb, name) == {"u1": (30, 1)}


def test_throttling_past_max_attempts_fails_the_records_then_redelivery_applies_them_once(
    dynamodb: Any, table: tuple[str, str]
) -> None:
    name, _ = table
    throttled = [True]
    inject(
        dynamodb,
        "TransactWriteItems",
        lambda n: (
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}}
            if throttled[0]
            else None
        ),
    )
    aggregator = ScoreAggregator(table=name, dynamodb=dynamodb, max_attempts=3, sleep=no_sleep)
    event = testing.event(
        testing.insert(score_item("a", "u1", "hard")),
        testing.insert(score_item("b", "u2", "easy")),
    )
    records = [StreamRecord.from_lambda(raw) for raw in event["Records"]]
    result = aggregator.apply(records)
    assert result.applied == ()
    assert [r for r, _ in result.failed] == records
    error = result.failed[0][1]
    assert isinstance(error, ScoreWriteError)
    assert "ProvisionedThroughputExceededException after 3 attempts" in str(error)
    throttled[0] = False
    assert router_for(aggregator).lambda_handler(event, None) == {"batchItemFailures": []}
    assert router_for(aggregator).lambda_handler(event, None) == {"batchItemFailures": []}
    assert totals(dynamodb, name) == {"u1": (30, 1), "u2": (5, 1)}


def test_a_refused_transaction_fails_without_retrying(
    dynamodb: Any, table: tuple[str, str]
) -> None:
    name, _ = table
    inject(dynamodb, "TransactWriteItems", lambda n: cancelled("ValidationError", "None"))
    pauses: list[float] = []
    aggregator = ScoreAggregator(table=name, dynamodb=dynamodb, sleep=pauses.append)
    record = StreamRecord.from_lambda(
        testing.records(testing.insert(score_item("a", "u1", "hard")))[0]
    )
    [(_, error)] = aggregator.apply([record]).failed
    assert "ValidationError" in str(error)
    assert pauses == []


def test_already_applied_records_are_dropped_and_the_rest_applied(
    dynamodb: Any, table: tuple[str, str]
) -> None:
    name, _ = table
    raws = testing.records(*(testing.insert(score_item(f"s{i}", "u1", "easy")) for i in range(6)))
    records = [StreamRecord.from_lambda(raw) for raw in raws]
    aggregator = ScoreAggregator(table=name, dynamodb=dynamodb)
    calls = count_calls(dynamodb)
    assert aggregator.apply(records[1:3]).applied == tuple(records[1:3])
    result = aggregator.apply(records)
    assert result.duplicates == tuple(records[1:3])
    assert result.applied == (records[0], *records[3:])
    assert calls["TransactWriteItems"] == 3  # the first, then one cancelled and one retried
    assert totals(dynamodb, name) == {"u1": (30, 6)}


# --- TTL deletions --------------------------------------------------------------------------


def test_ttl_deletions_leave_totals_alone_by_default(dynamodb: Any, table: tuple[str, str]) -> None:
    name, _ = table
    router = scores_router(table=name, dynamodb=dynamodb)
    added = testing.event(testing.insert(score_item("a", "u1", "hard")))
    expired = testing.event(
        testing.remove(score_item("a", "u1", "hard"), ttl=True), first_sequence_number=10**21
    )
    router.lambda_handler(added, None)
    assert not router.filter_criteria().matches(expired["Records"][0])  # never delivered
    router.lambda_handler(expired, None)  # and harmless if it were
    assert totals(dynamodb, name) == {"u1": (30, 1)}


def test_ttl_deletions_subtract_when_configured(dynamodb: Any, table: tuple[str, str]) -> None:
    name, _ = table
    router = scores_router(table=name, dynamodb=dynamodb, ttl_deletes="subtract")
    router.lambda_handler(testing.event(testing.insert(score_item("a", "u1", "hard"))), None)
    expired = testing.event(
        testing.remove(score_item("a", "u1", "hard"), ttl=True), first_sequence_number=10**21
    )
    assert router.filter_criteria().matches(expired["Records"][0])
    router.lambda_handler(expired, None)
    assert totals(dynamodb, name) == {}
    assert scan(dynamodb, name, "USER#")[0]["count"] == 0


# --- recursion safety -----------------------------------------------------------------------


def test_its_own_writes_never_trigger_it(
    dynamodb: Any, streams: Any, table: tuple[str, str]
) -> None:
    name, arn = table
    router = scores_router(table=name, dynamodb=dynamodb)
    router.assert_not_retriggered({"PK": "USER#u1", "SK": "TOTAL", "total": 5, "count": 1})
    router.assert_not_retriggered({"PK": "APPLIED#abc", "SK": "APPLIED", "expiresAt": 1})
    router.assert_not_retriggered(task_item("easy", 5))
    with pytest.raises(RecursionRiskError):
        router.assert_not_retriggered(score_item("s1", "u1", "easy"))
    # and on the real stream: after processing, only the scores themselves pass the filter
    write_scores(dynamodb, name, 10, users=3)
    router.lambda_handler({"Records": stream_events(streams, arn, router)}, None)
    assert scan(dynamodb, name, "APPLIED#")
    assert all(
        e["dynamodb"]["Keys"]["PK"]["S"].startswith("SCORE#")
        for e in stream_events(streams, arn, router)
    )
    assert len(stream_events(streams, arn, router)) == 10


def test_no_write_of_the_recipe_nor_its_ttl_deletion_triggers_either_filter() -> None:
    marker = {"PK": "APPLIED#abc", "SK": "APPLIED", "expiresAt": 1}
    total = {"PK": "USER#u1", "SK": "TOTAL", "total": 5, "count": 1, "userId": "u1"}
    for ttl_deletes in ("ignore", "subtract"):
        router = scores_router(table="t", ttl_deletes=ttl_deletes)
        router.assert_not_retriggered(total, old_item={**total, "total": 0, "count": 0})
        router.assert_not_retriggered(marker)
        criteria = router.filter_criteria()
        # markers expire by TTL: those REMOVEs reach the stream too, and must not match
        for raw in testing.records(
            testing.remove(marker, ttl=True), testing.remove(marker), testing.remove(total)
        ):
            assert not criteria.matches(raw), (ttl_deletes, raw)
        expired = testing.records(testing.remove(score_item("s", "u1", "easy"), ttl=True))
        assert criteria.matches(expired[0]) is (ttl_deletes == "subtract")


def test_the_filter_and_options() -> None:
    assert score_filter(ttl_deletes="subtract").pattern == {
        "eventName": ["INSERT", "MODIFY", "REMOVE"],
        "dynamodb": {"Keys": {"PK": {"S": [{"prefix": "SCORE#"}]}}},
    }
    with pytest.raises(ValueError, match="ttl_deletes"):
        scores_router(table="t", ttl_deletes="count")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_attempts"):
        ScoreAggregator(table="t", max_attempts=0)
    error = ScoreRecordError("e1", "bad")
    assert isinstance(error, ValueError)
    assert str(error) == "score record e1: bad"
    assert type(error).__module__ == "streamflow.errors"


def test_a_copy_of_a_failed_record_in_the_same_batch_fails_with_it(
    dynamodb: Any, table: tuple[str, str]
) -> None:
    name, _ = table
    raws = testing.records(
        testing.insert(score_item("a", "u1", "mystery")),
        testing.insert(score_item("b", "u2", "easy")),
    )
    first, second = (StreamRecord.from_lambda(raw) for raw in raws)
    result = ScoreAggregator(table=name, dynamodb=dynamodb).apply([first, second, first])
    assert [record for record, _ in result.failed] == [first, first]
    assert result.applied == (second,)
    assert result.duplicates == ()


def test_the_python_examples_of_the_docs_page_run() -> None:
    import pathlib
    import re

    page = pathlib.Path(__file__).resolve().parent.parent / "docs" / "score-recipe.md"
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.DOTALL)
    assert len(blocks) == 2
    for block in blocks:
        exec(compile(block, str(page), "exec"), {})
