"""``streamflow.check``: every finding fires on a minimal template with its fault and is
silent once the fault is fixed; the Python API's options; docs/check.md covers every code."""

from __future__ import annotations

import copy
import json
import pathlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from streamflow import Router, StreamRecord
from streamflow.check import RULES, Finding, check
from streamflow.errors import CheckError
from streamflow.filters import Filter, FilterCriteria, prefix

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "check.md"

Template = dict[str, Any]


@dataclass
class Total:
    PK: str
    SK: str
    total: int


def scores_router(**options: Any) -> Router:
    """Two record routes: scores (INSERT SCORE#...) and totals (MODIFY USER#..., a model)."""
    router = Router(**options)

    @router.on(Filter.insert().key("PK", prefix("SCORE#")))
    def add_score(record: StreamRecord) -> None: ...

    @router.on(Filter.modify().key("PK", prefix("USER#")))
    def total_changed(total: Total) -> None: ...

    return router


def batch_router() -> Router:
    router = Router()

    @router.on_batch(Filter.insert().key("PK", prefix("SCORE#")))
    def scores(records: list[StreamRecord]) -> None: ...

    return router


def window_router() -> Router:
    router = Router()

    @router.on_window(Filter.insert().key("PK", prefix("SCORE#")))
    def per_minute(
        records: list[StreamRecord], state: dict[str, Any], window: Any
    ) -> dict[str, Any]:
        return state

    return router


def image_router() -> Router:
    router = Router()

    @router.on(Filter.modify().new_image("status", "ACTIVE"))
    def activated(record: StreamRecord) -> None: ...

    return router


CLEAN_SETTINGS: dict[str, Any] = {
    "StartingPosition": "TRIM_HORIZON",
    "BatchSize": 100,
    "BisectBatchOnFunctionError": True,
    "MaximumRetryAttempts": 10,
    "MaximumRecordAgeInSeconds": 3600,
    "FunctionResponseTypes": ["ReportBatchItemFailures"],
}
"""A mapping's settings on which no finding fires (with a destination and the filters)."""


def template(router: Router | None = None, **mapping: Any) -> Template:
    """A clean deployment of ``router``: every finding is silent on it. ``mapping`` sets (or,
    with ``None``, removes) the mapping's properties."""
    criteria = (router or scores_router()).filter_criteria()
    properties: dict[str, Any] = {
        "EventSourceArn": {"Fn::GetAtt": ["Table", "StreamArn"]},
        "FunctionName": {"Ref": "Function"},
        **CLEAN_SETTINGS,
        "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["Failures", "Arn"]}}},
        "FilterCriteria": criteria.to_cloudformation(),
    }
    for name, value in mapping.items():
        if value is None:
            properties.pop(name, None)
        else:
            properties[name] = value
    return {
        "Resources": {
            "Table": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "KeySchema": [
                        {"AttributeName": "PK", "KeyType": "HASH"},
                        {"AttributeName": "SK", "KeyType": "RANGE"},
                    ],
                    "AttributeDefinitions": [
                        {"AttributeName": "PK", "AttributeType": "S"},
                        {"AttributeName": "SK", "AttributeType": "S"},
                    ],
                    "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
                },
            },
            "Failures": {"Type": "AWS::SQS::Queue"},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}},
            "Writes": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "PolicyName": "writes",
                    "Roles": [{"Ref": "Role"}],
                    "PolicyDocument": {
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": ["dynamodb:UpdateItem", "dynamodb:PutItem"],
                                "Resource": {"Fn::GetAtt": ["Table", "Arn"]},
                            }
                        ]
                    },
                },
            },
            "Function": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Handler": "app.handler",
                    "Runtime": "python3.12",
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                    "Timeout": 60,
                },
            },
            "Mapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": properties},
        }
    }


def kinesis_template(
    router: Router | None = None, *, tied: bool = True, **mapping: Any
) -> Template:
    """The clean deployment of ``router`` through Kinesis Data Streams for DynamoDB: the
    table streams its changes to ``Changes`` (unless ``tied=False``), and the mapping reads
    that Kinesis stream with the router's Kinesis patterns."""
    router = router or scores_router()
    if "FilterCriteria" not in mapping:
        mapping["FilterCriteria"] = router.filter_criteria(source="kinesis").to_cloudformation()
    mapping.setdefault("EventSourceArn", {"Fn::GetAtt": ["Changes", "Arn"]})
    changed = template(router, **mapping)
    resources = changed["Resources"]
    resources["Changes"] = {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1}}
    table = resources["Table"]["Properties"]
    del table["StreamSpecification"]  # Kinesis Data Streams for DynamoDB needs none
    if tied:
        table["KinesisStreamSpecification"] = {"StreamArn": {"Fn::GetAtt": ["Changes", "Arn"]}}
    return changed


def arn_router() -> Router:
    """A route on eventSourceARN, a field the change written to Kinesis lacks."""
    router = Router()
    pattern = {"eventName": ["INSERT"], "eventSourceARN": [{"prefix": "arn:aws:dynamodb:"}]}

    @router.on(Filter.from_pattern(pattern))
    def from_the_table(record: StreamRecord) -> None: ...

    return router


def with_table(view_type: str | None) -> Template:
    changed = template()
    properties = changed["Resources"]["Table"]["Properties"]
    if view_type is None:
        del properties["StreamSpecification"]
    else:
        properties["StreamSpecification"] = {"StreamViewType": view_type}
    return changed


def with_timeout(seconds: int, base: Template | None = None) -> Template:
    changed = copy.deepcopy(base or template())
    changed["Resources"]["Function"]["Properties"]["Timeout"] = seconds
    return changed


def codes(findings: list[Finding]) -> list[str]:
    return [finding.code for finding in findings]


def pattern(value: dict[str, Any]) -> dict[str, Any]:
    return {"Filters": [{"Pattern": json.dumps(value)}]}


SCORES = {"eventName": ["INSERT"], "dynamodb": {"Keys": {"PK": {"S": [{"prefix": "SCORE#"}]}}}}
TOTALS = {"eventName": ["MODIFY"], "dynamodb": {"Keys": {"PK": {"S": [{"prefix": "USER#"}]}}}}


@dataclass
class Case:
    """A fault: the router, the faulty template, the fixed one, check's other arguments."""

    router: Callable[[], Router]
    faulty: Callable[[], Template]
    fixed: Callable[[], Template]
    options: dict[str, Any] | None = None


CASES: dict[str, Case] = {
    "SF001": Case(scores_router, lambda: template(FunctionResponseTypes=None), template),
    "SF002": Case(scores_router, lambda: template(FilterCriteria=pattern(SCORES)), template),
    "SF003": Case(
        scores_router,
        lambda: template(
            FilterCriteria={
                "Filters": [
                    {"Pattern": json.dumps(SCORES)},
                    {"Pattern": json.dumps(TOTALS)},
                    {"Pattern": json.dumps({"eventName": ["REMOVE"]})},
                ]
            }
        ),
        template,
    ),
    "SF004": Case(
        scores_router,
        lambda: template(
            FilterCriteria={
                "Filters": [
                    {"Pattern": json.dumps({**SCORES, "eventSource": ["aws:dynamodb"]})},
                    {"Pattern": json.dumps(TOTALS)},
                ]
            }
        ),
        template,
    ),
    "SF005": Case(
        scores_router,
        template,
        template,
        {"writes": [{"PK": "USER#7", "SK": "TOTAL", "total": 3}]},
    ),
    "SF006": Case(
        scores_router,
        lambda: template(FilterCriteria={"Filters": [{"Pattern": '{"eventName": "INSERT"}'}]}),
        template,
    ),
    "SF007": Case(
        lambda: _one_route(Filter.new_image("Score", 30)),
        lambda: template(
            FilterCriteria=pattern({"dynamodb": {"NewImage": {"Score": {"N": [30]}}}})
        ),
        lambda: template(_one_route(Filter.new_image("Score", 30))),
    ),
    "SF008": Case(
        image_router,
        lambda: _for(image_router(), view_type="KEYS_ONLY"),
        lambda: _for(image_router(), view_type="NEW_IMAGE"),
    ),
    "SF009": Case(scores_router, lambda: with_table("KEYS_ONLY"), lambda: with_table("NEW_IMAGE")),
    "SF010": Case(scores_router, lambda: with_table(None), template),
    "SF011": Case(scores_router, lambda: template(TumblingWindowInSeconds=60), template),
    "SF012": Case(
        window_router,
        lambda: template(window_router()),
        lambda: template(window_router(), TumblingWindowInSeconds=60),
    ),
    "SF013": Case(
        scores_router,
        lambda: template(MaximumRetryAttempts=None, MaximumRecordAgeInSeconds=None),
        template,
    ),
    "SF014": Case(scores_router, lambda: template(DestinationConfig=None), template),
    "SF015": Case(scores_router, lambda: template(BisectBatchOnFunctionError=False), template),
    "SF016": Case(scores_router, lambda: template(Enabled=False), template),
    "SF017": Case(scores_router, lambda: template(StartingPosition="LATEST"), template),
    "SF018": Case(
        scores_router,
        lambda: with_timeout(3, template(BatchSize=10_000)),
        lambda: with_timeout(300, template(BatchSize=10_000)),
    ),
    "SF019": Case(
        lambda: scores_router(time_margin=5.0),
        lambda: with_timeout(5),
        lambda: with_timeout(60),
    ),
    "SF020": Case(
        batch_router,
        lambda: template(batch_router(), ParallelizationFactor=4),
        lambda: template(batch_router()),
    ),
    "SF021": Case(scores_router, lambda: template(BatchSize=0), template),
    "SF022": Case(
        scores_router,
        lambda: template(FunctionName={"Fn::ImportValue": "shared-function"}),
        template,
    ),
    "SF023": Case(
        scores_router,
        lambda: kinesis_template(
            FilterCriteria=scores_router().filter_criteria().to_cloudformation()
        ),
        kinesis_template,
    ),
    "SF024": Case(
        arn_router,
        lambda: kinesis_template(
            arn_router(),
            FilterCriteria=pattern(
                {"data": {"eventName": ["INSERT"], "eventSourceARN": [{"prefix": "arn:"}]}}
            ),
        ),
        lambda: template(arn_router()),  # or the route on tableName (test_check_kinesis.py)
    ),
    "SF025": Case(scores_router, lambda: kinesis_template(tied=False), kinesis_template),
}


def _one_route(flt: Filter) -> Router:
    router = Router()

    @router.on(flt)
    def handle(record: StreamRecord) -> None: ...

    return router


def _for(router: Router, *, view_type: str) -> Template:
    changed = template(router)
    changed["Resources"]["Table"]["Properties"]["StreamSpecification"] = {
        "StreamViewType": view_type
    }
    return changed


def test_every_code_has_a_case() -> None:
    assert set(CASES) == set(RULES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_the_finding_fires_on_the_fault_and_is_silent_once_fixed(code: str) -> None:
    case = CASES[code]
    options = case.options or {}
    faulty = check(case.router(), template=case.faulty(), **options)
    assert code in codes(faulty), faulty
    found = [finding for finding in faulty if finding.code == code]
    for finding in found:
        assert finding.mapping == "Mapping"
        assert finding.severity in ("error", "warning")
        assert finding.message
        assert finding.fix
    fixed_options: dict[str, Any] = {"writes": [{"PK": "APPLIED#1", "SK": "APPLIED"}]}
    if not options:
        fixed_options = {}
    assert check(case.router(), template=case.fixed(), **fixed_options) == []


def test_the_clean_template_is_clean_for_each_router() -> None:
    for make in (scores_router, batch_router, image_router):
        assert check(make(), template=template(make())) == []


def test_a_missing_report_batch_item_failures_says_what_is_lost() -> None:
    [finding] = check(scores_router(), template=template(FunctionResponseTypes=None))
    assert finding == Finding(
        "SF001",
        "error",
        "Mapping",
        "FunctionResponseTypes lacks ReportBatchItemFailures: Lambda ignores the router's "
        "batchItemFailures, counts every invocation as a success, and failed records are lost "
        "without a trace",
        'FunctionResponseTypes: ["ReportBatchItemFailures"] (CDK: report_batch_item_failures=True)',
    )


def test_drift_is_explained_in_routes_with_the_criteria_to_paste() -> None:
    router = scores_router()
    [finding] = check(router, template=template(FilterCriteria=pattern(SCORES)))
    assert finding.code == "SF002"
    assert finding.message.startswith("route 'total_changed' never receives its records")
    assert 'a MODIFY record with dynamodb.Keys.PK.S "USER#' in finding.message
    pasted = json.loads(finding.fix.removeprefix("FilterCriteria: "))
    assert FilterCriteria.from_boto3(pasted) == router.filter_criteria()


def test_filters_compare_as_patterns_whatever_their_order_and_layout() -> None:
    shuffled = {
        "Filters": [
            {"Pattern": json.dumps({"dynamodb": TOTALS["dynamodb"], "eventName": ["MODIFY"]})},
            {"Pattern": json.dumps(SCORES, indent=4)},
        ]
    }
    assert check(scores_router(), template=template(FilterCriteria=shuffled)) == []


def test_a_mapping_without_filters_delivers_what_no_route_takes() -> None:
    found = check(scores_router(), template=template(FilterCriteria=None))
    assert codes(found) == ["SF003", "SF005"]
    assert found[0].message.startswith("the mapping has no FilterCriteria: it delivers")
    assert "may write to Table" in found[1].message
    assert found[1].severity == "warning"


def test_unmatched_records_are_an_error_when_the_router_fails_them() -> None:
    extra = {
        "Filters": [
            {"Pattern": json.dumps(SCORES)},
            {"Pattern": json.dumps(TOTALS)},
            {"Pattern": json.dumps({"eventName": ["REMOVE"]})},
        ]
    }
    [finding] = check(scores_router(on_unmatched="error"), template=template(FilterCriteria=extra))
    assert (finding.code, finding.severity) == ("SF003", "error")
    assert "deployed filter 3" in finding.message
    assert "fails its batch" in finding.message


def test_a_route_wanting_every_record_behind_a_filtered_mapping() -> None:
    router = Router()
    router.on(FilterCriteria())(lambda record: None)
    found = check(router, template=template(router, FilterCriteria=pattern(SCORES)))
    assert codes(found) == ["SF002"]
    assert found[0].fix == "remove FilterCriteria: the routes want every record"
    [loop] = check(router, template=template(router, FilterCriteria=None))
    assert (loop.code, loop.severity) == ("SF005", "warning")  # its own writes come back
    assert loop.fix.startswith("narrow the routes' filters")


def test_own_writes_a_route_takes_loop_and_others_only_cost() -> None:
    router = scores_router()
    loop = check(router, template=template(), writes=[{"PK": "USER#7", "SK": "TOTAL"}])
    assert [(f.code, f.severity) for f in loop] == [("SF005", "error")]
    assert "route 'total_changed' takes: the function triggers itself" in loop[0].message
    wide = template(FilterCriteria=pattern({"eventName": ["INSERT", "MODIFY"]}))
    costly = check(
        router, template=wide, writes=[{"PK": "APPLIED#1", "SK": "x"}], ignore=["SF003", "SF004"]
    )
    assert [(f.code, f.severity) for f in costly] == [("SF005", "warning")]


def test_a_plain_handler_is_checked_against_its_filters() -> None:
    def handler(event: Any, context: Any) -> None: ...

    deployed = template(FilterCriteria=pattern(SCORES))
    assert check(handler, template=deployed, filters=[SCORES]) == []
    [drift] = check(handler, template=deployed, filters=[SCORES, TOTALS])
    assert drift.code == "SF002"
    assert drift.message.startswith("records the --filter patterns match never arrive")
    [unknown] = check(handler, template=deployed)
    assert unknown.code == "SF022"
    assert "pass --filter" in unknown.message
    assert unknown.fix == "pass --filter PATTERN_FILE with the patterns the handler is written for"


def test_filters_given_replace_the_routers_own() -> None:
    deployed = template(FilterCriteria=pattern(SCORES))
    assert check(scores_router(), template=deployed, filters=Filter.from_pattern(SCORES)) == []


def test_ignore_leaves_codes_out_and_refuses_unknown_ones() -> None:
    faulty = template(FunctionResponseTypes=None, StartingPosition="LATEST")
    assert codes(check(scores_router(), template=faulty)) == ["SF001", "SF017"]
    assert codes(check(scores_router(), template=faulty, ignore=["sf001"])) == ["SF017"]
    with pytest.raises(CheckError) as error:
        check(scores_router(), template=faulty, ignore=["SF999"])
    assert error.value.option == "ignore"


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        ({"BatchSize": 20_000}, "BatchSize 20000 is out of range"),
        ({"BatchSize": "many"}, "BatchSize must be an integer, got 'many'"),
        ({"ParallelizationFactor": 11}, "ParallelizationFactor 11 is out of range"),
        ({"TumblingWindowInSeconds": 901}, "TumblingWindowInSeconds 901 is out of range"),
        ({"MaximumRecordAgeInSeconds": 30}, "MaximumRecordAgeInSeconds 30: AWS takes -1"),
        ({"StartingPosition": None}, "StartingPosition is missing"),
        ({"StartingPosition": "AT_TIMESTAMP"}, "StartingPosition AT_TIMESTAMP: DynamoDB"),
        ({"FunctionResponseTypes": ["ReportBatchItemFailures", "Nope"]}, "holds ['Nope']"),
        ({"Enabled": "maybe"}, "Enabled must be true or false"),
        ({"EventSourceArn": {"Ref": "Table"}}, "gives the table's name"),
    ],
)
def test_settings_aws_refuses(properties: dict[str, Any], expected: str) -> None:
    found = check(scores_router(), template=template(**properties))
    refused = [f for f in found if f.code == "SF021"]
    assert refused, found
    assert expected in refused[0].message, found


def test_settings_given_as_text_are_read_as_cloudformation_reads_them() -> None:
    texts = template(BatchSize="100", BisectBatchOnFunctionError="true", MaximumRetryAttempts="10")
    assert check(scores_router(), template=texts) == []


def test_infinite_retries_bounded_only_by_the_streams_retention_still_block() -> None:
    found = check(
        scores_router(),
        template=template(MaximumRetryAttempts=-1, MaximumRecordAgeInSeconds=86_400),
    )
    assert codes(found) == ["SF013"]
    assert check(scores_router(), template=template(MaximumRetryAttempts=-1)) == []


def test_the_router_margin_counts_in_the_time_per_record() -> None:
    # 3 s less the automatic 0.5 s margin, over 300 records: 8.3 ms each.
    [finding] = check(scores_router(), template=with_timeout(3, template(BatchSize=300)))
    assert finding.code == "SF018"
    assert "8.3 ms per record" in finding.message
    assert "0.5 s margin" in finding.message
    assert finding.fix == "BatchSize: 250 or less, or Timeout: 4 s or more"


@dataclass
class Key:
    PK: str
    SK: str


def test_a_model_route_whose_model_needs_only_keys_is_fine_on_keys_only() -> None:
    router = Router()

    @router.on(Filter.modify().key("PK", prefix("USER#")))
    def touched(key: Key) -> None: ...

    assert check(router, template=_for(router, view_type="KEYS_ONLY")) == []


def test_removals_need_the_old_image() -> None:
    router = Router()

    @router.on(Filter.remove().key("PK", prefix("USER#")))
    def removed(total: Total) -> None: ...

    [finding] = check(router, template=_for(router, view_type="NEW_IMAGE"))
    assert finding.code == "SF009"
    assert "maps REMOVE records onto Total" in finding.message
    assert finding.fix.startswith("StreamViewType: NEW_AND_OLD_IMAGES on table Table")


def test_findings_are_values() -> None:
    [finding] = check(scores_router(), template=template(Enabled=False))
    assert finding == Finding(
        "SF016", "warning", "Mapping", "the mapping is disabled: nothing is processed",
        "Enabled: true",
    )  # fmt: skip
    assert hash(finding) == hash(copy.copy(finding))
    assert finding.to_dict()["title"] == "the mapping is disabled"
    with pytest.raises(AttributeError):
        finding.code = "SF001"


def test_docs_explain_every_code() -> None:
    text = DOCS.read_text()
    documented = re.findall(r"^### (SF\d{3})", text, flags=re.MULTILINE)
    assert documented == sorted(RULES)
    for code, rule in RULES.items():
        section = text.split(f"### {code}\n", 1)[1].split("\n### ", 1)[0]
        assert section.lstrip().startswith(f"*Severity: {rule.severity}"), code
        title = rule.title[0].upper() + rule.title[1:]
        assert f"**{title}.**" in " ".join(section.split()), code
        assert "**Fix:**" in section, code


def test_an_example_record_names_the_keys_that_set_it_apart() -> None:
    router = Router()
    router.on(Filter.insert().key("PK", prefix("ORDER#")))(lambda record: None)
    inserts = {"Filters": [{"Pattern": json.dumps({"eventName": ["INSERT"]})}]}
    [finding] = check(router, template=template(router, FilterCriteria=inserts))
    assert finding.code == "SF003"
    # Not "e.g. an INSERT record", which the router takes when its key starts ORDER#.
    example = finding.message.split("e.g. ", 1)[1]
    assert example.startswith("an INSERT record with dynamodb.Keys.PK.S ")
    assert '"ORDER#' not in example
