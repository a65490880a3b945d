"""``streamflow run --on-failure`` to Lambda's destinations, end to end on moto's server
(DynamoDB, Streams, SQS, SNS and S3 on 127.0.0.1, nothing patched or mocked): a handler fails
batches until retries run out; each discarded batch's on-failure record is sent to an SQS
queue (URL or ARN), an SNS topic (raw or enveloped into a queue) or an S3 bucket (with the
batch's event in ``payload``), as Lambda sends it; the handler is fixed; ``redrive`` from
that destination delivers exactly the discarded records, in order, and acknowledges them;
run again, it has nothing to do. A destination that cannot be written stops the run (exit 2)
without checkpointing past the batch, so a later run still sends its record."""

from __future__ import annotations

import calendar
import json
import re
import socket
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Literal

import boto3
import pytest

from streamflow import testing
from streamflow.errors import RunnerConfigError, RunnerError
from streamflow.runner import RunSummary, redrive, run
from streamflow.runner._config import RunnerConfig
from streamflow.runner._destination import handler_name, mapping_uuid
from tests.redrive_support import QUIET, Flaky, keys_of

DISCARDED = ["K1", "K2", "K5", "K6"]
"""What a run discards of K1..K7 in batches of 2 with K2 and K6 poisoned."""

RECORD_FIELDS = ["requestContext", "responseContext", "version", "timestamp", "DDBStreamBatchInfo"]


@pytest.fixture
def table(aws_settings: dict[str, Any]) -> dict[str, Any]:
    """A table holding K1..K7 (one shard: read in that order), with its clients."""
    dynamodb = boto3.client("dynamodb", **aws_settings)
    name = f"destinations-{uuid.uuid4().hex[:10]}"
    testing.create_table(dynamodb, name)
    for i in range(1, 8):
        dynamodb.put_item(TableName=name, Item={"PK": {"S": f"K{i}"}, "SK": {"S": "A"}})
    streams = boto3.client("dynamodbstreams", **aws_settings)
    return {"name": name, "clients": {"streams_client": streams, "dynamodb_client": dynamodb}}


def _discarding(handler: Any, table: dict[str, Any], **options: Any) -> RunSummary:
    """``run`` on ``table`` in batches of 2, one retry, until idle."""
    return run(
        handler,
        table=table["name"],
        batch_size=2,
        max_retries=1,
        until_idle=0.5,
        **table["clients"],
        **{**QUIET, **options},
    )


def _queue(aws_settings: dict[str, Any]) -> tuple[Any, str, str]:
    """A new queue: its client, URL and ARN."""
    sqs = boto3.client("sqs", **aws_settings)
    url = sqs.create_queue(QueueName=f"failures-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return sqs, url, attributes["Attributes"]["QueueArn"]


def _bodies(sqs: Any, url: str) -> list[str]:
    """The bodies of the queue's messages, left visible (for the redrive after)."""
    response = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0
    )
    return [message["Body"] for message in response.get("Messages") or []]


def _counts(sqs: Any, url: str) -> list[str]:
    """How many messages the queue holds: [visible, hidden]."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return [attributes[name] for name in names]


def _shape(value: Any) -> Any:
    """A JSON document's keys, nested, with each leaf value's type."""
    if isinstance(value, dict):
        return {key: _shape(each) for key, each in value.items()}
    return type(value).__name__


def _assert_lambdas_record(
    document: dict[str, Any], keys: list[str], starts: dict[str, str]
) -> None:
    """``document`` is the on-failure record Lambda writes for the discarded batch of
    ``keys`` (their sequence numbers in ``starts``), after two failed invocations."""
    assert list(document) == RECORD_FIELDS
    assert document["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert document["requestContext"]["approximateInvokeCount"] == 2
    assert document["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    info = document["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        starts[keys[0]],
        starts[keys[-1]],
        len(keys),
    )


def _sequence_numbers(table: dict[str, Any]) -> dict[str, str]:
    """Each key's sequence number in the table's stream."""
    streams = table["clients"]["streams_client"]
    [stream] = streams.list_streams(TableName=table["name"])["Streams"]
    shards = streams.describe_stream(StreamArn=stream["StreamArn"])["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=stream["StreamArn"],
        ShardId=shards[0]["ShardId"],
        ShardIteratorType="TRIM_HORIZON",
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    return {r["dynamodb"]["Keys"]["PK"]["S"]: r["dynamodb"]["SequenceNumber"] for r in records}


# --- SQS -------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["url", "arn"])
def test_an_sqs_destination_is_written_as_lambda_writes_it_and_redriven_once(
    form: str,
    table: dict[str, Any],
    aws_settings: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sqs, url, arn = _queue(aws_settings)
    handler = Flaky("K2", "K6")
    if form == "url":
        summary = _discarding(handler, table, on_failure=url, sqs_client=sqs)
    else:  # no client given: made from the run's endpoint, the ARN's Region, the environment
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        summary = _discarding(
            handler, table, on_failure=arn, endpoint_url=aws_settings["endpoint_url"]
        )
    assert (summary.records_discarded, summary.exit_code) == (4, 1)
    assert handler.delivered == ["K3", "K4", "K7"]
    bodies = _bodies(sqs, url)
    starts = _sequence_numbers(table)
    documents = [json.loads(body) for body in bodies]
    assert bodies == [json.dumps(each, separators=(",", ":")) for each in documents]
    _assert_lambdas_record(documents[0], ["K1", "K2"], starts)
    _assert_lambdas_record(documents[1], ["K5", "K6"], starts)
    # Field for field what the file form holds for the same batches.
    on_failure = tmp_path / "failed.jsonl"
    _discarding(Flaky("K2", "K6"), table, on_failure=str(on_failure))
    lines = [json.loads(line) for line in on_failure.read_text().splitlines()]
    assert [_shape(each) for each in documents] == [_shape(each) for each in lines]
    assert [each["DDBStreamBatchInfo"] for each in documents] == [
        each["DDBStreamBatchInfo"] for each in lines
    ]
    # Fixed: the redrive delivers exactly the discarded records, in order, and deletes.
    handler.fixed = True
    handler.delivered.clear()
    clients = {"streams_client": table["clients"]["streams_client"], "sqs_client": sqs}
    redriven = redrive(handler, source=url, **clients, **QUIET)
    assert handler.delivered == DISCARDED
    assert (redriven.batches, redriven.batches_redriven, redriven.exit_code) == (2, 2, 0)
    assert _counts(sqs, url) == ["0", "0"]
    again = redrive(handler, source=url, **clients, **QUIET)
    assert (again.batches, again.invocations, again.exit_code) == (0, 0, 0)
    assert handler.delivered == DISCARDED


def test_a_redrive_sends_the_batches_that_fail_again_to_its_own_destination(
    table: dict[str, Any], aws_settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    sqs, source, _ = _queue(aws_settings)
    _, again, again_arn = _queue(aws_settings)
    handler = Flaky("K2", "K6")
    _discarding(handler, table, on_failure=source, sqs_client=sqs)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")  # its client is made from its options
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    handler.delivered.clear()
    summary = redrive(handler, source=source, on_failure=again_arn, max_retries=0,
                      endpoint_url=aws_settings["endpoint_url"], region="us-east-1",
                      streams_client=table["clients"]["streams_client"], sqs_client=sqs,
                      **QUIET)  # fmt: skip
    assert (summary.batches_failed, summary.exit_code) == (2, 1)
    assert handler.delivered == []
    starts = _sequence_numbers(table)
    first, second = (json.loads(body) for body in _bodies(sqs, again))
    assert first["requestContext"]["approximateInvokeCount"] == 1
    assert first["DDBStreamBatchInfo"]["startSequenceNumber"] == starts["K1"]
    assert second["DDBStreamBatchInfo"]["startSequenceNumber"] == starts["K5"]
    assert _counts(sqs, source) == ["2", "0"]  # both still in the source


# --- SNS -------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [True, False], ids=["raw", "enveloped"])
def test_an_sns_destination_reaches_a_subscribed_queue_and_is_redriven_from_it(
    raw: bool, table: dict[str, Any], aws_settings: dict[str, Any]
) -> None:
    sqs, url, queue_arn = _queue(aws_settings)
    sns = boto3.client("sns", **aws_settings)
    topic = sns.create_topic(Name=f"failures-{uuid.uuid4().hex[:10]}")["TopicArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true" if raw else "false"},
    )
    handler = Flaky("K2", "K6")
    summary = _discarding(handler, table, on_failure=topic, sns_client=sns)
    assert (summary.records_discarded, summary.exit_code) == (4, 1)
    bodies = _bodies(sqs, url)
    if raw:
        messages = bodies
    else:  # SNS's envelope, the record as its Message
        envelopes = [json.loads(body) for body in bodies]
        assert [(each["Type"], each["TopicArn"]) for each in envelopes] == [
            ("Notification", topic)
        ] * 2
        messages = [each["Message"] for each in envelopes]
    starts = _sequence_numbers(table)
    documents = [json.loads(message) for message in messages]
    assert messages == [json.dumps(each, separators=(",", ":")) for each in documents]
    _assert_lambdas_record(documents[0], ["K1", "K2"], starts)
    _assert_lambdas_record(documents[1], ["K5", "K6"], starts)
    handler.fixed = True
    handler.delivered.clear()
    clients = {"streams_client": table["clients"]["streams_client"], "sqs_client": sqs}
    redriven = redrive(handler, source=url, **clients, **QUIET)
    assert handler.delivered == DISCARDED
    assert (redriven.batches_redriven, redriven.exit_code) == (2, 0)
    assert _counts(sqs, url) == ["0", "0"]
    assert redrive(handler, source=url, **clients, **QUIET).batches == 0


# --- S3 --------------------------------------------------------------------------------------

_KEY = re.compile(
    r"(?P<prefix>.*)aws/lambda/(?P<mapping>[0-9a-f-]{36})/(?P<shard>[^/]+)/"
    r"(?P<day>\d{4}/\d{2}/\d{2})/(?P<time>\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2})-"
    r"(?P<random>[0-9a-f-]{36})"
)


def test_an_s3_destination_holds_the_record_and_the_event_under_lambdas_key(
    table: dict[str, Any], aws_settings: dict[str, Any]
) -> None:
    s3 = boto3.client("s3", **aws_settings)
    bucket = f"failures-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    events: list[dict[str, Any]] = []
    handler = Flaky("K2", "K6")

    def recording(event: dict[str, Any], context: Any) -> Any:
        events.append(json.loads(json.dumps(event)))
        return handler(event, context)

    summary = _discarding(recording, table, on_failure=f"s3://{bucket}/failures", s3_client=s3)
    assert (summary.records_discarded, summary.exit_code) == (4, 1)
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    keys = sorted(entry["Key"] for entry in listed)
    assert len(keys) == 2
    starts = _sequence_numbers(table)
    documents = []
    for key in keys:
        document = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        documents.append(document)
        assert list(document) == [*RECORD_FIELDS, "payload"]
        info = document["DDBStreamBatchInfo"]
        named = _KEY.fullmatch(key)
        assert named is not None, key
        assert named["prefix"] == "failures/"
        assert named["mapping"] == mapping_uuid(info["streamArn"], handler_name(recording))
        assert named["shard"] == info["shardId"]
        assert named["day"] == named["time"][:10].replace("-", "/")
        written = calendar.timegm(time.strptime(named["time"], "%Y-%m-%dT%H.%M.%S"))
        stamped = calendar.timegm(time.strptime(document["timestamp"][:19], "%Y-%m-%dT%H:%M:%S"))
        assert abs(written - stamped) <= 2
        # The payload: the event the handler was invoked with for that batch, as JSON text.
        assert isinstance(document["payload"], str)
        invoked = [
            each
            for each in events
            if each["Records"][0]["dynamodb"]["SequenceNumber"] == info["startSequenceNumber"]
        ]
        assert len(invoked) == 2  # tried twice, the same event
        assert json.loads(document["payload"]) == invoked[-1]
    by_start = sorted(
        documents, key=lambda each: int(each["DDBStreamBatchInfo"]["startSequenceNumber"])
    )
    records = [{key: each[key] for key in RECORD_FIELDS} for each in by_start]
    _assert_lambdas_record(records[0], ["K1", "K2"], starts)
    _assert_lambdas_record(records[1], ["K5", "K6"], starts)
    assert [keys_of(json.loads(each["payload"])) for each in by_start] == [
        ["K1", "K2"],
        ["K5", "K6"],
    ]
    # The bucket's ARN, the same stream and handler: the same mapping UUID, no prefix.
    _discarding(recording, table, on_failure=f"arn:aws:s3:::{bucket}", s3_client=s3)
    more = sorted(entry["Key"] for entry in s3.list_objects_v2(Bucket=bucket)["Contents"])
    plain = [key for key in more if key.startswith("aws/lambda/")]
    assert len(plain) == 2
    mappings = {match["mapping"] for match in map(_KEY.fullmatch, more) if match is not None}
    assert len(mappings) == 1
    # Fixed: the redrive of the prefix takes the records from the payloads.
    handler.fixed = True
    handler.delivered.clear()
    clients = {"streams_client": table["clients"]["streams_client"], "s3_client": s3}
    source = f"s3://{bucket}/failures/"
    redriven = redrive(handler, source=source, **clients, **QUIET)
    assert handler.delivered == DISCARDED
    assert (redriven.batches, redriven.batches_redriven, redriven.exit_code) == (2, 2, 0)
    again = redrive(handler, source=source, **clients, **QUIET)
    assert (again.batches, again.invocations) == (0, 0)


# --- the command line ------------------------------------------------------------------------


def _module(tmp_path: Path, source: str) -> str:
    name = f"destination_app_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    return name


@pytest.fixture
def command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Credentials in the environment, and ``tmp_path`` importable: for ``streamflow``."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


KEYS = "[r['dynamodb']['Keys']['PK']['S'] for r in event['Records']]"


def test_the_command_sends_to_a_queue_and_redrives_from_it(
    command: Path,
    table: dict[str, Any],
    aws_settings: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from streamflow.cli import main

    sqs, url, _ = _queue(aws_settings)
    broken = _module(
        command,
        f"""
        def handler(event, context):
            if "K2" in {KEYS}:
                raise ValueError("poison")
        """,
    )
    fixed = _module(
        command,
        f"""
        seen = []

        def handler(event, context):
            seen.extend({KEYS})
        """,
    )
    where = ["--endpoint-url", aws_settings["endpoint_url"], "--region", "us-east-1"]
    code = main(["run", f"{broken}:handler", "--table", table["name"], *where,
                 "--batch-size", "2", "--max-retries", "1", "--on-failure", url,
                 "--until-idle", "0.5", "--json-log"])  # fmt: skip
    assert code == 1
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    [discarded] = [event for event in events if event["event"] == "discarded"]
    assert (discarded["records"], discarded["onFailure"]) == (2, url)
    assert events[0]["options"]["onFailure"] == url
    [body] = _bodies(sqs, url)
    _assert_lambdas_record(json.loads(body), ["K1", "K2"], _sequence_numbers(table))
    code = main(["redrive", f"{fixed}:handler", "--source", url, *where, "--quiet"])
    assert code == 0
    assert sys.modules[fixed].seen == ["K1", "K2"]
    assert _counts(sqs, url) == ["0", "0"]


# --- a destination that cannot be written ----------------------------------------------------


def test_a_destination_gone_at_the_discard_stops_the_run_and_loses_nothing(
    table: dict[str, Any], aws_settings: dict[str, Any], tmp_path: Path
) -> None:
    checkpoint = str(tmp_path / "checkpoint.json")
    sqs, missing, _ = _queue(aws_settings)
    flaky = Flaky("K2", "K6")

    def handler(event: dict[str, Any], context: Any) -> Any:
        if flaky.events == 0:  # the queue is deleted once the run has started
            sqs.delete_queue(QueueUrl=missing)
        return flaky(event, context)

    with pytest.raises(RunnerError) as caught:
        _discarding(handler, table, on_failure=missing, sqs_client=sqs, checkpoint=checkpoint)
    handler = flaky
    assert missing in str(caught.value)
    assert "SendMessage" in caught.value.reason
    assert caught.value.code is not None
    assert handler.events == 2  # the first batch, tried twice: then the run stopped
    assert handler.delivered == []
    # Nothing was checkpointed past the batch: the next run, to a queue that exists, sends
    # its record, then goes on.
    _, url, _ = _queue(aws_settings)
    summary = _discarding(handler, table, on_failure=url, sqs_client=sqs, checkpoint=checkpoint)
    assert (summary.records_discarded, summary.exit_code) == (4, 1)
    assert handler.delivered == ["K3", "K4", "K7"]
    starts = _sequence_numbers(table)
    first, second = (json.loads(body) for body in _bodies(sqs, url))
    _assert_lambdas_record(first, ["K1", "K2"], starts)
    _assert_lambdas_record(second, ["K5", "K6"], starts)


@pytest.mark.parametrize("form", ["queue-arn", "queue-url", "topic", "bucket"])
def test_each_missing_destination_is_an_error_naming_it(
    form: str, table: dict[str, Any], aws_settings: dict[str, Any]
) -> None:
    name = f"no-such-{uuid.uuid4().hex[:8]}"
    forms: dict[str, tuple[str, dict[str, Literal["sqs", "sns", "s3"]]]] = {
        "queue-arn": (f"arn:aws:sqs:us-east-1:123456789012:{name}", {"sqs_client": "sqs"}),
        "queue-url": (
            f"{aws_settings['endpoint_url']}/123456789012/{name}",
            {"sqs_client": "sqs"},
        ),
        "topic": (f"arn:aws:sns:us-east-1:123456789012:{name}", {"sns_client": "sns"}),
        "bucket": (f"s3://{name}/failures", {"s3_client": "s3"}),
    }
    target, clients = forms[form]
    made = {option: boto3.client(service, **aws_settings) for option, service in clients.items()}
    handler = Flaky("K2", "K6")
    with pytest.raises(RunnerError, match=re.escape(target)) as caught:
        _discarding(handler, table, on_failure=target, **made)
    assert "cannot be reached" in caught.value.reason
    assert handler.events == 0  # found missing before any record was read
    assert handler.delivered == []


def test_the_command_exits_2_naming_a_missing_destination(
    command: Path,
    table: dict[str, Any],
    aws_settings: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from streamflow.cli import main

    topic = f"arn:aws:sns:us-east-1:123456789012:no-such-{uuid.uuid4().hex[:8]}"
    module = _module(command, "def handler(event, context):\n    raise ValueError('poison')\n")
    code = main(["run", f"{module}:handler", "--table", table["name"], "--endpoint-url",
                 aws_settings["endpoint_url"], "--region", "us-east-1", "--max-retries", "0",
                 "--on-failure", topic, "--until-idle", "0.5", "--json-log"])  # fmt: skip
    assert code == 2
    error = json.loads(capsys.readouterr().err.splitlines()[-1])
    assert error["event"] == "error"
    assert topic in error["message"]
    assert "cannot be reached (GetTopicAttributes)" in error["message"]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SendsTo:
    """An SQS client whose SendMessage goes to another client (one whose endpoint refuses
    connections): every other call is the real one's."""

    def __init__(self, real: Any, sends: Any) -> None:
        self.real = real
        self.sends = sends

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sends if name == "send_message" else self.real, name)


def test_a_transient_error_is_retried_until_the_run_stops_and_the_batch_stays(
    table: dict[str, Any],
    aws_settings: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An endpoint that refuses connections (a transient error) is tried again with backoff,
    each try reported; a stop ends the run without checkpointing past the batch."""
    from botocore.config import Config

    checkpoint = str(tmp_path / "checkpoint.json")
    refusing = boto3.client(
        "sqs",
        **{**aws_settings, "endpoint_url": f"http://127.0.0.1:{_closed_port()}"},
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=1),
    )
    sqs, url, _ = _queue(aws_settings)
    sends_refused = SendsTo(sqs, refusing)  # the queue is found at start; its sends fail
    handler = Flaky("K2", "K6")
    stop = threading.Event()
    timer = threading.Timer(2.0, stop.set)
    timer.start()
    try:
        summary = run(handler, table=table["name"], batch_size=2, max_retries=1,
                      on_failure=url, sqs_client=sends_refused,
                      checkpoint=checkpoint, stop_event=stop, json_log=True, handle_signals=False,
                      **table["clients"])  # fmt: skip
    finally:
        timer.cancel()
    assert summary.reason == "stopped"
    assert (summary.records_discarded, summary.exit_code) == (0, 0)
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    retried = [event for event in events if event["event"] == "throttled"]
    assert len(retried) >= 2
    assert summary.throttled == len(retried)
    assert {event["operation"] for event in retried} == {"SendMessage"}
    assert all(event["shardId"] for event in retried)
    assert handler.delivered == []
    # The batch was not checkpointed past: the next run sends its record.
    summary = _discarding(handler, table, on_failure=url, sqs_client=sqs, checkpoint=checkpoint)
    assert summary.records_discarded == 4
    assert handler.delivered == ["K3", "K4", "K7"]
    assert len(_bodies(sqs, url)) == 2


# --- values refused at config time -----------------------------------------------------------

GOOD = [
    "failed.jsonl",
    "https://sqs.us-east-1.amazonaws.com/123456789012/failures",
    "http://127.0.0.1:5000/123456789012/failures",
    "arn:aws:sqs:us-east-1:123456789012:failures",
    "arn:aws:sns:eu-west-1:123456789012:failures",
    "arn:aws-cn:sns:cn-north-1:123456789012:failures",
    "arn:aws:s3:::failures-bucket",
    "s3://failures-bucket",
    "s3://failures-bucket/orders/",
]

BAD = {
    "": "give a file path, an SQS queue URL or ARN",
    "arn:aws:lambda:us-east-1:123456789012:function:f": "an ARN of lambda: a stream's",
    "arn:aws:dynamodb:us-east-1:123456789012:table/t": "an ARN of dynamodb",
    "arn:aws:sqs:us-east-1:123456789012": "is not an ARN",
    "arn:aws:sqs:us-east-1:123456789012:": "is not an SQS queue ARN",
    "arn:aws:sns:us-east-1:bad:topic": "is not an SNS topic ARN",
    "arn:aws:s3:::failures-bucket/prefix": "is not a bucket ARN",
    "s3://": "is not an S3 bucket name",
    "https://sqs.us-east-1.amazonaws.com/": "no queue name",
    "ftp://host/failures": "is none of",
}


def test_every_destination_form_is_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for value in GOOD:
        assert RunnerConfig(table="t", on_failure=value).on_failure == value


@pytest.mark.parametrize("value", list(BAD))
def test_a_bad_on_failure_value_is_refused_before_any_record_is_read(
    value: str, table: dict[str, Any]
) -> None:
    handler = Flaky()
    with pytest.raises(RunnerConfigError, match=re.escape(BAD[value])) as caught:
        _discarding(handler, table, on_failure=value)
    assert caught.value.option == "on_failure"
    assert handler.events == 0
    with pytest.raises(RunnerConfigError, match=re.escape(BAD[value])) as caught:
        redrive(handler, source="never-read.jsonl", on_failure=value, **QUIET)
    assert caught.value.option == "on_failure"


def test_the_command_refuses_a_bad_on_failure_value_naming_the_flag(
    command: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from streamflow.cli import main

    arn = "arn:aws:lambda:us-east-1:123456789012:function:f"
    assert main(["run", "app:handler", "--table", "t", "--on-failure", arn]) == 2
    assert "streamflow run: error: --on-failure: an ARN of lambda" in capsys.readouterr().err
