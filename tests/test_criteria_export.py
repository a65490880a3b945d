"""``streamflow criteria``: each format read back by its own tool gives the same patterns.

CloudFormation and SAM through cfn-lint (and its template reader), Terraform through
python-hcl2, CDK by one offline synth of a tiny app, Serverless through PyYAML, JSON through
``FilterCriteria.from_boto3``. docs/deploying-filters.md shows the command's real output.
"""

from __future__ import annotations

import itertools
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import types
from typing import Any

import pytest

from streamflow import Router, StreamRecord
from streamflow.cli import main
from streamflow.filters import Filter, FilterCriteria, anything_but, numeric, prefix
from streamflow.filters._export import FORMATS, export_criteria

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOC = ROOT / "docs/deploying-filters.md"

# Each one sets a trap for some tool: numbers as DynamoDB text ("30", a YAML number if
# unquoted), the YAML 1.1 booleans N and on, $or and anything-but as HCL keys, ${ and %{ (HCL
# templates), quotes, backslashes, a newline, non-ASCII and astral characters, null and
# booleans, a float YAML 1.1 reads as text unless written 1.0e-07, an integer JavaScript
# rounds, and a pattern whose key order decides which rule AWS keeps.
TRICKY = FilterCriteria(
    Filter.insert().key("PK", prefix("SCORE#")).new_image("points", 30),
    Filter.remove().exclude_ttl_deletes().where("dynamodb.SizeBytes", numeric(">", 1e-7)),
    Filter.from_pattern(
        {
            "on": ["x${y}%{z}\"'\\ä😀\n\t\u2028"],
            "$or": [
                {"b": [None, True, False, -3, 0.5]},
                {"c": [12345678901234567890, 1e20]},
            ],
            "d": [{"anything-but": ["N", "yes"]}],
        }
    ),
    Filter.from_pattern({"a.b": ["x"], "a": {"b": ["y"]}}),
    Filter.modify().new_image("status", anything_but("gone")),
    max_filters=10,
)
PLAIN = FilterCriteria(Filter.insert().key("PK", prefix("SCORE#")), Filter.remove())
CASES = {
    "tricky": TRICKY,
    "plain": PLAIN,
    "kinesis": PLAIN.for_kinesis(),
    "kinesis-tricky": FilterCriteria(*TRICKY.filters[:3]).for_kinesis(),
}
STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/scores/stream/2024-01-01T00:00:00.000"
KINESIS_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/changes"


def same(patterns: list[Any], criteria: FilterCriteria) -> None:
    """The patterns read back are the criteria's, in order (key order counts where AWS
    counts it: ``Filter`` equality)."""
    assert [Filter.from_pattern(p) for p in patterns] == list(criteria.filters)


def _source(case: str) -> str:
    return "kinesis" if case.startswith("kinesis") else "dynamodb"


def _indent(text: str, spaces: int) -> str:
    return "".join(" " * spaces + line if line.strip() else line for line in text.splitlines(True))


# JSON
@pytest.mark.parametrize("case", CASES)
def test_json_is_the_boto3_and_cloudformation_shape(case: str) -> None:
    criteria = CASES[case]
    text = export_criteria(criteria, "json")
    assert FilterCriteria.from_boto3(json.loads(text), max_filters=10) == criteria
    assert json.loads(text) == criteria.to_cloudformation()


# CloudFormation and SAM, through cfn-lint
def _cfn_template(fragment: str, *, sam: bool, kinesis: bool) -> str:
    arn = KINESIS_ARN if kinesis else STREAM_ARN
    if sam:
        return (
            'AWSTemplateFormatVersion: "2010-09-09"\n'
            "Transform: AWS::Serverless-2016-10-31\n"
            "Resources:\n"
            "  Fn:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Runtime: python3.12\n"
            "      Handler: app.handler\n"
            '      InlineCode: "def handler(event, context): pass"\n'
            "      Events:\n"
            "        Changes:\n"
            f"          Type: {'Kinesis' if kinesis else 'DynamoDB'}\n"
            "          Properties:\n"
            f"            Stream: {arn}\n"
            "            StartingPosition: LATEST\n" + _indent(fragment, 12)
        )
    return (
        'AWSTemplateFormatVersion: "2010-09-09"\n'
        "Resources:\n"
        "  Mapping:\n"
        "    Type: AWS::Lambda::EventSourceMapping\n"
        "    Properties:\n"
        "      FunctionName: scores\n"
        f"      EventSourceArn: {arn}\n"
        "      StartingPosition: LATEST\n" + _indent(fragment, 6)
    )


def _lint(template: str) -> dict[str, Any]:
    pytest.importorskip("cfnlint", reason="the deploy extra (cfn-lint) is not installed")
    from cfnlint.api import lint
    from cfnlint.decode import decode_str

    matches = lint(template, regions=["us-east-1"])
    assert [str(m) for m in matches] == [], template
    parsed, errors = decode_str(template)
    assert not errors
    assert parsed is not None
    return dict(parsed)


def _cfn_filters(template: dict[str, Any], sam: bool) -> Any:
    if sam:
        return template["Resources"]["Fn"]["Properties"]["Events"]["Changes"]["Properties"]
    return template["Resources"]["Mapping"]["Properties"]


@pytest.mark.parametrize("fmt", ["cloudformation", "sam"])
@pytest.mark.parametrize("case", CASES)
def test_cloudformation_and_sam_pass_cfn_lint_and_read_back(fmt: str, case: str) -> None:
    criteria, sam = CASES[case], fmt == "sam"
    text = export_criteria(criteria, fmt, source=_source(case), origin="app:router")
    template = _lint(_cfn_template(text, sam=sam, kinesis=_source(case) == "kinesis"))
    filters = _cfn_filters(template, sam)["FilterCriteria"]["Filters"]
    same([json.loads(f["Pattern"]) for f in filters], criteria)
    assert [f["Pattern"] for f in filters] == [f.to_json() for f in criteria.filters]


def test_a_json_template_takes_the_json_format() -> None:
    fragment = json.loads(export_criteria(TRICKY, "json"))
    template = json.loads(json.dumps(json.loads(_json_template())))
    template["Resources"]["Mapping"]["Properties"]["FilterCriteria"] = fragment
    parsed = _lint(json.dumps(template, indent=2, ensure_ascii=False))
    filters = parsed["Resources"]["Mapping"]["Properties"]["FilterCriteria"]["Filters"]
    same([json.loads(f["Pattern"]) for f in filters], TRICKY)


def _json_template() -> str:
    return json.dumps(
        {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Resources": {
                "Mapping": {
                    "Type": "AWS::Lambda::EventSourceMapping",
                    "Properties": {
                        "FunctionName": "scores",
                        "EventSourceArn": STREAM_ARN,
                        "StartingPosition": "LATEST",
                    },
                }
            },
        }
    )


@pytest.mark.parametrize("fmt", ["cloudformation", "sam"])
def test_no_filters_is_an_empty_property_cfn_lint_accepts(fmt: str) -> None:
    text = export_criteria(FilterCriteria(), fmt)
    assert text.endswith("FilterCriteria: {}\n")
    assert "no filters" in text
    template = _lint(_cfn_template(text, sam=fmt == "sam", kinesis=False))
    assert _cfn_filters(template, fmt == "sam")["FilterCriteria"] == {}


def test_cfn_lint_does_catch_a_broken_filter_criteria() -> None:
    """The read-back can fail: cfn-lint refuses a misspelt property and an empty list."""
    broken = "FilterCriteria:\n  Filters:\n    - Patern: '{}'\n"
    pytest.importorskip("cfnlint", reason="the deploy extra (cfn-lint) is not installed")
    from cfnlint.api import lint

    template = _cfn_template(broken, sam=False, kinesis=False)
    assert any("Patern" in str(m) for m in lint(template, regions=["us-east-1"]))
    empty = _cfn_template("FilterCriteria:\n  Filters: []\n", sam=False, kinesis=False)
    assert lint(empty, regions=["us-east-1"])


# Terraform, through python-hcl2
def _hcl_literal(text: str) -> str:
    """An HCL string as Terraform reads it. python-hcl2 decodes escapes such as ``\\n`` but
    leaves the template escapes ``$${`` and ``%%{``: an undoubled ``${`` or ``%{`` would be
    an interpolation, so there must be none; the doubled ones are a literal ``${``, ``%{``."""
    assert re.search(r"[$%]\{", re.sub(r"([$%])\1\{", "", text)) is None, text
    return text.replace("$${", "${").replace("%%{", "%{")


def _hcl_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {_hcl_literal(k): _hcl_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hcl_value(v) for v in value]
    if isinstance(value, str):
        return _hcl_literal(value)
    return value


def _terraform_patterns(text: str) -> list[Any]:
    hcl2 = pytest.importorskip("hcl2", reason="the dev extra (python-hcl2) is not installed")
    options = hcl2.SerializationOptions(
        with_comments=False,
        explicit_blocks=False,
        strip_string_quotes=True,
        preserve_scientific_notation=False,
    )
    resource = (
        'resource "aws_lambda_event_source_mapping" "scores" {\n'
        f'  event_source_arn  = "{STREAM_ARN}"\n'
        '  function_name     = "scores"\n'
        '  starting_position = "LATEST"\n' + _indent(text, 2) + "}\n"
    )
    parsed = hcl2.loads(resource, serialization_options=options)
    [mapping] = parsed["resource"]
    [block] = mapping["aws_lambda_event_source_mapping"]["scores"]["filter_criteria"]
    patterns = []
    for item in block["filter"]:
        expression = item["pattern"]
        call = re.fullmatch(r"\$\{jsonencode\((.*)\)\}", expression, re.DOTALL)
        if call is None:  # the pattern as JSON text
            patterns.append(json.loads(_hcl_literal(expression)))
            continue
        # python-hcl2 keeps a function call's argument as text: read it as a value
        value = hcl2.loads(f"value = {call[1]}\n", serialization_options=options)["value"]
        patterns.append(_hcl_value(value))
    return patterns


@pytest.mark.parametrize("case", CASES)
def test_terraform_parses_to_the_same_patterns(case: str) -> None:
    criteria = CASES[case]
    text = export_criteria(criteria, "terraform", source=_source(case))
    same(_terraform_patterns(text), criteria)


def test_terraform_keeps_an_order_that_matters_as_json_text() -> None:
    """jsonencode sorts keys; where their order decides which rule AWS keeps, the pattern is
    written as its JSON text (with ${ escaped), which Terraform passes on as it is."""
    order_matters = TRICKY.filters[3]
    text = export_criteria(FilterCriteria(order_matters), "terraform")
    assert "jsonencode(" not in text
    [pattern] = _terraform_patterns(text)
    assert list(pattern) == ["a.b", "a"]
    escaped = export_criteria(FilterCriteria(TRICKY.filters[2]), "terraform")
    assert '"x$${y}%%{z}' in escaped
    assert '"$or" = ' in escaped
    assert '"anything-but" = ' in escaped


def test_terraform_without_filters_has_no_block() -> None:
    text = export_criteria(FilterCriteria(), "terraform")
    assert "filter_criteria" not in text.replace("no filter_criteria", "")
    assert _terraform_patterns_or_none(text) is None


def _terraform_patterns_or_none(text: str) -> Any:
    hcl2 = pytest.importorskip("hcl2", reason="the dev extra (python-hcl2) is not installed")
    parsed = hcl2.loads(text)
    return parsed.get("filter_criteria")


# Serverless, through PyYAML
def _serverless_patterns(text: str, kinesis: bool) -> Any:
    import yaml

    document = (
        "service: scores\n"
        "functions:\n"
        "  scores:\n"
        "    handler: app.handler\n"
        "    events:\n"
        "      - stream:\n"
        f"          type: {'kinesis' if kinesis else 'dynamodb'}\n"
        f"          arn: {KINESIS_ARN if kinesis else STREAM_ARN}\n" + _indent(text, 10)
    )
    parsed = yaml.safe_load(document)
    return parsed["functions"]["scores"]["events"][0]["stream"].get("filterPatterns")


@pytest.mark.parametrize("case", CASES)
def test_serverless_parses_to_the_same_patterns(case: str) -> None:
    criteria = CASES[case]
    text = export_criteria(criteria, "serverless", source=_source(case))
    patterns = _serverless_patterns(text, _source(case) == "kinesis")
    assert isinstance(patterns, list)
    assert all(isinstance(p, dict) for p in patterns)  # objects, never JSON text
    same(patterns, criteria)
    # Serverless writes each pattern with JSON.stringify, which keeps the keys' order.
    assert [json.dumps(p, ensure_ascii=False, separators=(",", ":")) for p in patterns] == [
        f.to_json() for f in criteria.filters
    ]


def test_serverless_quotes_what_yaml_would_turn_into_numbers_or_booleans() -> None:
    text = export_criteria(TRICKY, "serverless")
    assert '"N": ["30"]' in text
    assert '"on": ' in text
    assert "1.0e-07" in text
    assert "Node's JSON.stringify may round" in text  # the integer beyond 2**53


def test_serverless_without_filters_has_no_filter_patterns() -> None:
    text = export_criteria(FilterCriteria(), "serverless")
    assert _serverless_patterns(text, False) is None
    assert "no filters" in text


# CDK, one offline synth for the module
@pytest.fixture(scope="module")
def cdk_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    pytest.importorskip("aws_cdk", reason="the deploy extra (aws-cdk-lib) is not installed")
    if shutil.which("node") is None:
        pytest.skip("AWS CDK needs Node.js")
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    import aws_cdk as cdk
    from aws_cdk import aws_dynamodb as dynamodb
    from aws_cdk import aws_kinesis as kinesis
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk.aws_lambda_event_sources import DynamoEventSource, KinesisEventSource

    out = tmp_path_factory.mktemp("cdk.out")
    app = cdk.App(outdir=str(out))
    stack = cdk.Stack(app, "Criteria")
    table = dynamodb.Table(
        stack,
        "Table",
        partition_key=dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING),
        stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    )
    stream = kinesis.Stream(stack, "Changes")
    for index, (case, criteria) in enumerate(CASES.items()):
        function = lambda_.Function(
            stack,
            f"Case{index}Fn",
            runtime=lambda_.Runtime.PYTHON_3_12,
            handler="index.handler",
            code=lambda_.Code.from_inline("def handler(event, context): pass"),
        )
        text = export_criteria(criteria, "cdk", source=_source(case))
        namespace: dict[str, Any] = {}
        exec(compile(text, f"<criteria --format cdk: {case}>", "exec"), namespace)
        if _source(case) == "kinesis":
            source: Any = KinesisEventSource(
                stream,
                starting_position=lambda_.StartingPosition.LATEST,
                filters=namespace["filters"],
            )
        else:
            source = DynamoEventSource(
                table,
                starting_position=lambda_.StartingPosition.LATEST,
                filters=namespace["filters"],
            )
        function.add_event_source(source)
    # The traps docs/deploying-filters.md describes, synthesised beside them.
    traps = {
        "rounded": lambda_.FilterCriteria.filter(
            {"dynamodb": {"SizeBytes": [12345678901234567891]}}
        ),
        "is_equal": lambda_.FilterCriteria.filter(
            {"dynamodb": {"NewImage": {"n": {"N": lambda_.FilterRule.is_equal(5)}}}}
        ),
        "null": lambda_.FilterCriteria.filter({"a": lambda_.FilterRule.null()}),
    }
    for name, trap in traps.items():
        lambda_.Function(
            stack,
            f"Trap-{name}",
            runtime=lambda_.Runtime.PYTHON_3_12,
            handler="index.handler",
            code=lambda_.Code.from_inline("def handler(event, context): pass"),
        ).add_event_source(
            DynamoEventSource(
                table, starting_position=lambda_.StartingPosition.LATEST, filters=[trap]
            )
        )
    app.synth()
    return dict(json.loads((out / "Criteria.template.json").read_text()))


def _cdk_patterns(template: dict[str, Any], function_prefix: str) -> list[str]:
    functions = {
        name
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function" and name.startswith(function_prefix)
    }
    [mapping] = [
        resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::EventSourceMapping"
        and resource["Properties"]["FunctionName"]["Ref"] in functions
    ]
    return [f["Pattern"] for f in mapping.get("FilterCriteria", {}).get("Filters", [])]


@pytest.mark.parametrize("case", CASES)
def test_cdk_code_synthesises_to_the_same_patterns(cdk_template: dict[str, Any], case: str) -> None:
    criteria = CASES[case]
    patterns = _cdk_patterns(cdk_template, f"Case{list(CASES).index(case)}Fn")
    same([json.loads(p) for p in patterns], criteria)


def test_the_cdk_traps_are_real(cdk_template: dict[str, Any]) -> None:
    [rounded] = _cdk_patterns(cdk_template, "Traprounded")
    assert "12345678901234567891" not in rounded  # JavaScript's numbers are doubles
    [is_equal] = _cdk_patterns(cdk_template, "Trapisequal")
    assert json.loads(is_equal)["dynamodb"]["NewImage"]["n"]["N"] == [{"numeric": ["=", 5]}]
    [null] = _cdk_patterns(cdk_template, "Trapnull")
    assert json.loads(null) == {"a": [None]}  # [] (refused by AWS) before aws-cdk#31701


def test_cdk_code_is_python_ruff_formats_alike() -> None:
    text = export_criteria(PLAIN, "cdk")
    compile(text, "<cdk>", "exec")
    assert "lambda_.FilterCriteria.filter(" in text
    assert "DynamoEventSource(table" in text
    empty: dict[str, Any] = {}
    exec(export_criteria(FilterCriteria(), "cdk"), empty)
    assert empty["filters"] == []


# The command
@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType("criteria_app")
    router = Router()
    router.on(Filter.insert().key("PK", prefix("SCORE#")), name="scores")(_handle)
    router.on(Filter.remove(), name="removals")(_handle)
    everything = Router()
    everything.on(Filter.insert(), name="inserts")(_handle)
    everything.on(FilterCriteria(), name="all")(_handle)
    module.__dict__.update(router=router, everything=everything, plain=_plain, empty=Router())
    monkeypatch.setitem(sys.modules, "criteria_app", module)
    return module


def _handle(record: StreamRecord) -> None:
    pass


def _plain(event: Any, context: Any) -> None:
    pass


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["criteria", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("source", ["dynamodb", "kinesis"])
def test_the_command_prints_the_routers_criteria(
    app: types.ModuleType, capsys: pytest.CaptureFixture[str], fmt: str, source: str
) -> None:
    code, out, err = _run(capsys, "criteria_app:router", "--format", fmt, "--source", source)
    assert (code, err) == (0, "")
    expected = app.router.filter_criteria(source=source)
    assert out == export_criteria(expected, fmt, source=source, origin="criteria_app:router")


def test_json_is_the_default(app: types.ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "criteria_app:router")
    assert code == 0
    assert FilterCriteria.from_boto3(json.loads(out)) == app.router.filter_criteria()


def test_filter_files_replace_the_routers_filters(
    app: types.ModuleType, capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    one = tmp_path / "one.json"
    one.write_text('{"eventName": ["MODIFY"]}')
    two = tmp_path / "two.json"
    two.write_text(json.dumps(FilterCriteria(Filter.remove()).to_boto3()))
    for handler in ("criteria_app:router", "criteria_app:plain"):
        argv = [handler, "--filter", str(one), "--filter", str(two), "--source", "kinesis"]
        code, out, _ = _run(capsys, *argv)
        assert code == 0
        expected = FilterCriteria(Filter.modify(), Filter.remove()).for_kinesis()
        assert FilterCriteria.from_boto3(json.loads(out)) == expected


def test_a_catch_all_route_means_no_filters(
    app: types.ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "criteria_app:everything", "--format", "cloudformation")
    assert code == 0
    assert "no filters" in out
    assert out.endswith("FilterCriteria: {}\n")
    code, out, err = _run(capsys, "criteria_app:everything")
    assert (code, out) == (0, "{}\n")
    assert "no filters" in err


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["criteria_app:plain"], "--filter"),
        (["criteria_app:missing"], "HANDLER"),
        (["no_such_module_here:router"], "HANDLER"),
        (["criteria_app:empty"], "HANDLER"),
        (["criteria_app:router", "--filter", "/no/such/file.json"], "--filter"),
        (["criteria_app:router", "--format", "pulumi"], "--format"),
        (["criteria_app:router", "--max-filters", "7"], "--max-filters"),
        (["criteria_app:router", "--source", "sqs"], "--source"),
    ],
)
def test_usage_errors_exit_2_naming_the_option(
    app: types.ModuleType, capsys: pytest.CaptureFixture[str], argv: list[str], names: str
) -> None:
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert names in err


def test_an_invalid_or_never_matching_filter_file_exits_2(
    app: types.ModuleType, capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    invalid = tmp_path / "invalid.json"
    invalid.write_text('{"eventName": "INSERT"}')
    never = tmp_path / "never.json"
    never.write_text('{"dynamodb": {"NewImage": {"n": {"N": [{"numeric": [">", 1]}]}}}}')
    absent = tmp_path / "absent.json"
    absent.write_text('{"eventSourceARN": [{"prefix": "arn:"}]}')
    for path, source in ((invalid, "dynamodb"), (never, "dynamodb"), (absent, "kinesis")):
        code, out, err = _run(
            capsys, "criteria_app:plain", "--filter", str(path), "--source", source
        )
        assert (code, out) == (2, "")
        assert "--filter" in err


def test_too_many_filters_for_the_quota(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    module = types.ModuleType("criteria_many")
    router = Router()
    for number in range(7):
        router.on(Filter.new_image(f"field{number}", "x"), name=f"route{number}")(_handle)
    module.__dict__["router"] = router
    monkeypatch.setitem(sys.modules, "criteria_many", module)
    code, _, err = _run(capsys, "criteria_many:router")
    assert code == 2
    assert "HANDLER" in err
    assert "max_filters=10" in err
    code, out, _ = _run(capsys, "criteria_many:router", "--max-filters", "10")
    assert code == 0
    assert len(json.loads(out)["Filters"]) == 7


def test_importing_streamflow_loads_no_export_code() -> None:
    code = "import sys, streamflow; print('streamflow.filters._export' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


# The docs page shows the command's real output
def _doc_blocks() -> list[tuple[str, str]]:
    text = DOC.read_text(encoding="utf-8")
    return re.findall(r"^```(\w+)\n(.*?)^```", text, re.DOTALL | re.MULTILINE)


def test_the_docs_page_shows_what_the_command_prints(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    blocks = _doc_blocks()
    [(_, code)] = [(lang, body) for lang, body in blocks if lang == "python" and "router" in body]
    module = types.ModuleType("app")
    exec(compile(code, str(DOC), "exec"), module.__dict__)
    monkeypatch.setitem(sys.modules, "app", module)
    shown = 0
    for (lang, body), (shown_as, output) in itertools.pairwise(blocks):
        if lang != "shell" or shown_as not in ("yaml", "json", "py", "hcl"):
            continue  # a command shown without its output
        argv = body.strip().split()[1:]
        assert main(argv) == 0, body
        assert capsys.readouterr().out == output, body
        shown += 1
    assert shown == len(FORMATS) + 1  # every format, and one Kinesis example
