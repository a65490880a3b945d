"""The score pipeline's CDK app synthesises offline, and its template is what we mean."""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import shutil
import subprocess
import sys
from typing import Any

import pytest

pytest.importorskip("aws_cdk", reason="the deploy extra (aws-cdk-lib) is not installed")

from streamflow.recipes.scores import score_filter

APP = pathlib.Path(__file__).resolve().parent.parent / "examples/score_pipeline/infra/app.py"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], pathlib.Path]:
    if shutil.which("node") is None:
        pytest.skip("AWS CDK needs Node.js")
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    out = tmp_path_factory.mktemp("cdk.out")
    spec = importlib.util.spec_from_file_location("score_infra", APP)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build_app(outdir=str(out)).synth()
    path = out / "ScorePipeline.template.json"
    return json.loads(path.read_text()), path


def resources(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == kind]


def test_table_has_keys_stream_and_ttl(template: tuple[dict[str, Any], pathlib.Path]) -> None:
    [table] = resources(template[0], "AWS::DynamoDB::Table")
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {
        "PK": "HASH",
        "SK": "RANGE",
    }
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}


def test_mapping_carries_the_routers_filters(
    template: tuple[dict[str, Any], pathlib.Path],
) -> None:
    [mapping] = resources(template[0], "AWS::Lambda::EventSourceMapping")
    patterns = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    assert patterns == [score_filter().pattern]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == 10
    assert mapping["MaximumRecordAgeInSeconds"] == 86400
    assert mapping["BatchSize"] == 100
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert "OnFailure" in mapping["DestinationConfig"]


def test_least_privilege(template: tuple[dict[str, Any], pathlib.Path]) -> None:
    actions: set[str] = set()
    for policy in resources(template[0], "AWS::IAM::Policy"):
        for statement in policy["PolicyDocument"]["Statement"]:
            listed = statement["Action"]
            actions.update([listed] if isinstance(listed, str) else listed)
    assert not any(a.endswith(":*") or a == "*" for a in actions), actions
    assert {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchGetItem"} <= actions
    assert "dynamodb:DeleteItem" not in actions


def test_the_processors_per_invocation_log_line_reaches_cloudwatch(
    template: tuple[dict[str, Any], pathlib.Path],
) -> None:
    # The router logs its summary at INFO; Lambda's Python runtime only lowers the root
    # logger below WARNING when the function has the JSON log format and a log level.
    [processor] = [
        f
        for f in resources(template[0], "AWS::Lambda::Function")
        if f["Handler"] == "process.handler"
    ]
    config = processor.get("LoggingConfig", {})
    assert config.get("LogFormat") == "JSON"
    assert config.get("ApplicationLogLevel") in ("INFO", "DEBUG", "TRACE")


def test_api_has_post_scores(template: tuple[dict[str, Any], pathlib.Path]) -> None:
    paths = {r["PathPart"] for r in resources(template[0], "AWS::ApiGateway::Resource")}
    methods = {m["HttpMethod"] for m in resources(template[0], "AWS::ApiGateway::Method")}
    assert paths == {"scores"}
    assert "POST" in methods


def _cfn_lint(path: pathlib.Path) -> subprocess.CompletedProcess[str]:
    command = pathlib.Path(sys.executable).with_name("cfn-lint")
    return subprocess.run(
        [str(command), "--format", "parseable", str(path)], capture_output=True, text=True
    )


def test_cfn_lint_reports_no_errors(
    template: tuple[dict[str, Any], pathlib.Path], tmp_path: pathlib.Path
) -> None:
    result = _cfn_lint(template[1])
    assert result.returncode & 2 == 0, result.stdout  # bit 2: errors (4: warnings)
    assert ":E" not in result.stdout
    broken = tmp_path / "broken.json"  # the check can fail: a template with an error
    broken.write_text(json.dumps({"Resources": {"X": {"Type": "AWS::Nope::Thing"}}}))
    assert _cfn_lint(broken).returncode & 2


def test_functions_code_is_built_with_streamflow_and_imports_alone(
    template: tuple[dict[str, Any], pathlib.Path],
) -> None:
    functions = resources(template[0], "AWS::Lambda::Function")
    assert sorted(f["Handler"] for f in functions) == ["process.handler", "submit.handler"]
    [key] = {f["Code"]["S3Key"] for f in functions}  # one asset for both functions
    asset = template[1].parent / f"asset.{key.removesuffix('.zip')}"
    names = {p.name for p in asset.iterdir()}
    assert names == {"process.py", "submit.py", "streamflow", "typing_extensions.py"}
    assert not list(asset.rglob("__pycache__"))
    # What Lambda does with /var/task: import each handler with nothing but the asset on the
    # path (no site-packages, so the library comes from the asset or not at all).
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); import process, submit, streamflow; "
        "assert streamflow.__file__.startswith(sys.argv[1]), streamflow.__file__; "
        "assert callable(process.handler) and callable(submit.handler); print('ok')"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", probe, str(asset)],
        capture_output=True,
        text=True,
        env={"TABLE_NAME": "scores", "PATH": os.environ.get("PATH", "")},
        timeout=60,
        check=False,
    )
    assert done.stdout.strip() == "ok", done.stderr
