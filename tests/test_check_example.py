"""``streamflow check`` on the score pipeline's CDK app, synthesized offline once for this
module by test_example_infra's fixture: the deployment is clean, and a drifted copy is not."""

from __future__ import annotations

import copy
import importlib.util
import json
import pathlib
from typing import Any

import pytest

from streamflow import Router
from streamflow.check import check
from streamflow.cli import main
from streamflow.errors import CheckError
from tests.test_example_infra import template  # the synthesized template (aws_cdk or skip)

HANDLERS = pathlib.Path(__file__).resolve().parent.parent / "examples/score_pipeline/handlers"

Synthesized = tuple[dict[str, Any], pathlib.Path]

__all__ = ["template"]  # the fixture, used by name below


@pytest.fixture
def processor(monkeypatch: pytest.MonkeyPatch) -> Router:
    """The processor's router, imported from its module as Lambda would."""
    monkeypatch.setenv("TABLE_NAME", "scores")
    spec = importlib.util.spec_from_file_location("score_processor_check", HANDLERS / "process.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built: Router = module.router
    return built


def test_the_score_pipeline_deployment_is_clean(template: Synthesized, processor: Router) -> None:
    parsed, path = template
    assert check(processor, template=path.parent) == []  # cdk.out
    assert check(processor, template=path) == []
    assert check(processor, template=parsed) == []


def test_the_command_passes_on_cdk_out(
    template: Synthesized,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TABLE_NAME", "scores")
    monkeypatch.syspath_prepend(str(HANDLERS))
    code = main(["check", "process:router", "--template", str(template[1].parent)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("no findings (1 mapping checked: ProcessorDynamoDBEventSource")


def test_a_drifted_copy_of_it_is_caught(template: Synthesized, processor: Router) -> None:
    drifted = copy.deepcopy(template[0])
    [properties] = [
        resource["Properties"]
        for resource in drifted["Resources"].values()
        if resource["Type"] == "AWS::Lambda::EventSourceMapping"
    ]
    del properties["FunctionResponseTypes"]
    properties["FilterCriteria"]["Filters"][0]["Pattern"] = json.dumps(
        {"eventName": ["INSERT"], "dynamodb": {"Keys": {"PK": {"S": [{"prefix": "SCORE#"}]}}}}
    )
    found = check(processor, template=drifted)
    assert [f.code for f in found] == ["SF001", "SF002"]
    assert "route 'scores' never receives its records" in found[1].message


def test_several_stacks_prefix_their_ids(
    template: Synthesized, tmp_path: pathlib.Path, processor: Router
) -> None:
    both = tmp_path / "cdk.out"
    both.mkdir()
    text = template[1].read_text()
    (both / "ScorePipeline.template.json").write_text(text)
    (both / "Copy.template.json").write_text(text)
    with pytest.raises(CheckError) as error:
        check(processor, template=both)
    assert "Copy/ProcessorDynamoDBEventSource" in error.value.reason
    mapping_id = error.value.reason.split("--mapping: ")[1].split(", ")[0]
    assert check(processor, template=both, mapping=mapping_id) == []
