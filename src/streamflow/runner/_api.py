"""``run()``: the Python entry point of the local runner."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from streamflow.runner._config import OPTIONS, RunnerConfig, StartingPosition
from streamflow.runner._destination import OnFailureDestination
from streamflow.runner._engine import Engine
from streamflow.runner._handler import FilterSpec, resolve_run
from streamflow.runner._status import Reporter, RunSummary

if TYPE_CHECKING:
    from streamflow.router import Router
    from streamflow.runner._invoke import LambdaHandler

__all__ = ["run"]


def run(
    handler: LambdaHandler | Router | str,
    *,
    table: str,
    endpoint_url: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    batch_size: int = 100,
    batching_window: float = 0.0,
    starting_position: StartingPosition = "TRIM_HORIZON",
    filters: FilterSpec | Sequence[FilterSpec] | None = None,
    bisect_on_error: bool = False,
    max_retries: int = -1,
    max_record_age: int = -1,
    parallelization_factor: int = 1,
    tumbling_window: int = 0,
    on_failure: str | None = None,
    function_timeout: int = 900,
    checkpoint: str | None = None,
    until_idle: float | None = None,
    max_records: int | None = None,
    quiet: bool = False,
    json_log: bool = False,
    streams_client: Any = None,
    dynamodb_client: Any = None,
    sqs_client: Any = None,
    sns_client: Any = None,
    s3_client: Any = None,
    stop_event: threading.Event | None = None,
    handle_signals: bool = True,
) -> RunSummary:
    """Read a table's stream and invoke ``handler`` exactly as a Lambda event source mapping
    would, until a stop condition is met.

    The defaults are Lambda's, except ``starting_position``: TRIM_HORIZON (every record still
    in the stream) is the convenient default locally; Lambda requires you to choose.

    It prints what ``streamflow run`` prints, on standard error: a status line on a terminal,
    notable events (shards, failed batches, discarded records, throttling) and a summary at
    the end; ``quiet=True`` leaves only fatal errors, ``json_log=True`` makes each event a
    JSON line. Standard output is left to the handler.

    Args:
        handler: a Lambda handler ``(event, context) -> response``, a
            :class:`~streamflow.Router` (its ``lambda_handler`` is invoked and its
            ``filter_criteria()`` applies unless ``filters`` is given), or either as a
            ``"module:attribute"`` string.
        table: the table whose latest stream is read.
        endpoint_url: a DynamoDB endpoint other than AWS's (moto's server, DynamoDB Local).
        region: the AWS Region (default: the environment's or profile's).
        profile: a named AWS profile.
        batch_size: records per batch, 1 to 10000 (BatchSize).
        batching_window: seconds to gather a full batch, 0 to 300
            (MaximumBatchingWindowInSeconds).
        starting_position: ``"TRIM_HORIZON"`` or ``"LATEST"``, for shards without a
            checkpoint at the first start.
        filters: a Filter, FilterCriteria, pattern (dict or JSON text), or a sequence of
            them (OR-ed, up to 10): records no filter matches are dropped and checkpointed
            past, never delivered. Taken as given (``--filter`` files are also checked for
            rules that can never match: see
            :func:`~streamflow.filters.refuse_never_matching`).
        bisect_on_error: split a failing batch in two and retry each half
            (BisectBatchOnFunctionError).
        max_retries: retries of a failing batch, -1 (until the record expires) to 10000
            (MaximumRetryAttempts).
        max_record_age: discard records older than this many seconds, -1 (never) or 60 to
            604800 (MaximumRecordAgeInSeconds).
        parallelization_factor: concurrent batches per shard, 1 to 10, records of one
            partition key always in order (ParallelizationFactor).
        tumbling_window: window length in seconds, 0 (off) to 900
            (TumblingWindowInSeconds).
        on_failure: where Lambda's on-failure record of each discarded batch goes
            (DestinationConfig.OnFailure): a JSON Lines file (appended); an SQS queue URL,
            or ARN ``arn:aws:sqs:REGION:ACCOUNT:NAME`` (SendMessage); an SNS topic ARN
            (Publish); or an S3 bucket, ``arn:aws:s3:::BUCKET`` or ``s3://BUCKET/PREFIX``
            (PutObject of the record with the batch's event in ``payload``, under Lambda's
            key ``aws/lambda/<mapping UUID>/<shardId>/...``). The checkpoint moves past
            the discarded records only once the record is written.
        function_timeout: seconds an invocation may run, 1 to 900 (the function's
            Timeout): the context's ``get_remaining_time_in_millis()`` counts down from it,
            and an invocation still running at its end fails as Lambda's timeout does
            (``Sandbox.Timedout``), its whole batch retried. Locally the handler cannot be
            stopped: it runs on, and what it returns is ignored.
        checkpoint: a JSON file keeping each shard's position across runs; without it the
            run starts from ``starting_position`` every time.
        until_idle: return after this many seconds without new records (and nothing left to
            deliver).
        max_records: read at most this many records, deliver them, and return.
        quiet: print nothing but fatal errors (on standard error, like all the status).
        json_log: print one JSON object per event on standard error instead of text.
        streams_client: a DynamoDB Streams client to use instead of making one.
        dynamodb_client: a DynamoDB client to find the table's stream with (without one,
            and with ``streams_client`` given, ListStreams is used).
        sqs_client: an SQS client for an SQS ``on_failure`` destination, instead of making
            one (with ``endpoint_url``, ``region`` or the ARN's Region, and ``profile``).
        sns_client: the same for an SNS destination.
        s3_client: the same for an S3 destination.
        stop_event: set it from another thread to stop after the batches in flight.
        handle_signals: on the main thread, SIGINT and SIGTERM stop the run after the
            batches in flight (a second one aborts).

    Returns:
        What the run did; ``summary.exit_code`` is what ``streamflow run`` exits with.

    Raises:
        RunnerConfigError: an option out of range, or a handler that cannot be loaded.
        FilterValidationError: a filter pattern AWS would reject.
        RunnerError: no such table, no stream, an AWS error retrying cannot fix, or an
            on-failure destination that cannot be reached or written (the discarded
            records are then not checkpointed past).
        OSError: the checkpoint or on-failure file cannot be written.

    Usage::

        from streamflow.runner import run
        from app import router

        summary = run(router, table="scores", endpoint_url="http://127.0.0.1:5000",
                      until_idle=2, checkpoint=".streamflow-checkpoint.json")
    """
    arguments = locals()  # the parameters only: nothing else is assigned yet
    config = RunnerConfig(**{name: arguments[name] for name in OPTIONS})  # checks them
    function, matches = resolve_run(handler, config.filters)
    if streams_client is None:
        from streamflow.runner._aws import make_clients

        made_dynamodb, streams_client = make_clients(
            endpoint_url=config.endpoint_url, region=config.region, profile=config.profile
        )
        dynamodb_client = dynamodb_client or made_dynamodb
    on_failure_destination = OnFailureDestination.of(
        config, handler=function, sqs_client=sqs_client, sns_client=sns_client, s3_client=s3_client
    )
    engine = Engine(
        handler=function,
        matches=matches,
        config=config,
        streams=streams_client,
        dynamodb=dynamodb_client,
        reporter=Reporter(quiet=config.quiet, json_log=config.json_log),
        stop_event=stop_event,
        on_failure=on_failure_destination,
    )
    with _signals(engine, enabled=handle_signals):
        return engine.run()


class _Stoppable(Protocol):
    """What :func:`_signals` stops: a run's engine, or a redrive."""

    signalled: str | None

    def signal_received(self, name: str) -> None: ...


@contextmanager
def _signals(engine: _Stoppable, *, enabled: bool) -> Iterator[None]:
    """SIGINT/SIGTERM: stop after the batches in flight; a second signal aborts."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: Any) -> None:
        if engine.signalled is not None:
            raise KeyboardInterrupt
        engine.signal_received(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
