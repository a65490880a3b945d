"""``streamflow.check.check_live`` and ``streamflow check --function-name`` against moto's
server on 127.0.0.1: an IAM role, a Lambda function from a zip, tables with streams, an SQS
queue and event source mappings, all made with boto3 over HTTP. Nothing is mocked.

moto stores a mapping's FilterCriteria without applying them, and no record is written here:
the check reads configuration only.
"""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from typing import Any

import boto3
import pytest

from streamflow import Router, StreamRecord
from streamflow.check import check_live
from streamflow.cli import main
from streamflow.errors import CheckError
from streamflow.filters import Filter, prefix
from tests.test_check import CLEAN_SETTINGS


def router() -> Router:
    built = Router()

    @built.on(Filter.insert().key("PK", prefix("SCORE#")))
    def add_score(record: StreamRecord) -> None: ...

    return built


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return {}\n")
    return buffer.getvalue()


class Account:
    """Clients on the moto server, and helpers that make what a test needs."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.iam = boto3.client("iam", **settings)
        self.lambda_ = boto3.client("lambda", **settings)
        self.dynamodb = boto3.client("dynamodb", **settings)
        self.sqs = boto3.client("sqs", **settings)
        name = f"check-role-{uuid.uuid4().hex[:8]}"
        self.role = self.iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        url = self.sqs.create_queue(QueueName=f"check-failures-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        self.queue = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    def function(self, *, timeout: int = 60) -> str:
        name = f"check-fn-{uuid.uuid4().hex[:8]}"
        self.lambda_.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=self.role,
            Handler="app.handler",
            Code={"ZipFile": _zip()},
            Timeout=timeout,
        )
        return name

    def table(self, view_type: Any = "NEW_AND_OLD_IMAGES") -> tuple[str, str]:
        name = f"check-table-{uuid.uuid4().hex[:8]}"
        created = self.dynamodb.create_table(
            TableName=name,
            KeySchema=[
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": view_type},
        )
        return name, created["TableDescription"]["LatestStreamArn"]

    def mapping(self, function: str, stream_arn: str, **settings: Any) -> str:
        clean: dict[str, Any] = {
            **CLEAN_SETTINGS,
            "DestinationConfig": {"OnFailure": {"Destination": self.queue}},
            "FilterCriteria": router().filter_criteria().to_boto3(),
        }
        for name, value in settings.items():
            if value is None:
                clean.pop(name)
            else:
                clean[name] = value
        created = self.lambda_.create_event_source_mapping(
            FunctionName=function, EventSourceArn=stream_arn, **clean
        )
        return str(created["UUID"])


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials for the clients check_live makes itself (moto accepts any)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")


@pytest.fixture(scope="module")
def account(aws_settings: dict[str, Any]) -> Account:
    return Account(aws_settings)


def live(account: Account, function: str, **options: Any) -> list[Any]:
    return check_live(
        router(),
        function_name=function,
        region="us-east-1",
        endpoint_url=account.settings["endpoint_url"],
        **options,
    )


def test_a_clean_deployed_mapping_has_no_findings(account: Account) -> None:
    function = account.function()
    _, stream = account.table()
    account.mapping(function, stream)
    assert live(account, function) == []


def test_deployed_faults_are_found_and_named_by_uuid(account: Account) -> None:
    function = account.function(timeout=3)
    _, stream = account.table()
    uuid_ = account.mapping(
        function,
        stream,
        FunctionResponseTypes=None,
        StartingPosition="LATEST",
        BatchSize=1000,
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"eventName": ["INSERT"]})}]},
        Enabled=False,
    )
    found = live(account, function)
    assert [(f.code, f.mapping) for f in found] == [
        ("SF001", uuid_),
        ("SF003", uuid_),
        ("SF016", uuid_),
        ("SF017", uuid_),
        ("SF018", uuid_),
    ]
    assert function in found[-1].message  # the function's own name and Timeout


def test_the_table_is_described_for_its_view_type(account: Account) -> None:
    image_router = Router()

    @image_router.on(Filter.modify().new_image("status", "ACTIVE"))
    def activated(record: StreamRecord) -> None: ...

    function = account.function()
    name, stream = account.table("KEYS_ONLY")
    account.mapping(function, stream, FilterCriteria=image_router.filter_criteria().to_boto3())
    [finding] = check_live(
        image_router,
        function_name=function,
        lambda_client=account.lambda_,
        dynamodb_client=account.dynamodb,
    )
    assert finding.code == "SF008"
    assert f"StreamViewType: NEW_IMAGE on table {name}" in finding.fix


def test_a_mapping_on_a_disabled_stream_gets_nothing(account: Account) -> None:
    function = account.function()
    name, stream = account.table()
    account.mapping(function, stream)
    account.dynamodb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    [disabled] = live(account, function)
    assert disabled.code == "SF010"
    assert disabled.message == f"table {name}'s stream is disabled: the mapping gets no new records"


def test_a_mapping_on_a_recreated_tables_old_stream_gets_nothing(account: Account) -> None:
    function = account.function()
    name, stream = account.table()
    account.mapping(function, stream)
    account.dynamodb.delete_table(TableName=name)
    [gone] = live(account, function)
    assert gone.code == "SF010"
    assert gone.message == f"the mapping reads table {name}, which does not exist"
    time.sleep(0.01)  # a new stream label (a timestamp)
    created = account.dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    latest = created["TableDescription"]["LatestStreamArn"]
    assert latest != stream
    [moved] = live(account, function)
    assert moved.code == "SF010"
    assert "moved to a new stream" in moved.message
    assert moved.fix == f"create the mapping on {latest} and delete this one"


def test_own_writes_are_tested_live_with_writes(account: Account) -> None:
    function = account.function()
    _, stream = account.table()
    account.mapping(function, stream)
    [loop] = live(account, function, writes=[{"PK": "SCORE#9", "SK": "USER#1"}])
    assert (loop.code, loop.severity) == ("SF005", "error")
    assert live(account, function, writes=[{"PK": "TOTAL#1", "SK": "USER#1"}]) == []


def test_mapping_picks_one_by_uuid(account: Account) -> None:
    function = account.function()
    _, first = account.table()
    _, second = account.table()
    clean = account.mapping(function, first)
    faulty = account.mapping(function, second, FunctionResponseTypes=None)
    assert {f.mapping for f in live(account, function)} == {faulty}
    assert live(account, function, mapping=clean) == []
    with pytest.raises(CheckError) as error:
        live(account, function, mapping="no-such-uuid")
    assert error.value.option == "mapping"
    assert clean in error.value.reason
    assert faulty in error.value.reason


def test_no_such_function_is_an_input_error(account: Account) -> None:
    with pytest.raises(CheckError) as error:
        live(account, "no-such-function")
    assert error.value.option == "function_name"
    assert "no function named 'no-such-function'" in error.value.reason


def test_a_refused_aws_call_is_a_check_error_without_option(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(CheckError) as error:  # nothing listens on port 9
        check_live(
            router(), function_name="f", region="us-east-1", endpoint_url="http://127.0.0.1:9"
        )
    assert error.value.option is None
    assert error.value.reason.startswith("GetFunctionConfiguration f: Could not connect")
    assert str(error.value) == error.value.reason


def test_a_function_without_stream_mappings(account: Account) -> None:
    function = account.function()
    with pytest.raises(CheckError) as error:
        live(account, function)
    assert error.value.option == "function_name"
    assert error.value.reason == (
        f"no event source mapping on a DynamoDB or Kinesis stream in function {function}; "
        "it has no event source mapping"
    )


def test_the_command_checks_a_live_function(
    account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Any, monkeypatch: Any
) -> None:
    (tmp_path / "live_app.py").write_text(
        "from streamflow import Router\nfrom streamflow.filters import Filter, prefix\n"
        "router = Router()\n"
        "router.on(Filter.insert().key('PK', prefix('SCORE#')))(lambda record: None)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    function = account.function()
    _, stream = account.table()
    mapping = account.mapping(
        function, stream, MaximumRetryAttempts=-1, MaximumRecordAgeInSeconds=-1
    )
    argv = [
        "check",
        "live_app:router",
        "--function-name",
        function,
        "--endpoint-url",
        account.settings["endpoint_url"],
        "--region",
        "us-east-1",
        "--format",
        "json",
    ]
    assert main(argv) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["checked"] == [mapping]
    assert [f["code"] for f in document["findings"]] == ["SF013"]
    assert main([*argv, "--ignore", "SF013"]) == 0
    capsys.readouterr()
    assert main(["check", "live_app:router", "--function-name", "nope", *argv[4:8]]) == 2
    assert capsys.readouterr().err == (
        "streamflow check: error: --function-name: no function named 'nope' "
        "(GetFunctionConfiguration nope)\n"
    )


def test_an_unreachable_endpoint_is_an_error_not_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    (tmp_path / "unreachable_app.py").write_text("def handler(event, context):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    code = main(
        [
            "check",
            "unreachable_app:handler",
            "--function-name",
            "fn",
            "--region",
            "us-east-1",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("streamflow check: error: GetFunctionConfiguration fn: ")
    assert "Could not connect to the endpoint URL" in err
    assert "Traceback" not in err
