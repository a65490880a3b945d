"""``streamflow filter test`` and ``streamflow filter lint``: output and exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from streamflow.cli import build_parser, main


def record(name: str, pk: str, event_id: str, **image: Any) -> dict[str, Any]:
    dynamodb: dict[str, Any] = {"Keys": {"PK": {"S": pk}}, "SizeBytes": 10}
    if image:
        dynamodb["NewImage"] = {k: {"S": v} for k, v in image.items()}
    return {
        "eventID": event_id,
        "eventName": name,
        "eventSource": "aws:dynamodb",
        "dynamodb": dynamodb,
    }


EVENT = {
    "Records": [
        record("INSERT", "SCORE#1", "id-1", status="ACTIVE"),
        record("MODIFY", "USER#1", "id-2", status="INACTIVE"),
        record("REMOVE", "SCORE#2", "id-3"),
    ]
}
PATTERN = {
    "eventName": ["INSERT", "MODIFY"],
    "dynamodb": {"NewImage": {"status": {"S": ["ACTIVE"]}}},
}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    paths = {}
    for name, content in (("event", EVENT), ("pattern", PATTERN)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(content))
        paths[name] = str(path)
    return paths


def run(
    argv: list[str], capsys: pytest.CaptureFixture[str], stdin: str = ""
) -> tuple[int, str, str]:
    original = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        code = main(argv)
    finally:
        sys.stdin = original
    out, err = capsys.readouterr()
    return code, out, err


def test_filter_test_prints_each_record_and_why_it_was_dropped(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["filter", "test", files["pattern"], files["event"]], capsys)
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "kept     record 0  INSERT  eventID id-1"
    assert lines[1] == "dropped  record 1  MODIFY  eventID id-2"
    assert lines[2] == '         dynamodb.NewImage.status.S: "INACTIVE" does not match ["ACTIVE"]'
    assert lines[3] == "dropped  record 2  REMOVE  eventID id-3"
    assert lines[4] == '         eventName: "REMOVE" does not match ["INSERT", "MODIFY"]'
    assert lines[-1] == "1 of 3 records kept, 2 dropped"


def test_filter_test_exits_0_when_everything_is_kept(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        ["filter", "test", '{"eventSource": ["aws:dynamodb"]}', files["event"]], capsys
    )
    assert code == 0
    assert out.splitlines()[-1] == "3 of 3 records kept, 0 dropped"


def test_inline_patterns_and_stdin(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    inline = json.dumps(PATTERN)
    assert run(["filter", "test", inline, files["event"]], capsys)[0] == 1
    code, out, _ = run(["filter", "test", inline, "-"], capsys, stdin=json.dumps(EVENT))
    assert code == 1
    assert "1 of 3 records kept" in out
    code, out, _ = run(["filter", "test", "-", files["event"]], capsys, stdin=inline)
    assert "1 of 3 records kept" in out


def test_events_may_be_a_list_of_records_or_one_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    many = tmp_path / "many.json"
    many.write_text(json.dumps(EVENT["Records"]))
    single = tmp_path / "one.json"
    single.write_text(json.dumps(EVENT["Records"][0]))
    assert (
        "1 of 3 records kept" in run(["filter", "test", json.dumps(PATTERN), str(many)], capsys)[1]
    )
    code, out, _ = run(["filter", "test", json.dumps(PATTERN), str(single)], capsys)
    assert code == 0
    assert out.splitlines()[-1] == "1 of 1 record kept, 0 dropped"


def test_filter_criteria_are_accepted_and_each_filter_explained(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    criteria = {
        "Filters": [
            {"Pattern": '{"eventName": ["REMOVE"]}'},
            {"Pattern": '{"$or": [{"eventName": ["INSERT"]}, {"dynamodb": {"SizeBytes": [1]}}]}'},
        ]
    }
    code, out, _ = run(["filter", "test", json.dumps(criteria), files["event"]], capsys)
    assert code == 1
    assert '[filter 1] eventName: "MODIFY" does not match ["REMOVE"]' in out
    assert "[filter 2, $or alternative 2] dynamodb.SizeBytes: 10 does not match [1]" in out
    response = {"UUID": "u", "FilterCriteria": criteria}
    assert run(["filter", "test", json.dumps(response), files["event"]], capsys)[0] == 1


def test_a_pattern_on_a_field_named_filters_is_a_pattern(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps([{"Filters": "on"}, {"Filters": "off"}, {"FilterCriteria": 1}]))
    code, out, _ = run(["filter", "test", '{"Filters": ["on"]}', str(event)], capsys)
    assert (code, out.splitlines()[-1]) == (1, "1 of 3 records kept, 2 dropped")
    pattern = '{"Filters": [{"prefix": "o"}], "FilterCriteria": [1]}'
    code, out, _ = run(["filter", "test", pattern, str(event)], capsys)
    assert (code, out.splitlines()[-1]) == (1, "0 of 3 records kept, 3 dropped")
    assert "FilterCriteria: is missing" in out


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["filter", "test", "-", "-"], "{}", "only one"),
        (["filter", "test", "missing.json", "missing.json"], "", "cannot read PATTERN"),
        (["filter", "test", '{"a": ["x"]}', "missing.json"], "", "cannot read EVENT"),
        (["filter", "test", "{not json", "-"], "{}", "PATTERN is not valid JSON"),
        (["filter", "test", '{"a": ["x"]}', "-"], "[1,", "EVENT is not valid JSON"),
        (["filter", "test", '{"a": ["x"]}', "-"], '"text"', "EVENT must be"),
        (["filter", "test", '{"a": "x"}', "-"], "{}", "invalid filter pattern"),
        (["filter", "lint", '{"a": []}'], "", "invalid filter pattern"),
        (["filter", "lint", "-"], '{"Filters": [{"Pattern": "{}"}]}', "Filters[0].Pattern"),
    ],
)
def test_errors_exit_2_with_a_message(
    argv: list[str], stdin: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(argv, capsys, stdin=stdin)
    assert code == 2
    assert message in err
    assert err.startswith("streamflow: ")


DEEP = '{"a":' * 100_000 + "[1]" + "}" * 100_000


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["filter", "lint", "-"], DEEP, "PATTERN nests too deeply"),
        (["filter", "test", "-", "/nonexistent"], DEEP, "PATTERN nests too deeply"),
        (["filter", "test", '{"a": ["x"]}', "-"], DEEP, "EVENT nests too deeply"),
    ],
)
def test_json_too_deep_to_read_exits_2_not_1(
    argv: list[str], stdin: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # A traceback would exit 1, which means "records dropped" or "warnings found".
    code, _, err = run(argv, capsys, stdin=stdin)
    assert code == 2
    assert message in err


def test_usage_errors_exit_2_and_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert run([], capsys)[0] == 2
    assert run(["filter"], capsys)[0] == 2
    assert run(["filter", "test", "only-one"], capsys)[0] == 2
    assert run(["filter", "lint", "p", "--view-type", "NEW"], capsys)[0] == 2
    code, out, _ = run(["filter", "test", "--help"], capsys)
    assert code == 0
    assert "Exit 0 if all are kept" in " ".join(out.split())
    code, out, _ = run(["--version"], capsys)
    assert code == 0
    assert out.startswith("streamflow ")


def test_filter_lint_prints_warnings_with_fixes(capsys: pytest.CaptureFixture[str]) -> None:
    pattern = {"dynamodb": {"NewImage": {"Score": {"N": [30]}, "status": ["x"]}}}
    code, out, _ = run(["filter", "lint", json.dumps(pattern)], capsys)
    assert code == 1
    assert "dynamodb.NewImage.Score.N: error: N values are text" in out
    assert "  fix: Filter.new_image('Score', 30, type='N')" in out
    assert "  fix: Filter.new_image('status', 'x')" in out
    assert out.splitlines()[-1] == "2 warnings"


def test_filter_lint_checks_the_view_type(capsys: pytest.CaptureFixture[str]) -> None:
    pattern = json.dumps({"dynamodb": {"OldImage": {"a": {"S": ["x"]}}}})
    assert run(["filter", "lint", pattern], capsys)[:2] == (0, "0 warnings\n")
    code, out, _ = run(["filter", "lint", pattern, "--view-type", "NEW_IMAGE"], capsys)
    assert code == 1
    assert "NEW_IMAGE stream delivers no OldImage" in out
    assert out.splitlines()[-1] == "1 warning"


def test_filter_lint_notes_more_than_five_filters(capsys: pytest.CaptureFixture[str]) -> None:
    criteria = {"Filters": [{"Pattern": f'{{"eventID": ["{i}"]}}'} for i in range(7)]}
    code, out, _ = run(["filter", "lint", json.dumps(criteria)], capsys)
    assert code == 0
    assert "note: 7 filters" in out


def test_the_parser_is_built_for_more_commands() -> None:
    parser = build_parser()
    args = parser.parse_args(["filter", "test", "p", "e"])
    assert (args.command, args.action, args.pattern, args.event) == ("filter", "test", "p", "e")


def test_the_console_script_runs(files: dict[str, str]) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "streamflow.cli",
            "filter",
            "test",
            files["pattern"],
            files["event"],
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout.splitlines()[-1] == "1 of 3 records kept, 2 dropped"


def test_an_indented_pattern_file_counts_4096_on_its_compact_form(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 3536 characters compact (what to_boto3(), CDK and SAM send), 6339 indented: AWS
    # accepts it, so the CLI must not call it "a pattern AWS rejects".
    values = [f"SCORE#{i:05d}" for i in range(250)]
    pattern = {"dynamodb": {"Keys": {"PK": {"S": values}}}, "eventName": ["INSERT", "MODIFY"]}
    path = tmp_path / "pattern.json"
    path.write_text(json.dumps(pattern, indent=2))
    code, out, err = run(["filter", "lint", str(path)], capsys)
    assert (code, out, err) == (0, "0 warnings\n", "")
    event = tmp_path / "event.json"
    event.write_text(json.dumps(EVENT))
    code, out, _ = run(["filter", "test", str(path), str(event)], capsys)
    assert code == 1
    assert out.splitlines()[-1] == "0 of 3 records kept, 3 dropped"
    # Spaces inside strings are kept; duplicate keys still follow AWS (the last one wins).
    spaced = '{ "eventName" : ["IN SERT"],\n  "eventName": [ "INSERT" ] }'
    code, out, _ = run(["filter", "test", spaced, str(event)], capsys)
    assert out.splitlines()[-1] == "1 of 3 records kept, 2 dropped"
    # Over 4096 even when compact: still refused. A Pattern string counts as written.
    path.write_text(json.dumps({"a": [f"{i:09d}" for i in range(400)]}, indent=1))
    code, _, err = run(["filter", "lint", str(path)], capsys)
    assert code == 2
    assert "AWS allows at most 4096" in err
    criteria = {"Filters": [{"Pattern": json.dumps(pattern, indent=2)}]}
    code, _, err = run(["filter", "lint", json.dumps(criteria)], capsys)
    assert code == 2
    assert "Filters[0].Pattern" in err


def test_filter_lint_names_the_filter_and_the_severity_of_each_finding(
    capsys: pytest.CaptureFixture[str],
) -> None:
    never = '{"dynamodb": {"NewImage": {"Score": {"N": [30]}}}}'
    suspicious = '{"dynamodb": {"NewImage": {"name": {"S": [{"wildcard": "a*"}]}}}}'
    criteria = {"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}]}
    criteria["Filters"] += [{"Pattern": never}, {"Pattern": suspicious}, {"Pattern": never}]
    code, out, _ = run(["filter", "lint", json.dumps(criteria)], capsys)
    assert code == 1
    lines = [line for line in out.splitlines() if not line.startswith("  fix:")]
    assert lines[0].startswith("[filter 2] dynamodb.NewImage.Score.N: error: N values are text")
    assert lines[1].startswith("[filter 3] dynamodb.NewImage.name.S: warning: wildcard is")
    assert lines[2].startswith("[filter 4] dynamodb.NewImage.Score.N: error: N values are text")
    # One pattern: nothing to tell apart, no label.
    code, out, _ = run(["filter", "lint", never], capsys)
    assert out.startswith("dynamodb.NewImage.Score.N: error: ")


def test_the_notes_filter_test_writes_for_rules_that_never_match() -> None:
    from streamflow.filters import Filter, FilterCriteria
    from streamflow.filters._document import never_matching_notes

    assert never_matching_notes(FilterCriteria(Filter.insert())) == []
    amount = {"amount": {"N": [{"numeric": [">", 5]}]}}
    bad = Filter.from_pattern({"dynamodb": {"NewImage": amount}})
    notes = never_matching_notes(FilterCriteria(Filter.insert(), bad))
    assert notes[0].startswith("streamflow: [filter 2] dynamodb.NewImage.amount.N: error: ")
    assert "\n  fix: no pattern can compare N values numerically" in notes[0]
    assert "refused" in notes[-1]
    warned = Filter.from_pattern({"tableName": ["scores"]})  # a warning only: no note
    assert never_matching_notes(FilterCriteria(warned)) == []


def test_filter_test_evaluates_a_never_matching_pattern_and_says_so_on_stderr(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    pattern = {"eventName": ["insert"]}
    code, out, err = run(["filter", "test", json.dumps(pattern), files["event"]], capsys)
    assert code == 1  # evaluated as Lambda would: every record dropped
    assert out.splitlines()[-1] == "0 of 3 records kept, 3 dropped"
    assert "streamflow: eventName: error: eventName is never 'insert'" in err
    assert "  fix: Filter.insert()" in err
    code, out, err = run(["filter", "test", json.dumps(PATTERN), files["event"]], capsys)
    assert err == ""
