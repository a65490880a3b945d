"""``streamflow run`` (here ``python -m streamflow.runner``): options, output, exit codes,
signals. Runs against moto's server over HTTP."""

from __future__ import annotations

import argparse
import io
import json
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from streamflow.runner import RunSummary, add_run_command, run_command
from streamflow.runner._status import Reporter

PINNED = {
    "--table",
    "--endpoint-url",
    "--region",
    "--profile",
    "--batch-size",
    "--batching-window",
    "--starting-position",
    "--filter",
    "--bisect-on-error",
    "--max-retries",
    "--max-record-age",
    "--parallelization-factor",
    "--tumbling-window",
    "--on-failure",
    "--function-timeout",
    "--checkpoint",
    "--until-idle",
    "--max-records",
    "--quiet",
    "--json-log",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="streamflow")
    add_run_command(parser.add_subparsers(dest="command"))
    return parser


def _table(aws_settings: dict[str, Any], *keys: str) -> str:
    dynamodb = boto3.client("dynamodb", **aws_settings)
    name = f"cli-{uuid.uuid4().hex[:10]}"
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    for key in keys:
        dynamodb.put_item(TableName=name, Item={"PK": {"S": key}})
    return name


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory holding a handler module with a unique name, made the current one."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    return tmp_path


def _module(project: Path, source: str) -> str:
    name = f"handlers_{uuid.uuid4().hex[:8]}"
    (project / f"{name}.py").write_text(textwrap.dedent(source))
    return name


def _argv(handler: str, table: str, aws_settings: dict[str, Any]) -> list[str]:
    """The arguments of ``streamflow run HANDLER`` on ``table`` of the test's moto server."""
    endpoint = aws_settings["endpoint_url"]
    return [handler, "--table", table, "--endpoint-url", endpoint, "--region", "us-east-1"]


def _command(handler: str, table: str, aws_settings: dict[str, Any]) -> list[str]:
    """``streamflow run HANDLER`` on ``table`` of the test's moto server, as a process."""
    return [sys.executable, "-m", "streamflow.runner", *_argv(handler, table, aws_settings)]


def _process(
    handler: str, table: str, aws_settings: dict[str, Any], project: Path, *options: str
) -> subprocess.CompletedProcess[str]:
    """``streamflow run HANDLER ... --json-log`` on ``table``, run to its end in ``project``."""
    return subprocess.run(
        [*_command(handler, table, aws_settings), *options, "--json-log"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _run(*argv: str) -> int:
    return run_command(_parser().parse_args(["run", *argv]))


def test_the_run_command_has_exactly_the_pinned_options() -> None:
    parser = _parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    run = commands.choices["run"]
    options = {s for action in run._actions for s in action.option_strings} - {"-h", "--help"}
    assert options == PINNED
    args = parser.parse_args(["run", "app:handler", "--table", "t"])
    assert (args.batch_size, args.batching_window, args.max_retries, args.max_record_age) == (
        100,
        0.0,
        -1,
        -1,
    )
    assert (args.parallelization_factor, args.tumbling_window, args.quiet, args.json_log) == (
        1,
        0,
        False,
        False,
    )


def test_every_flag_reaches_run_as_its_option(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from streamflow.filters import Filter
    from streamflow.runner import RunnerError

    (project / "insert.json").write_text('{"eventName": ["INSERT"]}')
    given: dict[str, Any] = {}

    def run(handler: str, **options: Any) -> RunSummary:
        given.update(options, handler=handler)
        raise RunnerError("stopped by the test")

    monkeypatch.setattr("streamflow.runner._api.run", run)
    argv = ["app:handler", "--table", "t", "--endpoint-url", "http://127.0.0.1:9"]
    argv += ["--region", "eu-west-1", "--profile", "dev", "--batch-size", "5"]
    argv += ["--batching-window", "1.5", "--starting-position", "LATEST"]
    argv += ["--filter", "insert.json", "--bisect-on-error", "--max-retries", "3"]
    argv += ["--max-record-age", "60", "--parallelization-factor", "2"]
    argv += ["--tumbling-window", "0", "--on-failure", "failed.jsonl", "--function-timeout", "30"]
    argv += ["--checkpoint", "c.json", "--until-idle", "2", "--max-records", "7"]
    assert _run(*argv, "--quiet", "--json-log") == 2
    assert "stopped by the test" in capsys.readouterr().err
    assert given == {
        "handler": "app:handler",
        "table": "t",
        "endpoint_url": "http://127.0.0.1:9",
        "region": "eu-west-1",
        "profile": "dev",
        "batch_size": 5,
        "batching_window": 1.5,
        "starting_position": "LATEST",
        "filters": [Filter.insert()],
        "bisect_on_error": True,
        "max_retries": 3,
        "max_record_age": 60,
        "parallelization_factor": 2,
        "tumbling_window": 0,
        "on_failure": "failed.jsonl",
        "function_timeout": 30,
        "checkpoint": "c.json",
        "until_idle": 2.0,
        "max_records": 7,
        "quiet": True,
        "json_log": True,
    }
    given.clear()
    assert _run("app:handler", "--table", "t") == 2
    assert given["filters"] is None  # no --filter: a Router's own filters apply


def test_help_lists_every_option_and_the_exit_codes() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "streamflow.runner", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for option in PINNED:
        assert option in out
    assert "Exit codes" in out


def test_a_router_module_runs_with_its_own_filters(
    aws_settings: dict[str, Any], project: Path, capsys: Any
) -> None:
    table = _table(aws_settings, "ORDER#1", "USER#1", "ORDER#2")
    module = _module(
        project,
        """
        from streamflow import Router
        from streamflow.filters import Filter, prefix

        router = Router()
        seen = []

        @router.on(Filter.insert().key("PK", prefix("ORDER#")))
        def orders(record):
            seen.append(record.keys["PK"])
        """,
    )
    code = _run(
        f"{module}:router",
        "--table",
        table,
        "--endpoint-url",
        aws_settings["endpoint_url"],
        "--region",
        "us-east-1",
        "--until-idle",
        "0.5",
        "--json-log",
    )
    assert code == 0
    assert sys.modules[module].seen == ["ORDER#1", "ORDER#2"]
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    summary = events[-1]
    assert summary["event"] == "summary"
    assert (summary["recordsRead"], summary["recordsDropped"], summary["reason"]) == (3, 1, "idle")


def test_filter_files_replace_a_routers_filters(
    aws_settings: dict[str, Any], project: Path
) -> None:
    table = _table(aws_settings, "A", "B", "C")
    module = _module(
        project,
        """
        seen = []

        def handler(event, context):
            seen.extend(r["dynamodb"]["Keys"]["PK"]["S"] for r in event["Records"])
        """,
    )
    (project / "a.json").write_text('{"dynamodb": {"Keys": {"PK": {"S": ["A"]}}}}')
    (project / "c.json").write_text(
        json.dumps({"Filters": [{"Pattern": '{"dynamodb": {"Keys": {"PK": {"S": ["C"]}}}}'}]})
    )
    code = _run(
        f"{module}:handler",
        "--table",
        table,
        "--endpoint-url",
        aws_settings["endpoint_url"],
        "--region",
        "us-east-1",
        "--filter",
        "a.json",
        "--filter",
        "c.json",
        "--until-idle",
        "0.5",
        "--quiet",
    )
    assert code == 0
    assert sys.modules[module].seen == ["A", "C"]


def test_discarded_records_exit_1(aws_settings: dict[str, Any], project: Path) -> None:
    table = _table(aws_settings, "A")
    module = _module(project, "def handler(event, context):\n    raise ValueError('no')\n")
    code = _run(
        f"{module}:handler",
        "--table",
        table,
        "--endpoint-url",
        aws_settings["endpoint_url"],
        "--region",
        "us-east-1",
        "--max-retries",
        "0",
        "--on-failure",
        "failed.jsonl",
        "--until-idle",
        "0.5",
        "--quiet",
    )
    assert code == 1
    [line] = (project / "failed.jsonl").read_text().splitlines()
    assert json.loads(line)["requestContext"]["condition"] == "RetryAttemptsExhausted"


BASE_EXCEPTIONS = {
    "cancelled-in-async-code": (
        "import asyncio\n"
        "async def work():\n"
        "    asyncio.current_task().cancel()\n"
        "    await asyncio.sleep(0)\n"
        "def handler(event, context):\n"
        "    return asyncio.run(work())\n",
        "CancelledError: ",
    ),
    "system-exit": ("import sys\ndef handler(event, context):\n    sys.exit(3)\n", "SystemExit: 3"),
    "custom-base-exception": (
        "class Abort(BaseException):\n"
        "    pass\n"
        "def handler(event, context):\n"
        "    raise Abort('stop')\n",
        "Abort: stop",
    ),
}


@pytest.mark.parametrize("kind", list(BASE_EXCEPTIONS))
def test_a_base_exception_in_the_handler_fails_its_batch_and_the_run_ends_normally(
    aws_settings: dict[str, Any], project: Path, capsys: Any, kind: str
) -> None:
    source, reason = BASE_EXCEPTIONS[kind]
    table = _table(aws_settings, "A")
    module = _module(project, source)
    argv = _argv(f"{module}:handler", table, aws_settings)
    argv += ["--max-retries", "1", "--on-failure", "failed.jsonl", "--until-idle", "0.3"]
    code = _run(*argv, "--json-log")
    err = capsys.readouterr().err
    assert code == 1, err
    assert "Traceback" not in err
    events = [json.loads(line) for line in err.splitlines()]  # every line is JSON
    failed = [e for e in events if e["event"] == "batch"]
    assert [(e["status"], e["attempt"], e["reason"]) for e in failed] == [
        ("failed", 1, reason),
        ("failed", 2, reason),
    ]
    assert [e["event"] for e in events][-2:] == ["discarded", "summary"]
    assert (events[-1]["failedInvocations"], events[-1]["exitCode"]) == (2, 1)
    [line] = (project / "failed.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["responseContext"]["functionError"] == "Unhandled"


def test_a_keyboard_interrupt_in_the_handler_aborts_the_run_with_130(
    aws_settings: dict[str, Any], project: Path, capsys: Any
) -> None:
    table = _table(aws_settings, "A")
    module = _module(project, "def handler(event, context):\n    raise KeyboardInterrupt\n")
    code = _run(*_argv(f"{module}:handler", table, aws_settings), "--until-idle", "5", "--json-log")
    assert code == 130
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert events[-1]["event"] == "error"
    assert events[-1]["message"] == "aborted"


SLOW_ONCE = """
import os, time

def handler(event, context):
    if not os.path.exists("first-call-done"):
        open("first-call-done", "w").close()
        time.sleep(1.5)  # past --function-timeout 1: the runner stops waiting at 1 s
"""


def test_an_invocation_past_the_function_timeout_fails_and_its_batch_is_retried(
    aws_settings: dict[str, Any], project: Path
) -> None:
    table = _table(aws_settings, "A", "B")
    module = _module(project, SLOW_ONCE)
    options = ["--function-timeout", "1", "--until-idle", "0.3"]
    done = _process(f"{module}:handler", table, aws_settings, project, *options)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stderr.splitlines()]
    assert events[0]["options"]["functionTimeout"] == 1
    batches = [e for e in events if e["event"] == "batch"]
    assert [(b["status"], b["attempt"], b["records"]) for b in batches] == [
        ("failed", 1, 2),
        ("ok", 2, 2),
    ]
    assert batches[0]["reason"] == "Sandbox.Timedout: Task timed out after 1.00 seconds"
    summary = events[-1]
    assert summary["event"] == "summary"
    assert (summary["invocations"], summary["failedInvocations"], summary["exitCode"]) == (2, 1, 0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nocolon", "--table", "t"], "module:attribute"),
        (["no_such_module_here:handler", "--table", "t"], "no module named"),
        (["json:nothing_here", "--table", "t"], "has no attribute"),
        (["json:__doc__", "--table", "t"], "a function (event, context) or a Router"),
        (["json:dumps", "--table", "t", "--batch-size", "0"], "--batch-size: must be 1 to"),
        (["json:dumps", "--table", "t", "--max-record-age", "30"], "--max-record-age: must be"),
        (["nocolon", "--table", "t"], "HANDLER: write HANDLER as module:attribute"),
        (["json:dumps", "--table", "t", "--parallelization-factor", "11"], "1 to 10"),
        (["json:dumps", "--table", "t", "--filter", "missing.json"], "cannot read"),
        (["json:dumps", "--table", "t", "--checkpoint", "no/such/dir/c.json"], "does not exist"),
    ],
)
def test_usage_errors_exit_2_with_a_message(
    argv: list[str], message: str, project: Path, capsys: Any
) -> None:
    assert _run(*argv) == 2
    assert message in capsys.readouterr().err


def test_an_invalid_filter_pattern_exits_2(project: Path, capsys: Any) -> None:
    (project / "bad.json").write_text('{"eventName": "INSERT"}')
    assert _run("json:dumps", "--table", "t", "--filter", "bad.json") == 2
    assert "invalid filter pattern" in capsys.readouterr().err


def test_an_unreachable_endpoint_exits_2_after_a_few_tries(project: Path, capsys: Any) -> None:
    module = _module(project, "def handler(event, context):\n    pass\n")
    started = time.monotonic()
    code = _run(
        f"{module}:handler",
        "--table",
        "t",
        "--endpoint-url",
        "http://127.0.0.1:9",  # the discard port: nothing listens
        "--region",
        "us-east-1",
        "--quiet",
    )
    assert code == 2
    assert "cannot describe table" in capsys.readouterr().err
    assert time.monotonic() - started < 30


def test_a_missing_table_exits_2(aws_settings: dict[str, Any], project: Path, capsys: Any) -> None:
    module = _module(project, "def handler(event, context):\n    pass\n")
    code = _run(
        f"{module}:handler",
        "--table",
        "no-such-table",
        "--endpoint-url",
        aws_settings["endpoint_url"],
        "--region",
        "us-east-1",
    )
    assert code == 2
    assert "no-such-table" in capsys.readouterr().err


SLOW_HANDLER = """
import os, pathlib, time

def handler(event, context):
    pathlib.Path("started").touch()
    time.sleep(1.0)
    with open("delivered.log", "a") as log:
        for record in event["Records"]:
            log.write(record["dynamodb"]["SequenceNumber"] + "\\n")
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_finishes_the_batch_in_flight_checkpoints_and_exits_0(
    aws_settings: dict[str, Any], project: Path, sig: signal.Signals
) -> None:
    table = _table(aws_settings, *(f"K{i}" for i in range(6)))
    (project / "slow.py").write_text(textwrap.dedent(SLOW_HANDLER))
    process = subprocess.Popen(
        [
            *_command("slow:handler", table, aws_settings),
            "--batch-size",
            "2",
            "--checkpoint",
            "checkpoint.json",
            "--json-log",
        ],
        cwd=project,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while not (project / "started").exists():
        assert process.poll() is None
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(sig)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    delivered = (project / "delivered.log").read_text().split()
    assert len(delivered) == 2  # the batch in flight, and nothing after it
    shards = json.loads((project / "checkpoint.json").read_text())["streams"]
    [stream] = shards.values()
    [entry] = stream["shards"].values()
    assert entry["sequenceNumber"] == delivered[-1]
    events = [json.loads(line) for line in err.splitlines()]
    assert "stopping" in [e["event"] for e in events]
    assert events[-1]["event"] == "summary"
    assert events[-1]["reason"] == "stopped"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_a_status_line_is_redrawn_and_a_summary_printed() -> None:
    terminal = _Terminal()
    reporter = Reporter(stream=terminal)
    counts = {
        "records_read": 1234,
        "records_kept": 1200,
        "records_dropped": 34,
        "invocations": 12,
        "records_invoked": 1200,
        "failed_invocations": 1,
        "records_discarded": 0,
        "data_loss": 0,
        "throttled": 0,
        "shards_finished": 0,
    }
    reporter.tick(counts, iterator_age=0.4, shards=2)
    reporter.shard_finished("shard-1")
    reporter.summary(RunSummary(stream_arn="arn", reason="idle", duration=3.2, **counts))
    text = terminal.getvalue()
    assert text.startswith("\r\x1b[Kread 1,234 | kept 1,200 | dropped 34 | invoked 1,200")
    assert "failed 1" in text
    assert "iterator age 0.4s" in text
    assert "shards 2" in text
    assert "\r\x1b[Kshard shard-1: closed and fully processed\n" in text
    assert text.rstrip().endswith("1 failed; 0 discarded")


def test_off_a_terminal_there_is_no_status_line_and_quiet_prints_nothing() -> None:
    plain, quiet = io.StringIO(), io.StringIO()
    for reporter in (Reporter(stream=plain), Reporter(quiet=True, stream=quiet)):
        reporter.tick(dict.fromkeys(RunSummary.__slots__, 0), iterator_age=0, shards=1)
        reporter.shard_started("shard-1", None, "TRIM_HORIZON", None)
    assert plain.getvalue() == "shard shard-1: reading from TRIM_HORIZON\n"
    assert quiet.getvalue() == ""


class _HeldLock:
    """A lock the interrupted main thread holds (the reporter's, drawing the status line; the
    one inside the Event it waits on): a signal handler taking it again would hang the
    process for good, so here it fails instead."""

    def __enter__(self) -> None:
        raise AssertionError("the signal handler took a lock the main thread may hold")

    def __exit__(self, *exc: object) -> None:
        return None

    def set(self) -> None:
        self.__enter__()


def test_a_signal_handler_takes_no_lock_the_interrupted_main_thread_may_hold() -> None:
    from types import SimpleNamespace

    from streamflow.runner._api import _signals
    from streamflow.runner._config import RunnerConfig
    from streamflow.runner._engine import Engine

    reporter = Reporter(stream=io.StringIO())
    reporter._lock = _HeldLock()  # type: ignore[assignment]
    engine = Engine(
        handler=lambda event, context: None,
        matches=None,
        config=RunnerConfig(table="t"),
        streams=None,
        dynamodb=None,
        reporter=reporter,
    )
    engine.shared = SimpleNamespace(wake=_HeldLock())  # type: ignore[assignment]
    with _signals(engine, enabled=True):
        signal.raise_signal(signal.SIGTERM)
        assert engine.stop_event.is_set()
        assert engine.signalled == "SIGTERM"
        with pytest.raises(KeyboardInterrupt):  # a second signal aborts
            signal.raise_signal(signal.SIGINT)


def test_the_docs_list_every_option_with_its_default() -> None:
    text = (Path(__file__).parent.parent / "docs" / "runner.md").read_text()
    defaults = {}
    for line in text.splitlines():
        if line.startswith("| `--"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            defaults[cells[0].strip("`").split()[0]] = cells[2]
    assert set(defaults) == PINNED
    assert all(defaults.values()), [name for name, value in defaults.items() if not value]


@pytest.mark.parametrize(
    ("source", "message", "line"),
    [
        ("import no_such_dependency_xyz\n", "ModuleNotFoundError: No module named", 1),
        ("x = 1\ndef handler(event, context):\n    return (\n", "SyntaxError:", 3),
        ("\nraise RuntimeError('boom at import')\n", "RuntimeError: boom at import", 2),
        ("import sys\n\nsys.exit(4)\n", "SystemExit: 4", 3),
    ],
    ids=["missing-dependency", "syntax-error", "raises", "exits"],
)
def test_a_handler_module_that_fails_to_import_is_a_typed_error_naming_where(
    source: str, message: str, line: int, project: Path, capsys: Any
) -> None:
    from streamflow.runner import RunnerConfigError, run

    module = _module(project, source)
    assert _run(f"{module}:handler", "--table", "t") == 2
    err = capsys.readouterr().err
    assert f"importing '{module}' failed: {message}" in err
    assert f"{module}.py, line {line})" in err
    assert "Traceback" not in err
    with pytest.raises(RunnerConfigError) as caught:
        run(f"{module}:handler", table="t")
    assert caught.value.option == "handler"
    assert caught.value.__cause__ is not None  # the original error, for a debugger


def test_a_module_whose_name_starts_like_a_missing_dependency_is_not_reported_missing(
    project: Path, capsys: Any
) -> None:
    dependency = f"missing{uuid.uuid4().hex[:8]}"  # a name no other test can have imported
    module = f"{dependency}_app"
    (project / f"{module}.py").write_text(f"import {dependency}\n")
    assert _run(f"{module}:handler", "--table", "t") == 2
    err = capsys.readouterr().err
    assert f"importing '{module}' failed: ModuleNotFoundError" in err
    assert "run from the directory" not in err


def test_a_json_log_error_has_time_and_event_like_every_other_line(capsys: Any) -> None:
    assert _run("json:dumps", "--table", "t", "--batch-size", "0", "--json-log") == 2
    [line] = capsys.readouterr().err.splitlines()
    error = json.loads(line)
    assert error["event"] == "error"
    assert error["message"].startswith("--batch-size: must be 1 to 10000")
    assert error["time"].endswith("Z")


ROUTER_FAILING = """
from streamflow import Router
from streamflow.filters import Filter

router = Router()

@router.on(Filter.insert())
def fail(record):
    raise ValueError("poison " + record.keys["PK"])
"""


def test_the_handlers_logging_goes_to_stdout_so_json_log_stays_json(
    aws_settings: dict[str, Any], project: Path
) -> None:
    table = _table(aws_settings, "K0")
    (project / "failing.py").write_text(textwrap.dedent(ROUTER_FAILING))
    options = ["--max-retries", "0", "--until-idle", "0.3"]
    done = _process("failing:router", table, aws_settings, project, *options)
    assert done.returncode == 1, done.stderr
    events = [json.loads(line) for line in done.stderr.splitlines()]  # every line is JSON
    assert [e["event"] for e in events][-2:] == ["discarded", "summary"]
    # The router logs each failure at ERROR with its traceback, as Lambda's runtime would
    # ship it to the function's log: here, standard output.
    assert "[ERROR]" in done.stdout
    assert "ValueError: poison K0" in done.stdout


def test_a_filter_file_that_can_never_match_is_refused_naming_the_file(
    aws_settings: dict[str, Any], project: Path, capsys: Any
) -> None:
    """Run, it would drop every record and exit 0: refused before anything is read."""
    table = _table(aws_settings, "A")
    never = {"dynamodb": {"NewImage": {"amount": {"N": [{"numeric": [">", 5]}]}}}}
    (project / "f.json").write_text(json.dumps(never))
    argv = [*_argv("json:dumps", table, aws_settings), "--until-idle", "0.5", "--quiet"]
    assert _run(*argv, "--filter", "f.json") == 2
    err = capsys.readouterr().err
    assert err.startswith("streamflow run: error: --filter: f.json: a rule of this filter ")
    assert "N values are text in stream records" in err
    assert err.rstrip().endswith("at dynamodb.NewImage.amount.N")
    # A FilterCriteria file: the path is the document's, and the pattern is named.
    patterns = ['{"eventName": ["INSERT"]}', '{"eventName": ["insert"]}']
    criteria = {"Filters": [{"Pattern": pattern} for pattern in patterns]}
    (project / "c.json").write_text(json.dumps(criteria))
    assert _run(*argv, "--filter", "c.json") == 2
    err = capsys.readouterr().err
    assert '--filter: c.json: a rule of the filter {"eventName":["insert"]} can never match' in err
    assert "(fix: Filter.insert())" in err
    assert err.rstrip().endswith("at Filters[1].Pattern.eventName")


def test_a_filter_file_lint_only_warns_about_runs(
    aws_settings: dict[str, Any], project: Path
) -> None:
    table = _table(aws_settings, "A", "B")
    module = _module(
        project,
        """
        seen = []

        def handler(event, context):
            seen.extend(r["dynamodb"]["Keys"]["PK"]["S"] for r in event["Records"])
        """,
    )
    # wildcard: documented for EventBridge buses only, a warning; it matches all the same.
    pattern = {"dynamodb": {"Keys": {"PK": {"S": [{"wildcard": "A*"}]}}}}
    (project / "w.json").write_text(json.dumps(pattern))
    argv = [*_argv(f"{module}:handler", table, aws_settings), "--until-idle", "0.5", "--quiet"]
    assert _run(*argv, "--filter", "w.json") == 0
    assert sys.modules[module].seen == ["A"]


def test_the_docs_moto_example_needs_no_aws_credentials_of_yours(
    aws_settings: dict[str, Any], tmp_path: Path
) -> None:
    """docs/runner.md's first example, run as written on a machine without AWS credentials:
    the dummy credentials it exports are all boto3 needs to talk to moto's server."""
    import os

    text = (Path(__file__).parent.parent / "docs" / "runner.md").read_text()
    block = text.split("```console\n", 1)[1].split("```", 1)[0]
    exported: dict[str, str] = {}
    for line in block.splitlines():
        if line.startswith("$ export "):
            for item in line.removeprefix("$ export ").split():
                name, value = item.split("=", 1)
                exported[name] = value
    assert "$ streamflow run" in block
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(exported)
    table = _table(aws_settings, "A")
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return None\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=str(tmp_path), **exported)  # no ~/.aws, no credentials but the docs'
    done = subprocess.run(
        [*_command("app:handler", table, aws_settings), "--until-idle", "0.5", "--quiet"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (0, "")


def test_run_prints_its_status_on_standard_error_as_its_docs_say(
    aws_settings: dict[str, Any], project: Path, capsys: Any
) -> None:
    from streamflow.runner import run

    table = _table(aws_settings, "A")
    summary = run(
        lambda event, context: None,
        table=table,
        endpoint_url=aws_settings["endpoint_url"],
        region="us-east-1",
        until_idle=0.5,
        handle_signals=False,
    )
    assert summary.exit_code == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert "shard" in err
    assert "standard error" in (run.__doc__ or "")
    docs = (Path(__file__).parent.parent / "docs" / "runner.md").read_text()
    assert "from `streamflow run` and from `run()` in Python alike" in docs
