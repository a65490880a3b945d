"""Redriving from an SQS queue under trouble, on moto's server (nothing mocked but the
throttling errors injected in front of it): a batch that outlasts the visibility timeout
keeps its message hidden, messages in flight elsewhere are counted rather than taken for
done, throttled calls are waited out, and a redrive killed with ``kill -9`` midway loses no
message and repeats at most the batch in flight."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from streamflow.runner import redrive
from tests.redrive_support import QUIET, discarded, keys_of
from tests.test_runner_redrive import _messages, _queue


@pytest.fixture
def failed(aws_settings: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """The batches [K1, K2] and [K5, K6] discarded by ``run``, one SQS message each (the
    on-failure records as Lambda writes them to an SQS destination)."""
    setup = discarded(aws_settings, tmp_path)
    sqs, url = _queue(aws_settings)
    for line in setup["on_failure"].read_text().splitlines():
        sqs.send_message(QueueUrl=url, MessageBody=line)
    setup["handler"].fixed = True
    setup["handler"].delivered.clear()
    return {**setup, "sqs": sqs, "url": url}


def test_a_batch_longer_than_the_visibility_timeout_keeps_its_message_hidden(
    failed: dict[str, Any],
) -> None:
    sqs, url = failed["sqs"], failed["url"]
    records = failed["on_failure"].read_text().splitlines()  # message i holds batch i
    batches: list[list[str]] = []
    seen_by_others: list[set[str]] = []

    def slow(event: dict[str, Any], context: Any) -> Any:
        time.sleep(2.5)  # 2.5 visibility timeouts: without a heartbeat, visible again
        other = sqs.receive_message(  # another consumer looks, and lets go at once
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0
        )
        seen_by_others.append({message["Body"] for message in other.get("Messages") or []})
        batches.append(keys_of(event))
        return None

    summary = redrive(
        slow,
        source=url,
        streams_client=failed["streams"],
        sqs_client=sqs,
        visibility_timeout=1,
        **QUIET,
    )
    assert batches == [["K1", "K2"], ["K5", "K6"]]
    assert records[0] not in seen_by_others[0]  # the message in flight stayed hidden
    assert records[1] not in seen_by_others[1]
    assert records[1] in seen_by_others[0]  # the other consumer does see what is visible
    assert (summary.batches_redriven, summary.unreceived, summary.exit_code) == (2, 0, 0)
    assert _messages(sqs, url) == ["0", "0"]


def test_messages_in_flight_elsewhere_are_counted_not_taken_for_done(
    failed: dict[str, Any],
) -> None:
    sqs, url, handler = failed["sqs"], failed["url"], failed["handler"]
    taken = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=60)
    [message] = taken["Messages"]  # another consumer holds the first one
    summary = redrive(handler, source=url, streams_client=failed["streams"], sqs_client=sqs,
                      **QUIET)  # fmt: skip
    assert (summary.batches_redriven, summary.unreceived, summary.exit_code) == (1, 1, 1)
    assert summary.to_dict()["unreceived"] == 1
    assert handler.delivered == ["K1", "K2"] or handler.delivered == ["K5", "K6"]
    assert _messages(sqs, url) == ["0", "1"]
    sqs.change_message_visibility(  # the other consumer lets it go
        QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )
    again = redrive(handler, source=url, streams_client=failed["streams"], sqs_client=sqs,
                    **QUIET)  # fmt: skip
    assert (again.batches_redriven, again.unreceived, again.exit_code) == (1, 0, 0)
    assert sorted(handler.delivered) == ["K1", "K2", "K5", "K6"]
    assert _messages(sqs, url) == ["0", "0"]


class Throttled:
    """The real SQS client, in front of which each named call first fails ``times`` times
    with SQS's throttling error (moto's server never throttles)."""

    def __init__(self, client: Any, times: int, *operations: str) -> None:
        self.client = client
        self.left = dict.fromkeys(operations, times)
        self.failed: list[str] = []

    def __getattr__(self, name: str) -> Any:
        call = getattr(self.client, name)
        if name not in self.left:
            return call

        def throttled(**kwargs: Any) -> Any:
            if self.left[name] > 0:
                self.left[name] -= 1
                self.failed.append(name)
                error: Any = {"Code": "RequestThrottled", "Message": "Request is throttled."}
                raise ClientError({"Error": error}, name)
            return call(**kwargs)

        return throttled


def test_throttled_queue_calls_are_waited_out_and_reported(
    failed: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    sqs, url, handler = failed["sqs"], failed["url"], failed["handler"]
    throttled = Throttled(sqs, 2, "receive_message", "delete_message", "get_queue_attributes")
    summary = redrive(
        handler,
        source=url,
        streams_client=failed["streams"],
        sqs_client=throttled,
        json_log=True,
        handle_signals=False,
    )
    assert handler.delivered == ["K1", "K2", "K5", "K6"]
    assert (summary.batches_redriven, summary.exit_code) == (2, 0)
    assert _messages(sqs, url) == ["0", "0"]
    assert sorted(set(throttled.failed)) == [
        "delete_message",
        "get_queue_attributes",
        "receive_message",
    ]
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    reported = [event["operation"] for event in events if event["event"] == "throttled"]
    assert sorted(reported) == sorted(
        {"receive_message": "ReceiveMessage", "delete_message": "DeleteMessage",
         "get_queue_attributes": "GetQueueAttributes"}[name] for name in throttled.failed
    )  # fmt: skip


def test_a_stop_while_throttled_ends_the_redrive_at_once(failed: dict[str, Any]) -> None:
    sqs, url, handler = failed["sqs"], failed["url"], failed["handler"]
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    began = time.monotonic()
    summary = redrive(
        handler,
        source=url,
        streams_client=failed["streams"],
        sqs_client=Throttled(sqs, 10**6, "receive_message"),
        stop_event=stop,
        **QUIET,
    )
    assert time.monotonic() - began < 10
    assert (summary.reason, summary.batches, summary.invocations) == ("stopped", 0, 0)
    assert _messages(sqs, url) == ["2", "0"]


# --- kill -9 ------------------------------------------------------------------------------

HANDLER = """
import os, time

def handler(event, context):
    keys = [record["dynamodb"]["Keys"]["PK"]["S"] for record in event["Records"]]
    with open(os.environ["REDRIVE_TEST_LOG"], "a") as log:
        log.write(" ".join(keys) + "\\n")
    if os.environ.get("REDRIVE_TEST_HANG") in keys:
        time.sleep(600)  # killed here, mid-batch
"""


def _batches(path: Path) -> list[list[str]]:
    return [line.split() for line in path.read_text().splitlines()] if path.exists() else []


def _killed_midway(command: list[str], tmp_path: Path, env: dict[str, str]) -> list[list[str]]:
    """Run ``command`` until it hangs in the batch holding K5, kill -9 it, and return the
    batches it delivered."""
    log = tmp_path / "killed.log"
    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        env={**env, "REDRIVE_TEST_LOG": str(log), "REDRIVE_TEST_HANG": "K5"},
    )
    deadline = time.monotonic() + 60
    while ["K5", "K6"] not in _batches(log):
        assert process.poll() is None, "the redrive exited early"
        assert time.monotonic() < deadline, "the redrive did not reach the second batch"
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    return _batches(log)


def _resumed(
    command: list[str], tmp_path: Path, env: dict[str, str], name: str
) -> tuple[subprocess.CompletedProcess[str], list[list[str]]]:
    log = tmp_path / f"{name}.log"
    done = subprocess.run(
        [*command, "--json-log"],
        cwd=tmp_path,
        env={**env, "REDRIVE_TEST_LOG": str(log)},
        timeout=120,
        capture_output=True,
        text=True,
    )
    return done, _batches(log)


@pytest.fixture
def command(aws_settings: dict[str, Any], tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    (tmp_path / "killme.py").write_text(textwrap.dedent(HANDLER))
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }
    base = [
        sys.executable, "-m", "streamflow", "redrive", "killme:handler",
        "--endpoint-url", aws_settings["endpoint_url"], "--region", "us-east-1",
    ]  # fmt: skip
    return base, env


def test_a_queue_redrive_killed_midway_loses_no_message(
    failed: dict[str, Any], command: tuple[list[str], dict[str, str]], tmp_path: Path
) -> None:
    base, env = command
    sqs, url = failed["sqs"], failed["url"]
    redrive_queue = [*base, "--source", url, "--visibility-timeout", "2"]
    killed = _killed_midway([*redrive_queue, "--quiet"], tmp_path, env)
    assert killed == [["K1", "K2"], ["K5", "K6"]]
    assert _messages(sqs, url) == ["0", "1"]  # the first deleted; the second hidden, kept

    # At once: the killed redrive's message is still hidden. Counted, not taken for done.
    early, delivered = _resumed(redrive_queue, tmp_path, env, "early")
    summary = json.loads(early.stderr.splitlines()[-1])
    assert early.returncode == 1, early.stderr
    assert (summary["batches"], summary["unreceived"], delivered) == (0, 1, [])

    time.sleep(2.5)  # its visibility timeout ends: no heartbeat keeps it hidden any more
    late, delivered = _resumed(redrive_queue, tmp_path, env, "late")
    assert late.returncode == 0, late.stderr
    assert delivered == [["K5", "K6"]]  # the batch in flight, repeated once; nothing else
    assert _messages(sqs, url) == ["0", "0"]


def test_a_file_redrive_killed_midway_loses_no_line(
    failed: dict[str, Any], command: tuple[list[str], dict[str, str]], tmp_path: Path
) -> None:
    base, env = command
    redrive_file = [*base, "--source", str(failed["on_failure"])]
    killed = _killed_midway([*redrive_file, "--quiet"], tmp_path, env)
    assert killed == [["K1", "K2"], ["K5", "K6"]]
    resumed, delivered = _resumed(redrive_file, tmp_path, env, "resumed")
    assert resumed.returncode == 0, resumed.stderr
    assert delivered == [["K5", "K6"]]
    again, delivered = _resumed(redrive_file, tmp_path, env, "again")
    assert (again.returncode, delivered) == (0, [])
    assert json.loads(again.stderr.splitlines()[-1])["batches"] == 0


class Terminal(io.StringIO):
    """Standard error as a terminal: the status line is drawn."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("source", ["queue", "file"])
def test_the_status_line_says_how_many_are_left(
    failed: dict[str, Any], monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    from streamflow.runner import _status

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    draw = _status.Reporter.redraw

    def every_time(reporter: _status.Reporter, line: Any) -> None:
        reporter._last_tick = float("-inf")  # no 4-a-second limit in a test
        draw(reporter, line)

    monkeypatch.setattr(_status.Reporter, "redraw", every_time)
    handler = failed["handler"]
    where = failed["url"] if source == "queue" else str(failed["on_failure"])
    summary = redrive(handler, source=where, streams_client=failed["streams"],
                      sqs_client=failed["sqs"], handle_signals=False)  # fmt: skip
    assert summary.batches_redriven == 2
    lines = [part.split("\x1b[K")[-1] for part in terminal.getvalue().split("\r") if "|" in part]
    assert lines[0].startswith("batches 1 | left 1 | redriven 1 | failed 0 | lost 0 |")
    assert lines[-1].startswith("batches 2 | left 0 | redriven 2 |")


def test_a_queue_is_a_source_by_arn_too(failed: dict[str, Any]) -> None:
    sqs, url, handler = failed["sqs"], failed["url"], failed["handler"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    summary = redrive(handler, source=arn["QueueArn"], streams_client=failed["streams"],
                      sqs_client=sqs, **QUIET)  # fmt: skip
    assert handler.delivered == ["K1", "K2", "K5", "K6"]
    assert (summary.batches_redriven, summary.exit_code) == (2, 0)
    assert _messages(sqs, url) == ["0", "0"]


def test_a_source_that_would_feed_itself_is_refused(failed: dict[str, Any]) -> None:
    from streamflow.errors import RunnerConfigError

    sqs, url = failed["sqs"], failed["url"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    file = str(failed["on_failure"])
    for source, on_failure in ((url, url), (url, arn["QueueArn"]), (file, file)):
        with pytest.raises(RunnerConfigError) as error:
            redrive(failed["handler"], source=source, on_failure=on_failure,
                    streams_client=failed["streams"], sqs_client=sqs, **QUIET)  # fmt: skip
        assert error.value.option == "on_failure"
        assert "would come back to this redrive" in error.value.reason
    assert _messages(sqs, url) == ["2", "0"]  # refused before anything was received


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("arn:aws:sns:us-east-1:123456789012:failures", "redrive from the SQS queue subscribed"),
        (".", "is a directory, not a JSON Lines file"),
        ("missing.jsonl", "a source is a JSON Lines file, an SQS queue URL or ARN, or s3://"),
    ],
)
def test_a_source_that_cannot_be_read_says_what_can(
    failed: dict[str, Any], source: str, message: str
) -> None:
    from streamflow.errors import RunnerConfigError

    with pytest.raises(RunnerConfigError) as error:
        redrive(failed["handler"], source=source, streams_client=failed["streams"], **QUIET)
    assert error.value.option == "source"
    assert message in error.value.reason


def test_a_stopped_redrive_exits_1_saying_what_is_left(failed: dict[str, Any]) -> None:
    stop = threading.Event()

    def stops_after_the_first_batch(event: dict[str, Any], context: Any) -> Any:
        stop.set()
        return None

    summary = redrive(stops_after_the_first_batch, source=str(failed["on_failure"]),
                      streams_client=failed["streams"], stop_event=stop, **QUIET)  # fmt: skip
    assert (summary.reason, summary.batches_redriven, summary.left) == ("stopped", 1, 1)
    assert summary.exit_code == 1
    assert summary.to_dict()["left"] == 1
    done = redrive(failed["handler"], source=str(failed["on_failure"]),
                   streams_client=failed["streams"], **QUIET)  # fmt: skip
    assert (done.reason, done.batches_redriven, done.left, done.exit_code) == ("done", 1, 0, 0)


def test_a_missing_on_failure_destination_stops_the_redrive_before_it_reads(
    failed: dict[str, Any], aws_settings: dict[str, Any]
) -> None:
    from streamflow.errors import RunnerError

    missing = f"{aws_settings['endpoint_url']}/123456789012/no-such-queue"
    handler = failed["handler"]
    handler.events = 0
    with pytest.raises(RunnerError, match="cannot be reached") as caught:
        redrive(handler, source=failed["url"], on_failure=missing,
                streams_client=failed["streams"], sqs_client=failed["sqs"], **QUIET)  # fmt: skip
    assert missing in caught.value.reason
    assert handler.events == 0
    assert _messages(failed["sqs"], failed["url"]) == ["2", "0"]
