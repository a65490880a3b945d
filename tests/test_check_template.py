"""``streamflow.check`` reading templates: CloudFormation YAML with its intrinsic tags, SAM,
several mappings, and templates it cannot use (CDK's output: test_check_example.py)."""

from __future__ import annotations

import builtins
import json
import pathlib
import textwrap
from typing import Any

import pytest

from streamflow import Router, StreamRecord
from streamflow.check import check
from streamflow.errors import CheckError
from streamflow.filters import Filter, prefix

SCORES = '{"eventName": ["INSERT"], "dynamodb": {"Keys": {"PK": {"S": [{"prefix": "SCORE#"}]}}}}'


def router() -> Router:
    built = Router()

    @built.on(Filter.insert().key("PK", prefix("SCORE#")))
    def add_score(record: StreamRecord) -> None: ...

    return built


def write(tmp_path: pathlib.Path, name: str, text: str) -> pathlib.Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


CFN_YAML = """
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Stage: {Type: String, Default: prod}
  Retries: {Type: Number}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Mappings:
  Sizes:
    prod: {batch: 100}
    dev: {batch: 5000}
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "scores-${Stage}"
      KeySchema: [{AttributeName: PK, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: PK, AttributeType: S}]
      StreamSpecification:
        StreamViewType: !If [IsProd, NEW_AND_OLD_IMAGES, KEYS_ONLY]
  Failures: {Type: AWS::SQS::Queue}
  Processor:
    Type: AWS::Lambda::Function
    Properties:
      Handler: process.handler
      Runtime: python3.12
      Role: arn:aws:iam::123456789012:role/processor
      Timeout: !If [IsProd, 60, 3]
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt [Table, StreamArn]
      FunctionName: !GetAtt Processor.Arn
      StartingPosition: !Select [1, [LATEST, TRIM_HORIZON]]
      BatchSize: !FindInMap [Sizes, !Ref Stage, batch]
      MaximumRetryAttempts: !Ref Retries
      MaximumRecordAgeInSeconds: 3600
      BisectBatchOnFunctionError: "true"
      FunctionResponseTypes: [ReportBatchItemFailures]
      DestinationConfig:
        OnFailure:
          Destination: !GetAtt Failures.Arn
      FilterCriteria:
        Filters:
          - Pattern: !Join
              - ""
              - ['{"eventName": ["INSERT"], ',
                 '"dynamodb": {"Keys": {"PK": {"S": [{"prefix": "SCORE#"}]}}}}']
"""


def test_a_yaml_template_with_intrinsic_tags_is_resolved(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "template.yaml", CFN_YAML)
    assert check(router(), template=path, parameters={"Retries": "10"}) == []
    [unknown] = check(router(), template=path)
    assert unknown.code == "SF022"
    assert "parameter Retries has no Default (pass --parameter Retries=VALUE)" in unknown.message
    dev = check(router(), template=path, parameters={"Retries": "10", "Stage": "dev"})
    assert [f.code for f in dev] == ["SF018"]  # 5000 records in 3 s (!If, !FindInMap)


def test_sub_select_split_tojsonstring_and_novalue(tmp_path: pathlib.Path) -> None:
    filters = CFN_YAML[CFN_YAML.index("      FilterCriteria:") :]
    text = CFN_YAML.replace(
        "StartingPosition: !Select [1, [LATEST, TRIM_HORIZON]]",
        'StartingPosition: !Select [0, !Split [",", "TRIM_HORIZON,LATEST"]]\n'
        "      ParallelizationFactor: !If [IsProd, !Ref AWS::NoValue, 10]",
    ).replace(
        filters,
        "      FilterCriteria:\n"
        "        Filters:\n"
        "          - Pattern:\n"
        "              Fn::ToJsonString:\n"
        "                eventName: [INSERT]\n"
        "                dynamodb: {Keys: {PK: {S: [{prefix: 'SCORE#'}]}}}\n",
    )
    path = write(tmp_path, "template.yaml", text)
    assert check(router(), template=path, parameters={"Retries": "10"}) == []


SAM_TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Timeout: 30
Resources:
  Scores:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: PK, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: PK, AttributeType: S}]
      StreamSpecification: {StreamViewType: NEW_IMAGE}
  Failures: {Type: AWS::SQS::Queue}
  Processor:
    Type: AWS::Serverless::Function
    Properties:
      Handler: process.handler
      Runtime: python3.12
      Policies:
        - DynamoDBCrudPolicy: {TableName: !Ref Scores}
      Events:
        Stream:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Scores.StreamArn
            StartingPosition: TRIM_HORIZON
            BatchSize: 100
            MaximumRetryAttempts: 5
            BisectBatchOnFunctionError: true
            FunctionResponseTypes: [ReportBatchItemFailures]
            DestinationConfig:
              OnFailure: {Type: SQS, Destination: !GetAtt Failures.Arn}
            FilterCriteria:
              Filters:
                - Pattern: '{pattern}'
"""


def sam(pattern: str = SCORES) -> str:
    return SAM_TEMPLATE.replace("{pattern}", pattern)


def test_a_sam_template_is_read(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "template.yaml", sam())
    assert check(router(), template=path) == []
    for name in ("ProcessorStream", "Processor.Stream", "Stream"):
        assert check(router(), template=path, mapping=name) == []


def test_a_sam_event_with_faults(tmp_path: pathlib.Path) -> None:
    text = sam().replace("            FunctionResponseTypes: [ReportBatchItemFailures]\n", "")
    text = text.replace("Timeout: 30", "Timeout: 3").replace("BatchSize: 100", "BatchSize: 1000")
    text = text.replace(f"- Pattern: '{SCORES}'", '- Pattern: \'{"eventName": ["INSERT"]}\'')
    found = check(router(), template=write(tmp_path, "template.yaml", text))
    assert [(f.code, f.mapping) for f in found] == [
        ("SF001", "ProcessorStream"),
        ("SF003", "ProcessorStream"),
        ("SF018", "ProcessorStream"),
    ]
    assert "BatchSize: 250 or less, or Timeout: 11 s or more" in found[2].fix


def test_sam_without_filters_on_a_table_its_function_writes(tmp_path: pathlib.Path) -> None:
    filters = "            FilterCriteria:\n              Filters:\n"
    text = sam().replace(f"{filters}                - Pattern: '{SCORES}'\n", "")
    found = check(router(), template=write(tmp_path, "template.yaml", text))
    assert [(f.code, f.severity) for f in found] == [("SF003", "warning"), ("SF005", "warning")]
    assert "may write to Scores" in found[1].message


def test_a_json_template_needs_no_yaml(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "template.json"
    path.write_text(json.dumps(_sam_as_json()))
    _without_yaml(monkeypatch)
    assert check(router(), template=path) == []


def test_a_yaml_template_without_pyyaml_names_the_extra(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _without_yaml(monkeypatch)
    path = write(tmp_path, "template.yaml", sam())
    with pytest.raises(CheckError) as error:
        check(router(), template=path)
    assert error.value.option == "template"
    assert "pip install 'streamflow-dynamodb[yaml]'" in error.value.reason
    assert str(path) in error.value.reason


def _without_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def refuse_yaml(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "yaml" or name.startswith("yaml."):
            raise ImportError("No module named 'yaml'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse_yaml)


def _sam_as_json() -> dict[str, Any]:
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor(
        "!",
        lambda loader, suffix, node: (
            {"Fn::GetAtt": loader.construct_scalar(node).split(".")}
            if suffix == "GetAtt"
            else {"Ref": loader.construct_scalar(node)}
        ),
    )
    return dict(yaml.load(sam(), Loader=Loader))


TWO_FUNCTIONS = """
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties: {StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}}
  Stream: {Type: AWS::Kinesis::Stream}
  Queue: {Type: AWS::SQS::Queue}
  Scores:
    Type: AWS::Lambda::Function
    Properties: {Handler: scores.handler, Timeout: 60}
  Audit:
    Type: AWS::Lambda::Function
    Properties: {Handler: audit.handler, Timeout: 60}
  ScoresMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt Table.StreamArn
      FunctionName: !Ref Scores
      StartingPosition: TRIM_HORIZON
  AuditMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt Table.StreamArn
      FunctionName: !Ref Audit
      StartingPosition: TRIM_HORIZON
  KinesisMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt Stream.Arn
      FunctionName: !Ref Audit
      StartingPosition: LATEST
  QueueMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: arn:aws:sqs:us-east-1:123456789012:queue
      FunctionName: !Ref Audit
"""


def test_several_functions_need_mapping_or_a_handler_module(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "template.yaml", TWO_FUNCTIONS)
    with pytest.raises(CheckError) as error:
        check(router(), template=path)
    assert error.value.option == "mapping"
    assert "several functions; choose one with --mapping: ScoresMapping, AuditMapping" in str(
        error.value
    )
    assert {f.mapping for f in check(router(), template=path, mapping="AuditMapping")} == {
        "AuditMapping"
    }
    (tmp_path / "scores.py").write_text(
        "from streamflow import Router\nfrom streamflow.filters import Filter\n"
        "router = Router()\nrouter.on(Filter.insert())(lambda record: None)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert {f.mapping for f in check("scores:router", template=path)} == {"ScoresMapping"}


def test_no_mapping_found_lists_what_was_found(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "template.yaml", TWO_FUNCTIONS)
    with pytest.raises(CheckError) as error:
        check(router(), template=path, mapping="Nope")
    assert error.value.option == "mapping"
    assert (
        "no mapping 'Nope' on a DynamoDB or Kinesis stream in "
        f"{path}; found: ScoresMapping (DynamoDB stream), AuditMapping (DynamoDB stream), "
        "KinesisMapping (Kinesis stream), "
        "QueueMapping (its EventSourceArn is not a DynamoDB or Kinesis stream (sqs))"
    ) == error.value.reason
    empty = write(tmp_path, "empty.yaml", "Resources:\n  Queue: {Type: AWS::SQS::Queue}\n")
    with pytest.raises(CheckError) as error:
        check(router(), template=empty)
    assert error.value.option == "template"
    assert "found no AWS::Lambda::EventSourceMapping and no SAM DynamoDB or Kinesis event" in str(
        error.value
    )


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("missing.yaml", None, "cannot read {path}: No such file or directory"),
        ("bad.json", '{"Resources": ', "{path} is not valid JSON: Expecting value"),
        ("bad.yaml", "Resources: [unclosed\n", "{path} is neither JSON nor valid YAML"),
        ("list.yaml", "- a\n- b\n", "{path} is not a CloudFormation template"),
        ("none.json", '{"Outputs": {}}', "{path} is not a CloudFormation template"),
        ("binary.yaml", b"\xff\xfe\x00", "{path} is not UTF-8 text"),
    ],
)
def test_unusable_templates_are_refused_with_the_file_named(
    tmp_path: pathlib.Path, name: str, text: str | bytes | None, expected: str
) -> None:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    elif text is not None:
        path.write_text(text)
    with pytest.raises(CheckError) as error:
        check(router(), template=path)
    assert error.value.option == "template"
    assert expected.format(path=path) in error.value.reason


MALFORMED = [
    {"Resources": {"M": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": []}}},
    {"Resources": {"M": {"Type": "AWS::Lambda::EventSourceMapping"}}},
    {"Resources": {"M": "not a resource", "F": {"Type": "AWS::Serverless::Function"}}},
    {
        "Resources": {
            "F": {"Type": "AWS::Serverless::Function", "Properties": {"Events": ["x", 1]}},
            "G": {"Type": "AWS::Serverless::Function", "Properties": {"Events": {"E": 1}}},
        }
    },
    {
        "Resources": {
            "T": {"Type": "AWS::DynamoDB::Table", "Properties": {"KeySchema": "PK"}},
            "M": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "EventSourceArn": {"Fn::GetAtt": ["T", "StreamArn", "extra"]},
                    "FunctionName": {"Fn::Sub": ["${A}", {"A": {"Fn::Select": ["x", []]}}]},
                    "StartingPosition": {"Fn::If": ["NoSuchCondition", "A", "B"]},
                    "BatchSize": {"Fn::FindInMap": ["M", "a", "b"]},
                    "FilterCriteria": {"Filters": [{"Pattern": {"Fn::Join": [1]}}]},
                    "DestinationConfig": "queue",
                    "FunctionResponseTypes": "ReportBatchItemFailures",
                    "MaximumRetryAttempts": {"Ref": 7},
                },
            },
        }
    },
    {
        "Resources": {
            "T": {"Type": "AWS::DynamoDB::Table", "Properties": {"StreamSpecification": 3}},
            "M": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "EventSourceArn": {"Fn::GetAtt": "T.StreamArn"},
                    "FilterCriteria": {"Filters": "all"},
                    "Enabled": [True],
                },
            },
        }
    },
]


@pytest.mark.parametrize("template", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_templates_give_findings_or_a_clear_error(template: dict[str, Any]) -> None:
    if not any(
        isinstance(resource, dict) and resource.get("Type") == "AWS::Lambda::EventSourceMapping"
        for resource in template["Resources"].values()
    ):
        with pytest.raises(CheckError, match=r"^template: no event source mapping"):
            check(router(), template=template)
        return
    found = check(router(), template=template)
    assert found, "a malformed mapping cannot be clean"
    assert {f.code for f in found} & {"SF021", "SF022", "SF010"}


def test_a_pattern_written_as_an_object_is_refused(tmp_path: pathlib.Path) -> None:
    text = sam().replace(f"- Pattern: '{SCORES}'", "- Pattern: {eventName: [INSERT]}")
    found = check(router(), template=write(tmp_path, "template.yaml", text))
    assert [f.code for f in found][:1] == ["SF006"]
    assert "Pattern must be a string of JSON" in found[0].message


NAMED = """
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: scores
      StreamSpecification: {StreamViewType: KEYS_ONLY}
  Processor:
    Type: AWS::Lambda::Function
    Properties: {FunctionName: processor, Handler: app.handler, Timeout: 1}
  Live:
    Type: AWS::Lambda::Alias
    Properties: {FunctionName: !Ref Processor, FunctionVersion: "1", Name: live}
  ByName:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: arn:aws:dynamodb:us-east-1:123456789012:table/scores/stream/2026-01-01
      FunctionName: arn:aws:lambda:us-east-1:123456789012:function:processor
      StartingPosition: TRIM_HORIZON
      BatchSize: 1000
  ThroughAlias:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: arn:aws:dynamodb:us-east-1:123456789012:table/other/stream/2026-01-01
      FunctionName: !Ref Live
      StartingPosition: TRIM_HORIZON
      BatchSize: 1000
"""


def test_tables_and_functions_found_by_name_arn_or_alias(tmp_path: pathlib.Path) -> None:
    image_router = Router()

    @image_router.on(Filter.insert().new_image("status", "NEW"))
    def created(record: StreamRecord) -> None: ...

    path = write(tmp_path, "template.yaml", NAMED)
    ignored = ["SF001", "SF003", "SF013", "SF014"]
    by_name = check(image_router, template=path, mapping="ByName", ignore=ignored)
    # the table by its TableName (KEYS_ONLY), the function by its FunctionName (Timeout 1 s)
    assert [f.code for f in by_name] == ["SF008", "SF018"]
    through_alias = check(image_router, template=path, mapping="ThroughAlias", ignore=ignored)
    assert [f.code for f in through_alias] == ["SF018", "SF022"]
    assert "the table (table other is not in the template)" in through_alias[1].message
