"""``streamflow redrive`` end to end on moto's server (DynamoDB, Streams, SQS on 127.0.0.1,
nothing mocked): a handler fails batches until ``streamflow run`` discards them to an
on-failure destination; the handler is fixed; ``redrive`` delivers exactly the discarded
records, in order, and acknowledges them; run again, it has nothing to do."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from streamflow import Router, StreamRecord, testing
from streamflow.filters import Filter, prefix
from streamflow.runner import RedriveSummary, redrive, run
from tests.redrive_support import QUIET, discarded, keys_of


@pytest.fixture
def failed(aws_settings: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """The batches [K1, K2] and [K5, K6], discarded by ``run`` to an on-failure file."""
    return discarded(aws_settings, tmp_path)


def test_a_json_lines_file_is_redriven_exactly_once(failed: dict[str, Any], tmp_path: Path) -> None:
    handler, source = failed["handler"], str(failed["on_failure"])
    handler.fixed = True
    handler.delivered.clear()
    summary = redrive(handler, source=source, streams_client=failed["streams"], **QUIET)
    assert handler.delivered == ["K1", "K2", "K5", "K6"]
    assert (summary.batches, summary.batches_redriven, summary.exit_code) == (2, 2, 0)
    state = json.loads(Path(source + ".state.json").read_text())
    assert sorted(state["done"]) == ["1", "2"]
    # Again: nothing to do.
    again = redrive(handler, source=source, streams_client=failed["streams"], **QUIET)
    assert handler.delivered == ["K1", "K2", "K5", "K6"]
    assert (again.batches, again.invocations, again.exit_code) == (0, 0, 0)


def test_a_batch_that_fails_again_stays_in_its_source(
    failed: dict[str, Any], tmp_path: Path
) -> None:
    handler, source = failed["handler"], str(failed["on_failure"])
    handler.poisoned = {"K6"}  # only half fixed
    handler.delivered.clear()
    again = tmp_path / "again.jsonl"
    summary = redrive(
        handler,
        source=source,
        streams_client=failed["streams"],
        max_retries=1,
        on_failure=str(again),
        **QUIET,
    )
    assert handler.delivered == ["K1", "K2"]
    assert (summary.batches_redriven, summary.batches_failed, summary.exit_code) == (1, 1, 1)
    [line] = [json.loads(text) for text in again.read_text().splitlines()]
    assert line["requestContext"]["approximateInvokeCount"] == 2
    assert line["DDBStreamBatchInfo"]["batchSize"] == 2
    # Fixed for good: only the batch left is delivered.
    handler.fixed = True
    summary = redrive(handler, source=source, streams_client=failed["streams"], **QUIET)
    assert handler.delivered == ["K1", "K2", "K5", "K6"]
    assert (summary.batches, summary.exit_code) == (1, 0)


def test_a_dry_run_lists_and_invokes_nothing(
    failed: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    handler, source = failed["handler"], str(failed["on_failure"])
    handler.events = 0
    summary = redrive(
        handler,
        source=source,
        streams_client=failed["streams"],
        dry_run=True,
        json_log=True,
        handle_signals=False,
    )
    assert handler.events == 0
    assert (summary.batches_listed, summary.records_found, summary.exit_code) == (2, 4, 0)
    assert not Path(source + ".state.json").exists()
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    items = [event for event in events if event["event"] == "item"]
    assert [(item["status"], item["recordsFound"], item["batchSize"]) for item in items] == [
        ("listed", 2, 2),
        ("listed", 2, 2),
    ]
    assert all(item["ageSeconds"] is not None and not item["acknowledged"] for item in items)
    assert events[0]["event"] == "redrive_start"
    assert events[-1]["event"] == "summary"


def test_a_stop_midway_loses_nothing_and_repeats_at_most_the_batch_in_flight(
    failed: dict[str, Any],
) -> None:
    handler, source = failed["handler"], str(failed["on_failure"])
    stop = threading.Event()
    delivered: list[str] = []

    def stops_during_the_first_batch(event: dict[str, Any], context: Any) -> Any:
        delivered.extend(keys_of(event))
        stop.set()  # as a SIGTERM would: the batch in flight completes, then it stops
        return None

    first = redrive(
        stops_during_the_first_batch,
        source=source,
        streams_client=failed["streams"],
        stop_event=stop,
        **QUIET,
    )
    assert first.reason == "stopped"
    assert (first.batches, first.batches_redriven) == (1, 1)
    handler.fixed = True
    handler.delivered.clear()
    second = redrive(handler, source=source, streams_client=failed["streams"], **QUIET)
    assert delivered + handler.delivered == ["K1", "K2", "K5", "K6"]
    assert second.batches_redriven == 1


def test_a_router_redrives_only_what_its_filters_keep(
    aws_settings: dict[str, Any], tmp_path: Path
) -> None:
    dynamodb = boto3.client("dynamodb", **aws_settings)
    table = f"redrive-{uuid.uuid4().hex[:10]}"
    testing.create_table(dynamodb, table)
    for key in ["ORDER#1", "NOTE#1", "ORDER#2"]:
        dynamodb.put_item(TableName=table, Item={"PK": {"S": key}, "SK": {"S": "A"}})
    router = Router()
    seen: list[str] = []
    broken = [True]

    @router.on(Filter.insert().key("PK", prefix("ORDER#")))
    def order(record: StreamRecord) -> None:
        if broken[0]:
            raise ValueError("not yet")
        seen.append(record.keys["PK"])

    on_failure = tmp_path / "failed.jsonl"
    streams = boto3.client("dynamodbstreams", **aws_settings)
    clients: dict[str, Any] = {"streams_client": streams}
    run(router, table=table, max_retries=0, on_failure=str(on_failure), until_idle=0.5,
        dynamodb_client=dynamodb, **clients, **QUIET)  # fmt: skip
    [line] = on_failure.read_text().splitlines()
    assert json.loads(line)["DDBStreamBatchInfo"]["batchSize"] == 2  # NOTE#1 was filtered
    broken[0] = False
    summary = redrive(router, source=str(on_failure), **clients, **QUIET)
    assert seen == ["ORDER#1", "ORDER#2"]
    assert (summary.records_found, summary.batches_redriven) == (2, 1)
    # Without the filters the range holds three records, not the batch of two: refused.
    Path(str(on_failure) + ".state.json").unlink()
    mismatch = redrive(router, source=str(on_failure), no_filter=True, **clients, **QUIET)
    assert (mismatch.batches_mismatched, mismatch.invocations, mismatch.exit_code) == (1, 0, 1)


def _queue(aws_settings: dict[str, Any]) -> tuple[Any, str]:
    sqs = boto3.client("sqs", **aws_settings)
    url = sqs.create_queue(QueueName=f"failures-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    return sqs, url


def _messages(sqs: Any, url: str) -> list[str]:
    """How many messages the queue holds: [visible, hidden]."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return [attributes[name] for name in names]


def test_an_sqs_queue_raw_or_sns_enveloped_is_redriven_and_deleted(
    failed: dict[str, Any], aws_settings: dict[str, Any]
) -> None:
    sqs, url = _queue(aws_settings)
    first, second = failed["on_failure"].read_text().splitlines()
    sqs.send_message(QueueUrl=url, MessageBody=first)  # raw, as Lambda writes it
    envelope = {"Type": "Notification", "MessageId": str(uuid.uuid4()), "Message": second}
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(envelope))  # through SNS
    sqs.send_message(QueueUrl=url, MessageBody='{"not": "an on-failure record"}')
    handler = failed["handler"]
    handler.fixed = True
    handler.delivered.clear()
    summary = redrive(
        handler, source=url, streams_client=failed["streams"], sqs_client=sqs, **QUIET
    )
    assert handler.delivered == ["K1", "K2", "K5", "K6"]
    assert (summary.batches, summary.batches_redriven, summary.malformed) == (3, 2, 1)
    assert summary.exit_code == 1
    assert _messages(sqs, url) == ["1", "0"]  # the malformed one, visible again
    # Again: only the malformed message, still reported, still there.
    again = redrive(handler, source=url, streams_client=failed["streams"], sqs_client=sqs, **QUIET)
    assert (again.batches, again.malformed, again.invocations) == (1, 1, 0)
    assert _messages(sqs, url) == ["1", "0"]


def test_a_dry_run_on_a_queue_leaves_every_message(
    failed: dict[str, Any], aws_settings: dict[str, Any]
) -> None:
    sqs, url = _queue(aws_settings)
    for line in failed["on_failure"].read_text().splitlines():
        sqs.send_message(QueueUrl=url, MessageBody=line)
    summary = redrive(
        failed["handler"],
        source=url,
        streams_client=failed["streams"],
        sqs_client=sqs,
        dry_run=True,
        **QUIET,
    )
    assert (summary.batches_listed, summary.invocations) == (2, 0)
    assert _messages(sqs, url) == ["2", "0"]


def test_no_such_queue_is_an_error_naming_it(
    failed: dict[str, Any], aws_settings: dict[str, Any]
) -> None:
    from streamflow.errors import RunnerError

    sqs = boto3.client("sqs", **aws_settings)
    url = aws_settings["endpoint_url"] + "/123456789012/no-such-queue"
    with pytest.raises(RunnerError, match="no-such-queue"):
        redrive(failed["handler"], source=url, streams_client=failed["streams"], sqs_client=sqs,
                **QUIET)  # fmt: skip


def test_the_command_redrives_and_exits_as_documented(
    failed: dict[str, Any],
    aws_settings: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from streamflow.cli import main

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "fixed_app.py").write_text(
        "seen = []\n\ndef handler(event, context):\n"
        "    seen.extend(r['dynamodb']['Keys']['PK']['S'] for r in event['Records'])\n"
    )
    common = [
        "--source", str(failed["on_failure"]), "--endpoint-url", aws_settings["endpoint_url"],
        "--region", "us-east-1", "--json-log",
    ]  # fmt: skip
    assert main(["redrive", "fixed_app:handler", *common]) == 0
    import fixed_app  # type: ignore[import-not-found]

    assert fixed_app.seen == ["K1", "K2", "K5", "K6"]
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert events[-1]["event"] == "summary"
    assert events[-1]["batchesRedriven"] == 2
    assert events[-1]["exitCode"] == 0
    assert main(["redrive", "fixed_app:handler", *common, "--batch-size", "0"]) == 2
    error = json.loads(capsys.readouterr().err)
    assert error == {"time": error["time"], "event": "error", "message": error["message"]}
    assert error["message"] == "--batch-size: must be 1 to 10000, got 0"
    assert main(["redrive", "fixed_app:handler", "--source", str(tmp_path / "none.jsonl")]) == 2
    assert "streamflow redrive: error: --source: " in capsys.readouterr().err


def test_the_summary_is_public_and_counts_trouble_as_exit_1() -> None:
    assert RedriveSummary.__module__ == "streamflow.runner"
