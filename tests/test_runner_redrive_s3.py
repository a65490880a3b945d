"""``streamflow redrive`` from an S3 on-failure destination, end to end on moto's server
(DynamoDB, Streams and S3 on 127.0.0.1, nothing mocked): each object holds an on-failure
record with the batch's invocation event in ``payload``, as Lambda writes it; the records
are taken from the payload (no stream read, so trimmed records are not lost), checked
against ``DDBStreamBatchInfo``, delivered, and the object tagged done."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from streamflow.errors import RunnerError
from streamflow.runner import redrive
from tests.redrive_support import QUIET, discarded


@pytest.fixture
def failed(aws_settings: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """Batches [K1, K2] and [K5, K6] discarded by ``run``, written to a bucket as Lambda's
    S3 destination writes them: the on-failure record with the invocation event in
    ``payload``, one object per batch under ``aws/lambda/<mapping>/<shard>/...``."""
    events: list[dict[str, Any]] = []
    made = discarded(aws_settings, tmp_path, events=events)
    handler, on_failure, streams = made["handler"], made["on_failure"], made["streams"]
    s3 = boto3.client("s3", **aws_settings)
    bucket = f"failures-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    keys = []
    for number, line in enumerate(on_failure.read_text().splitlines()):
        document = json.loads(line)
        start = document["DDBStreamBatchInfo"]["startSequenceNumber"]
        [event] = [
            each for each in events if each["Records"][0]["dynamodb"]["SequenceNumber"] == start
        ]
        document["payload"] = json.dumps(event)  # the whole event, as JSON text
        shard = document["DDBStreamBatchInfo"]["shardId"]
        key = f"aws/lambda/mapping-1/{shard}/2025/01/01/2025-01-01T12.00.0{number}-x"
        s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(document).encode())
        keys.append(key)
    return {"handler": handler, "streams": streams, "s3": s3, "bucket": bucket, "keys": keys}


def _tags(s3: Any, bucket: str, key: str) -> dict[str, str]:
    tags = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
    return {tag["Key"]: tag["Value"] for tag in tags}


def test_a_prefix_is_redriven_from_the_payloads_and_tagged_done(
    failed: dict[str, Any],
) -> None:
    handler, s3, bucket = failed["handler"], failed["s3"], failed["bucket"]
    s3.put_object_tagging(Bucket=bucket, Key=failed["keys"][0],
                          Tagging={"TagSet": [{"Key": "team", "Value": "orders"}]})  # fmt: skip
    handler.fixed = True
    handler.delivered.clear()
    source = f"s3://{bucket}/aws/lambda/"
    clients = {"streams_client": failed["streams"], "s3_client": s3}
    summary = redrive(handler, source=source, **clients, **QUIET)
    assert handler.delivered == ["K1", "K2", "K5", "K6"]
    assert (summary.batches, summary.batches_redriven, summary.exit_code) == (2, 2, 0)
    assert _tags(s3, bucket, failed["keys"][0]) == {"team": "orders", "streamflow-redriven": "true"}
    assert _tags(s3, bucket, failed["keys"][1]) == {"streamflow-redriven": "true"}
    again = redrive(handler, source=source, **clients, **QUIET)
    assert (again.batches, again.invocations, again.exit_code) == (0, 0, 0)


def test_one_object_and_a_batch_that_fails_again_stays_untagged(
    failed: dict[str, Any],
) -> None:
    handler, s3, bucket = failed["handler"], failed["s3"], failed["bucket"]
    handler.poisoned = {"K6"}
    handler.delivered.clear()
    clients = {"streams_client": failed["streams"], "s3_client": s3}
    first, second = (f"s3://{bucket}/{key}" for key in failed["keys"])
    assert redrive(handler, source=first, **clients, **QUIET).exit_code == 0
    summary = redrive(handler, source=second, max_retries=1, **clients, **QUIET)
    assert (summary.batches_failed, summary.exit_code) == (1, 1)
    assert handler.delivered == ["K1", "K2"]
    assert _tags(s3, bucket, failed["keys"][1]) == {}
    handler.fixed = True
    summary = redrive(handler, source=f"s3://{bucket}/", **clients, **QUIET)
    assert (summary.batches, summary.batches_redriven) == (1, 1)
    assert handler.delivered == ["K1", "K2", "K5", "K6"]


def test_the_payload_is_used_even_when_the_stream_is_gone(
    failed: dict[str, Any], aws_settings: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """No stream read: a record naming a stream that does not exist here is still redriven
    from its payload, and a dry run lists it without invoking anything."""
    handler, s3, bucket = failed["handler"], failed["s3"], failed["bucket"]
    gone = "arn:aws:dynamodb:us-east-1:123456789012:table/gone/stream/2025-01-01T00:00:00.000"
    body = s3.get_object(Bucket=bucket, Key=failed["keys"][0])["Body"].read()
    document = json.loads(body)
    event = json.loads(document["payload"])
    for record in event["Records"]:
        record["eventSourceARN"] = gone
    document["DDBStreamBatchInfo"]["streamArn"] = gone
    document["payload"] = event  # as a JSON object this time
    s3.put_object(Bucket=bucket, Key="other/one", Body=json.dumps(document).encode())
    clients = {"streams_client": failed["streams"], "s3_client": s3}
    handler.events = 0
    listed = redrive(handler, source=f"s3://{bucket}/other/", dry_run=True, json_log=True,
                     handle_signals=False, **clients)  # fmt: skip
    assert handler.events == 0
    assert (listed.batches_listed, listed.records_found, listed.exit_code) == (1, 2, 0)
    items = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    [item] = [each for each in items if each["event"] == "item"]
    assert (item["status"], item["recordsFound"], item["acknowledged"]) == ("listed", 2, False)
    assert _tags(s3, bucket, "other/one") == {}
    handler.fixed = True
    handler.delivered.clear()
    summary = redrive(handler, source=f"s3://{bucket}/other/one", **clients, **QUIET)
    assert (summary.batches_redriven, summary.exit_code) == (1, 0)
    assert handler.delivered == ["K1", "K2"]


def test_a_payload_that_is_not_the_batch_is_a_mismatch_and_bad_ones_malformed(
    failed: dict[str, Any],
) -> None:
    handler, s3, bucket = failed["handler"], failed["s3"], failed["bucket"]
    document = json.loads(s3.get_object(Bucket=bucket, Key=failed["keys"][0])["Body"].read())
    event = json.loads(document["payload"])
    short = {**document, "payload": json.dumps({"Records": event["Records"][:1]})}
    broken = {**document, "payload": "{not json"}
    for key, body in [("bad/1", short), ("bad/2", broken), ("bad/3", {"payload": "x"})]:
        s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(body).encode())
    s3.put_object(Bucket=bucket, Key="bad/4", Body=b"\xff\xfe")
    handler.fixed = True
    handler.events = 0
    clients = {"streams_client": failed["streams"], "s3_client": s3}
    summary = redrive(handler, source=f"s3://{bucket}/bad/", **clients, **QUIET)
    assert handler.events == 0
    assert (summary.batches, summary.batches_mismatched, summary.malformed) == (4, 1, 3)
    assert summary.exit_code == 1
    assert all(_tags(s3, bucket, f"bad/{n}") == {} for n in range(1, 5))


def test_no_such_bucket_or_key_is_an_error_naming_it(failed: dict[str, Any]) -> None:
    clients = {"streams_client": failed["streams"], "s3_client": failed["s3"]}
    with pytest.raises(RunnerError, match="no-such-bucket"):
        redrive(failed["handler"], source="s3://no-such-bucket-x1/", **clients, **QUIET)
    with pytest.raises(RunnerError, match="nothing-here"):
        redrive(failed["handler"], source=f"s3://{failed['bucket']}/nothing-here",
                **clients, **QUIET)  # fmt: skip


def test_the_command_reads_an_s3_prefix(
    failed: dict[str, Any],
    aws_settings: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from streamflow.cli import main

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "s3_fixed_app.py").write_text("def handler(event, context):\n    return None\n")
    code = main(["redrive", "s3_fixed_app:handler", "--source",
                 f"s3://{failed['bucket']}/aws/", "--endpoint-url", aws_settings["endpoint_url"],
                 "--region", "us-east-1", "--quiet"])  # fmt: skip
    assert code == 0
    assert all(_tags(failed["s3"], failed["bucket"], key) for key in failed["keys"])


def test_objects_lambda_wrote_within_one_second_come_in_stream_order(
    failed: dict[str, Any],
) -> None:
    handler, s3, bucket = failed["handler"], failed["s3"], failed["bucket"]
    documents = [s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in failed["keys"]]
    shard = json.loads(documents[0])["DDBStreamBatchInfo"]["shardId"]
    second = f"other/aws/lambda/{uuid.uuid4()}/{shard}/2025/01/01/2025-01-01T12.00.00"
    # Lambda's last UUID is random: here the later batch's key sorts first.
    keys = [f"{second}-{uuid.UUID(lead * 8 + uuid.uuid4().hex[8:])}" for lead in "f0"]
    for key, document in zip(keys, documents, strict=True):
        s3.put_object(Bucket=bucket, Key=key, Body=document)
    assert sorted(keys) == keys[::-1]
    handler.fixed = True
    handler.delivered.clear()
    summary = redrive(handler, source=f"s3://{bucket}/other/", streams_client=failed["streams"],
                      s3_client=s3, **QUIET)  # fmt: skip
    assert handler.delivered == ["K1", "K2", "K5", "K6"]
    assert (summary.batches_redriven, summary.exit_code) == (2, 0)


@pytest.mark.parametrize("form", ["prefix without its slash", "bucket ARN"])
def test_a_source_in_the_forms_run_writes_to(failed: dict[str, Any], form: str) -> None:
    handler, s3, bucket = failed["handler"], failed["s3"], failed["bucket"]
    handler.fixed = True
    handler.delivered.clear()
    source = f"arn:aws:s3:::{bucket}" if form == "bucket ARN" else f"s3://{bucket}/aws/lambda"
    summary = redrive(handler, source=source, streams_client=failed["streams"], s3_client=s3,
                      **QUIET)  # fmt: skip
    assert handler.delivered == ["K1", "K2", "K5", "K6"]
    assert (summary.batches_redriven, summary.exit_code) == (2, 0)


def test_a_key_that_is_neither_an_object_nor_a_prefix_is_an_error(
    failed: dict[str, Any],
) -> None:
    source = f"s3://{failed['bucket']}/aws/lamb"
    with pytest.raises(RunnerError, match="no such object, and no object under s3://"):
        redrive(failed["handler"], source=source, streams_client=failed["streams"],
                s3_client=failed["s3"], **QUIET)  # fmt: skip
