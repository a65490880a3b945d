"""``streamflow check`` on the command line: text and JSON output, exit codes, and the
messages of inputs it cannot use (exit 2, never a traceback)."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from streamflow.cli import build_parser, main

APP = """
from dataclasses import dataclass

from streamflow import Router, StreamRecord
from streamflow.filters import Filter, prefix

router = Router()


@router.on(Filter.insert().key("PK", prefix("SCORE#")))
def add_score(record: StreamRecord) -> None: ...


def handler(event, context):
    return {"batchItemFailures": []}


NOT_CALLABLE = 1
"""

SCORES = {"eventName": ["INSERT"], "dynamodb": {"Keys": {"PK": {"S": [{"prefix": "SCORE#"}]}}}}


def template(**mapping: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "EventSourceArn": {"Fn::GetAtt": ["Table", "StreamArn"]},
        "FunctionName": {"Ref": "Function"},
        "StartingPosition": "TRIM_HORIZON",
        "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": 10,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:1:q"}},
        "FilterCriteria": {"Filters": [{"Pattern": json.dumps(SCORES)}]},
    }
    properties.update(mapping)
    properties = {k: v for k, v in properties.items() if v is not None}
    return {
        "Resources": {
            "Table": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {"StreamSpecification": {"StreamViewType": "NEW_IMAGE"}},
            },
            "Function": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Handler": "check_cli_app.handler", "Timeout": 30},
            },
            "Mapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": properties},
        }
    }


@pytest.fixture
def workdir(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    (tmp_path / "check_cli_app.py").write_text(APP)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write(directory: pathlib.Path, name: str, content: Any) -> str:
    path = directory / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def test_a_clean_template_exits_0(
    workdir: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(workdir, "t.json", template())
    code, out, err = run(["check", "check_cli_app:router", "--template", path], capsys)
    assert (code, out, err) == (0, "no findings (1 mapping checked: Mapping)\n", "")


def test_findings_are_printed_with_their_fix(
    workdir: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(workdir, "t.json", template(FunctionResponseTypes=None, StartingPosition="LATEST"))
    code, out, _ = run(["check", "check_cli_app:router", "--template", path], capsys)
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("Mapping: SF001 error: FunctionResponseTypes lacks Report")
    assert lines[1] == (
        '  fix: FunctionResponseTypes: ["ReportBatchItemFailures"] (CDK: '
        "report_batch_item_failures=True)"
    )
    assert lines[2].startswith("Mapping: SF017 warning: StartingPosition LATEST")
    assert lines[-1] == "1 error, 1 warning (1 mapping checked: Mapping); codes: docs/check.md"


def test_fail_on_decides_the_exit_code(
    workdir: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(workdir, "t.json", template(StartingPosition="LATEST"))
    base = ["check", "check_cli_app:router", "--template", path]
    assert run(base, capsys)[0] == 0  # a warning, below the default --fail-on error
    assert run([*base, "--fail-on", "warning"], capsys)[0] == 1
    assert run([*base, "--fail-on", "warning", "--ignore", "SF017"], capsys)[0] == 0


def test_json_output(workdir: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(workdir, "t.json", template(FilterCriteria=None))
    code, out, _ = run(
        ["check", "check_cli_app:router", "--template", path, "--format", "json"], capsys
    )
    assert code == 0
    document = json.loads(out)
    assert document["checked"] == ["Mapping"]
    assert (document["errors"], document["warnings"]) == (0, 1)
    [finding] = document["findings"]
    assert finding["code"] == "SF003"
    assert set(finding) == {"code", "severity", "title", "mapping", "message", "fix"}
    assert json.loads(finding["fix"].removeprefix("FilterCriteria: ")) == {
        "Filters": [{"Pattern": json.dumps(SCORES, separators=(",", ":"))}]
    }


def test_a_plain_handler_with_filter_files(
    workdir: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(workdir, "t.json", template())
    pattern = write(workdir, "p.json", SCORES)
    argv = ["check", "check_cli_app:handler", "--template", path]
    assert run([*argv, "--filter", pattern], capsys)[0] == 0
    code, out, _ = run([*argv, "--fail-on", "warning"], capsys)
    assert code == 1
    assert "SF022 warning" in out
    assert "pass --filter" in out


def test_writes_and_parameters(workdir: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    changed = template(BatchSize={"Ref": "Size"})
    changed["Parameters"] = {"Size": {"Type": "Number"}}
    path = write(workdir, "t.json", changed)
    writes = write(workdir, "w.json", [{"PK": "SCORE#1", "SK": "x"}])
    argv = ["check", "check_cli_app:router", "--template", path, "--parameter", "Size=100"]
    assert run(argv, capsys)[0] == 0
    code, out, _ = run([*argv, "--writes", writes], capsys)
    assert code == 1
    assert 'SF005 error: writing {"PK": "SCORE#1", "SK": "x"} emits an INSERT' in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--template", "missing.json"], "--template: cannot read missing.json: No such file"),
        (["--template", "bad.json"], "--template: bad.json is not valid JSON"),
        (["--template", "t.json", "--mapping", "Nope"], "--mapping: no mapping 'Nope'"),
        (["--template", "t.json", "--parameter", "Size"], "--parameter: write NAME=VALUE"),
        (["--template", "t.json", "--writes", "missing.json"], "--writes: cannot read"),
        (["--template", "t.json", "--writes", "bad.json"], "--writes: bad.json is not valid"),
        (["--template", "t.json", "--writes", "list.json"], "--writes: list.json must hold"),
        (["--template", "t.json", "--ignore", "SF999"], "--ignore: no such code: SF999"),
        (["--template", "t.json", "--region", "eu-west-1"], "--region: only applies with"),
        (["--template", "t.json", "--table", "Scores"], "--table: only applies with"),
        (["--template", "t.json", "--filter", "bad.json"], "--filter: bad.json is not valid"),
        (["--template", "t.json", "--filter", "invalid.json"], "--filter: invalid filter"),
        (["--function-name", "f", "--parameter", "A=1"], "--parameter: only applies with"),
    ],
)
def test_inputs_it_cannot_use_exit_2_naming_the_option(
    workdir: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    write(workdir, "t.json", template())
    write(workdir, "bad.json", '{"Resources": ')
    write(workdir, "list.json", [1, 2])
    write(workdir, "invalid.json", {"eventName": "INSERT"})
    code, out, err = run(["check", "check_cli_app:router", *extra], capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("streamflow check: error: " + message), err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        ("nocolon", "HANDLER: write HANDLER as module:attribute"),
        ("no_such_module:router", "HANDLER: no module named 'no_such_module'"),
        ("check_cli_app:nope", "HANDLER: 'check_cli_app' has no attribute 'nope'"),
        ("check_cli_app:NOT_CALLABLE", "HANDLER: expected a function (event, context) or"),
    ],
)
def test_a_handler_it_cannot_load_exits_2(
    workdir: pathlib.Path, capsys: pytest.CaptureFixture[str], handler: str, message: str
) -> None:
    path = write(workdir, "t.json", template())
    code, _, err = run(["check", handler, "--template", path], capsys)
    assert code == 2
    assert err.startswith("streamflow check: error: " + message), err


def test_yaml_without_pyyaml_names_the_extra(workdir: pathlib.Path) -> None:
    path = write(workdir, "t.yaml", "Resources: {}\n")
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["yaml"] = None  # as if PyYAML were not installed
        from streamflow.cli import main
        sys.exit(main(["check", "check_cli_app:router", "--template", {path!r}]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=workdir, check=False
    )
    assert done.returncode == 2
    assert done.stderr == (
        f"streamflow check: error: --template: {path} is YAML, and reading YAML needs PyYAML: "
        "pip install 'streamflow-dynamodb[yaml]' (or give the template as JSON)\n"
    )


def test_the_source_is_required_and_single(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "app:router"]) == 2
    assert "one of the arguments --template --function-name is required" in capsys.readouterr().err
    assert main(["check", "app:router", "--template", "t", "--function-name", "f"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_the_command_is_registered() -> None:
    args = build_parser().parse_args(["check", "app:router", "--template", "t.yaml"])
    assert (args.command, args.handler, args.template, args.format) == (
        "check",
        "app:router",
        "t.yaml",
        "text",
    )


def test_python_m_streamflow_check(workdir: pathlib.Path) -> None:
    path = write(workdir, "t.json", template(Enabled=False))
    done = subprocess.run(
        [sys.executable, "-m", "streamflow", "check", "check_cli_app:router", "--template", path],
        capture_output=True,
        text=True,
        cwd=workdir,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Mapping: SF016 warning: the mapping is disabled")
    assert done.stderr == ""
