"""The score pipeline on AWS, as an AWS CDK v2 app in Python.

    cdk deploy --app "python examples/score_pipeline/infra/app.py"

The processor's event source mapping carries the very FilterCriteria the processor's router
uses (``process.router.filter_criteria()``), so the deployed filter and the code cannot drift
apart. ``build_app(outdir=...)`` synthesises the same app offline (no AWS account): the tests
do that and check the template.

The functions' code is built at synthesis, on this machine (no Docker): the two handlers, the
``streamflow`` package of this checkout and ``typing_extensions`` (boto3 is in Lambda's Python
runtime). Its asset hash is that of the built directory, so a change to the library deploys
new code even when the handlers did not change.
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import shutil
from typing import Any

HERE = pathlib.Path(__file__).resolve().parent
HANDLERS = HERE.parent / "handlers"
PACKAGE = HERE.parents[2] / "src" / "streamflow"


def build_lambda_code(output_dir: str | os.PathLike[str]) -> None:
    """Write the functions' code into ``output_dir``: handlers, streamflow, typing_extensions.

    The directory is what Lambda unpacks into ``/var/task``: ``submit.handler`` and
    ``process.handler`` import ``streamflow`` from it.
    """
    import typing_extensions

    out = pathlib.Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("submit.py", "process.py"):
        shutil.copy2(HANDLERS / name, out / name)
    shutil.copytree(
        PACKAGE, out / "streamflow", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    shutil.copy2(typing_extensions.__file__, out / "typing_extensions.py")


def _lambda_code() -> Any:
    """``lambda_.Code`` built by :func:`build_lambda_code` through CDK's local bundling."""
    import aws_cdk as cdk
    import jsii
    from aws_cdk import aws_lambda as lambda_

    @jsii.implements(cdk.ILocalBundling)
    class Local:
        def try_bundle(self, output_dir: str, *options: Any, **more: Any) -> bool:
            build_lambda_code(output_dir)
            return True  # always built here: the image below is never pulled

    return lambda_.Code.from_asset(
        str(HANDLERS),
        asset_hash_type=cdk.AssetHashType.OUTPUT,
        bundling=cdk.BundlingOptions(
            image=lambda_.Runtime.PYTHON_3_12.bundling_image, local=Local()
        ),
    )


def _processor_router() -> Any:
    """The processor module's router: imported, not re-declared."""
    os.environ.setdefault("TABLE_NAME", "scores")  # read at import; no AWS call is made
    spec = importlib.util.spec_from_file_location("score_processor", HANDLERS / "process.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.router


def build_app(*, outdir: str | None = None) -> Any:
    """The CDK app with the score pipeline stack.

    Args:
        outdir: where ``app.synth()`` writes the cloud assembly.

    Returns:
        The ``aws_cdk.App``.
    """
    import aws_cdk as cdk
    from aws_cdk import aws_apigateway as apigateway
    from aws_cdk import aws_dynamodb as dynamodb
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_lambda_event_sources as sources
    from aws_cdk import aws_sqs as sqs

    app = cdk.App(outdir=outdir)
    stack = cdk.Stack(app, "ScorePipeline")

    table = dynamodb.Table(
        stack,
        "Scores",
        partition_key=dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name="SK", type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        time_to_live_attribute="expiresAt",
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    environment = {"TABLE_NAME": table.table_name}
    code = _lambda_code()

    submit = lambda_.Function(
        stack,
        "Submit",
        runtime=lambda_.Runtime.PYTHON_3_12,
        handler="submit.handler",
        code=code,
        environment=environment,
        timeout=cdk.Duration.seconds(10),
        memory_size=256,
    )
    submit.add_to_role_policy(
        iam.PolicyStatement(
            actions=["dynamodb:PutItem", "dynamodb:GetItem"],
            resources=[table.table_arn],
        )
    )
    api = apigateway.RestApi(stack, "ScoresApi", rest_api_name="scores")
    api.root.add_resource("scores").add_method("POST", apigateway.LambdaIntegration(submit))

    processor = lambda_.Function(
        stack,
        "Processor",
        runtime=lambda_.Runtime.PYTHON_3_12,
        handler="process.handler",
        code=code,
        environment=environment,
        timeout=cdk.Duration.seconds(60),
        memory_size=512,
        # The router logs one JSON line per invocation at INFO on the ``streamflow`` logger.
        # With Lambda's default text log format the Python runtime leaves the root logger at
        # WARNING and that line is dropped; the JSON format with an application log level
        # sets the runtime's logger to INFO, so it reaches CloudWatch Logs.
        logging_format=lambda_.LoggingFormat.JSON,
        application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
        system_log_level_v2=lambda_.SystemLogLevel.INFO,
    )
    processor.add_to_role_policy(
        iam.PolicyStatement(
            actions=["dynamodb:BatchGetItem", "dynamodb:UpdateItem", "dynamodb:PutItem"],
            resources=[table.table_arn],
        )
    )
    failures = sqs.Queue(stack, "ProcessorFailures", retention_period=cdk.Duration.days(14))
    criteria = _processor_router().filter_criteria()
    processor.add_event_source(
        sources.DynamoEventSource(
            table,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=100,
            max_batching_window=cdk.Duration.seconds(1),
            bisect_batch_on_error=True,
            retry_attempts=10,
            max_record_age=cdk.Duration.hours(24),
            report_batch_item_failures=True,
            on_failure=sources.SqsDlq(failures),
            filters=[lambda_.FilterCriteria.filter(pattern) for pattern in criteria.patterns],
        )
    )
    cdk.CfnOutput(stack, "ApiUrl", value=api.url)
    cdk.CfnOutput(stack, "TableName", value=table.table_name)
    cdk.CfnOutput(stack, "ProcessorName", value=processor.function_name)
    cdk.CfnOutput(stack, "FailureQueueUrl", value=failures.queue_url)
    return app


if __name__ == "__main__":
    build_app().synth()
