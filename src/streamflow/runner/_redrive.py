"""``redrive()``: deliver again the batches an event source mapping gave up on.

For each on-failure record of the source (:mod:`._redrive_source`), in order:

1. read the batch's records back from the stream (:func:`._redrive_read.read_batch`, with
   the runner's shard reader and filters), or take them from the record's ``payload`` (an
   S3 destination's form, :func:`_payload_found`: no stream read, nothing trimmed);
2. check that they are the batch that failed: every record of its range, as many as its
   ``batchSize``; records no longer in the stream are *lost*;
3. deliver them with a :class:`~._shard.ShardWorker` over a
   :class:`~._redrive_read.ReplayReader`: ``streamflow run``'s events, batch size, response
   rules, retries, bisection and discards, unchanged;
4. acknowledge the record in its source only once its whole batch succeeded, and its lost
   records (if any) are written to the ``lost`` file; otherwise leave it there.

A dry run stops after step 2 and lists each batch.

Over 400 lines: ``redrive()``'s typed signature and its documented options take 120 of them,
as ``run()``'s do in ``_api``.
"""

from __future__ import annotations

import calendar
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from streamflow.errors import RunnerConfigError, RunnerError
from streamflow.runner._aws import AnySet, Backoff, Stopped, error_code, retrying
from streamflow.runner._batcher import Entry
from streamflow.runner._checkpoint import CheckpointStore
from streamflow.runner._destination import Destination, OnFailureDestination, parse_destination
from streamflow.runner._engine import _as_runner_error, _is_botocore_error
from streamflow.runner._invoke import OnFailureLog
from streamflow.runner._reader import _compact
from streamflow.runner._redrive_aws import SourceCalls, SqsSource
from streamflow.runner._redrive_config import REDRIVE_OPTIONS, RedriveConfig, runner_config
from streamflow.runner._redrive_read import LOST_REASON, Found, deliver, read_batch
from streamflow.runner._redrive_s3 import S3Source
from streamflow.runner._redrive_source import (
    BatchInfo,
    Item,
    JsonLinesSource,
    Source,
    is_s3_uri,
)
from streamflow.runner._redrive_status import ItemReport, RedriveReporter, RedriveSummary
from streamflow.runner._shared import Shared
from streamflow.runner._status import Stats, _now_iso
from streamflow.runner._timeout import Invoker

if TYPE_CHECKING:
    from streamflow.router import Router
    from streamflow.runner._handler import FilterSpec
    from streamflow.runner._invoke import LambdaHandler

__all__ = ["Redrive", "redrive"]

T = TypeVar("T")

_BATCH_COUNTS = (
    "batches",
    "batches_redriven",
    "batches_failed",
    "batches_lost",
    "batches_mismatched",
    "malformed",
    "batches_listed",
    "records_found",
    "records_lost",
)


def redrive(
    handler: LambdaHandler | Router | str,
    *,
    source: str,
    endpoint_url: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    batch_size: int = 100,
    filters: FilterSpec | Sequence[FilterSpec] | None = None,
    no_filter: bool = False,
    whole_range: bool = False,
    bisect_on_error: bool = False,
    max_retries: int = 2,
    function_timeout: int = 900,
    on_failure: str | None = None,
    state: str | None = None,
    lost: str | None = None,
    visibility_timeout: int = 60,
    dry_run: bool = False,
    quiet: bool = False,
    json_log: bool = False,
    streams_client: Any = None,
    sqs_client: Any = None,
    sns_client: Any = None,
    s3_client: Any = None,
    stop_event: threading.Event | None = None,
    handle_signals: bool = True,
) -> RedriveSummary:
    """Deliver again, with ``streamflow run``'s semantics, the batches of on-failure records.

    Each on-failure record's records are read back from the stream (``AT_SEQUENCE_NUMBER``
    its first, up to and including its last), checked against the record (count and range),
    and delivered to ``handler`` as Lambda delivers a batch. The record is acknowledged in
    its source (a JSON Lines line recorded as done in the state file, an SQS message
    deleted, an S3 object tagged ``streamflow-redriven=true``) only after its whole batch
    succeeded; records no longer in the stream are reported, counted, and written to
    ``lost``, never skipped silently. It prints what ``streamflow redrive`` prints, on
    standard error.

    Args:
        handler: a Lambda handler, a :class:`~streamflow.Router`, or either as a
            ``"module:attribute"`` string.
        source: a JSON Lines file of on-failure records (what ``streamflow run
            --on-failure`` writes), or an SQS queue URL (Lambda's on-failure destination;
            raw or SNS-enveloped messages), or an S3 URI, ``s3://bucket/key`` (one object)
            or ``s3://bucket/prefix/`` (every object under it): Lambda's S3 destination,
            whose records are taken from each object's ``payload``.
        endpoint_url: an endpoint other than AWS's, for DynamoDB Streams, SQS and S3.
        region: the AWS Region (default: the environment's or profile's).
        profile: a named AWS profile.
        batch_size: records per invocation, 1 to 10000 (BatchSize).
        filters: as :func:`~streamflow.runner.run`'s: records no filter matches are not
            delivered (a Router's ``filter_criteria()`` by default).
        no_filter: deliver every record of the batches' ranges.
        whole_range: deliver every record of a range holding more records than its batch
            (with a parallelization factor above 1, a shard's concurrent batches
            interleave, and which records were the batch is not recorded), instead of
            refusing it as a mismatch. The other batches' records, most likely delivered
            already, are delivered again: for idempotent handlers.
        bisect_on_error: split a failing batch in two (BisectBatchOnFunctionError).
        max_retries: retries of a failing batch, -1 (until stopped) to 10000; then it
            stays in its source.
        function_timeout: seconds an invocation may run, 1 to 900.
        on_failure: where the on-failure record of each batch that fails again goes, as
            for :func:`~streamflow.runner.run`: a JSON Lines file, an SQS queue (URL or
            ARN), an SNS topic ARN or an S3 bucket (the batch also stays in its source).
        state: the state file of a JSON Lines source (default: ``source + ".state.json"``).
        lost: a JSON Lines file receiving each batch's ranges of records no longer in the
            stream; without it, such a batch is never acknowledged.
        visibility_timeout: seconds an SQS message stays hidden once received, 1 to
            43200, renewed every third of it while its batch is redriven; a killed
            redrive's message is visible again after it.
        dry_run: list each batch (records found, range, age, lost) and invoke nothing,
            acknowledge nothing.
        quiet: print nothing but fatal errors.
        json_log: print one JSON object per event on standard error instead of text.
        streams_client: a DynamoDB Streams client to use instead of making one.
        sqs_client: an SQS client to use instead of making one (for an SQS source, and
            for an SQS ``on_failure``).
        sns_client: an SNS client for an SNS ``on_failure``, instead of making one.
        s3_client: an S3 client to use instead of making one (for an S3 source, and for an
            S3 ``on_failure``).
        stop_event: set it from another thread to stop after the batch in flight.
        handle_signals: on the main thread, SIGINT and SIGTERM stop after the batch in
            flight (a second one aborts).

    Returns:
        What the redrive did; ``summary.exit_code`` is what ``streamflow redrive`` exits
        with.

    Raises:
        RunnerConfigError: an option out of range, a handler that cannot be loaded, a
            source that is neither a file nor a queue URL, an unreadable state file.
        FilterValidationError: a filter pattern AWS would reject.
        RunnerError: an AWS error retrying cannot fix (no such queue, access denied).
        OSError: the state, lost or on-failure file cannot be written.

    Usage::

        from streamflow.runner import redrive
        from app import router

        summary = redrive(router, source="failures.jsonl", lost="lost.jsonl",
                          endpoint_url="http://127.0.0.1:5000")
    """
    arguments = locals()  # the parameters only: nothing else is assigned yet
    config = RedriveConfig(**{name: arguments[name] for name in REDRIVE_OPTIONS})  # checks
    from streamflow.runner._api import _signals
    from streamflow.runner._handler import resolve_run

    function, matches = resolve_run(handler, config.filters)  # checks the filters either way
    if config.no_filter:
        matches = None
    where = _source_of(config.source)
    # A file is checked before any client is made (no Region needed to say it is missing).
    feed: Source | None = None
    if where.kind == "file":
        feed = JsonLinesSource(config.source, config.state_path)
    other = where.kind if where.kind != "file" else None
    clients: dict[str, Any] = {"sqs": sqs_client, "s3": s3_client}
    if streams_client is None or (other is not None and clients[other] is None):
        from streamflow.runner._aws import make_clients

        made = make_clients(
            endpoint_url=config.endpoint_url,
            region=config.region,
            profile=config.profile,
            services=("dynamodbstreams", other) if other else ("dynamodbstreams",),
        )
        streams_client = streams_client or made[0]
        if other is not None:
            clients[other] = clients[other] or made[1]
    reporter = RedriveReporter(quiet=config.quiet, json_log=config.json_log)
    stop_event = stop_event or threading.Event()
    calls = SourceCalls(
        stop=stop_event,
        base=config.throttle_base,
        cap=config.throttle_cap,
        report=lambda operation, exc, delay: reporter.retrying_call(
            operation=operation, code=error_code(exc), delay=delay, shard_id=None
        ),
        warn=reporter.warning,
    )
    if where.kind == "sqs":
        timeout = config.visibility_timeout
        feed = SqsSource(clients["sqs"], config.source, visibility_timeout=timeout, calls=calls)
    elif where.kind == "s3":
        uri = config.source if is_s3_uri(config.source) else f"s3://{where.name}/"
        feed = S3Source(clients["s3"], uri, calls=calls)
    assert feed is not None
    driver = Redrive(
        handler=function,
        matches=matches,
        config=config,
        source=feed,
        streams=streams_client,
        reporter=reporter,
        stop_event=stop_event,
        on_failure=OnFailureDestination.of(
            config,
            handler=function,
            sqs_client=clients["sqs"],
            sns_client=sns_client,
            s3_client=clients["s3"],
        ),
    )
    with _signals(driver, enabled=handle_signals):
        return driver.run()


def _source_of(source: str) -> Destination:
    """What ``--source`` names, in the forms ``--on-failure`` writes: a file, an SQS queue
    (URL or ARN), an S3 bucket or prefix (``s3://`` or a bucket ARN).

    Raises:
        RunnerConfigError: an SNS topic (read from the queue subscribed to it), or none of
            the forms.
    """
    try:
        where = parse_destination(source)
    except ValueError as exc:
        raise RunnerConfigError("source", str(exc)) from None
    if where.kind == "sns":
        raise RunnerConfigError(
            "source",
            f"{source} is an SNS topic, which keeps no messages: redrive from the SQS queue "
            "subscribed to it",
        )
    if where.kind == "file" and os.path.isdir(source):
        raise RunnerConfigError("source", f"{source} is a directory, not a JSON Lines file")
    return where


class Redrive:
    """Redrives one source's batches through ``handler`` (see the module docstring).

    Args:
        handler: the Lambda handler to invoke.
        matches: the filters' verdict on a record (``None``: keep every record).
        config: the validated settings.
        source: the on-failure records.
        streams: a DynamoDB Streams client (boto3, or a test double).
        reporter: where events go.
        stop_event: set it (from any thread) to stop after the batch in flight.
        on_failure: where the on-failure records of batches that fail again go (by default,
            what ``config.on_failure`` names, its client made when first needed).
    """

    def __init__(
        self,
        *,
        handler: LambdaHandler,
        matches: Any,
        config: RedriveConfig,
        source: Source,
        streams: Any,
        reporter: RedriveReporter,
        stop_event: threading.Event | None = None,
        on_failure: OnFailureDestination | None = None,
    ) -> None:
        self.handler = handler
        self.matches = matches
        self.config = config
        self.source = source
        self.streams = streams
        self.reporter = reporter
        self.stop_event = stop_event or threading.Event()
        self.stopping = threading.Event()
        self.signalled: str | None = None
        self.stats = Stats()
        self.counts = dict.fromkeys(_BATCH_COUNTS, 0)
        self.invoker = Invoker(handler, timeout=config.function_timeout)
        self.on_failure = on_failure or OnFailureDestination.of(config, handler=handler)
        self.lost = OnFailureLog(config.lost)
        self._shared: dict[str, Shared] = {}

    def signal_received(self, name: str) -> None:
        """Stop after the batch in flight (what a SIGINT or SIGTERM handler calls)."""
        self.signalled = name
        self.stop_event.set()

    def run(self) -> RedriveSummary:
        """Redrive every batch of the source, or until a stop is requested.

        Raises:
            RunnerError: the source or the stream cannot be read (an AWS error).
            OSError: the state, lost or on-failure file cannot be written.
        """
        began = time.monotonic()
        config = self.config
        options = {each.key: getattr(config, each.name) for each in REDRIVE_OPTIONS.values()}
        options.pop("filters")
        self.reporter.redrive_started(
            source=self.source.describe(), dry_run=config.dry_run, options=options
        )
        reason = "done"
        stop = AnySet(self.stop_event, self.stopping)
        items = self.source.items()
        try:
            if not config.dry_run:  # a mistyped --on-failure stops it before anything is read
                try:
                    self.on_failure.open(self._retried)
                except Stopped:  # a stop request while its errors were waited out
                    self.stopping.set()
            while True:
                if stop.is_set():
                    reason = "stopped"
                    if self.signalled:
                        self.reporter.stopping(self.signalled)
                    break
                try:
                    item = self._next(items)
                except Stopped:  # a stop request while a throttled call was waited out
                    reason = "stopped"
                    break
                if item is None:
                    break
                self._redrive(item)
                self.reporter.progress(
                    {**self.counts, **self.stats.snapshot()}, self.source.remaining
                )
        finally:
            self.stopping.set()
            self.invoker.close()
            try:
                self._call(self.source.close)
            finally:
                self.reporter.close()
        counts = self.stats.snapshot()
        summary = RedriveSummary(
            source=self.source.describe(),
            reason=reason,
            records_invoked=counts["records_invoked"],
            invocations=counts["invocations"],
            failed_invocations=counts["failed_invocations"],
            unreceived=self.source.unreceived() if reason == "done" else 0,
            left=self.source.remaining(),
            duration=time.monotonic() - began,
            **self.counts,
        )
        self.reporter.redrive_summary(summary)
        return summary

    def _next(self, items: Any) -> Item | None:
        return self._call(lambda: next(items, None))  # type: ignore[no-any-return]

    def _call(self, call: Any) -> Any:
        """A call of the source: its AWS errors as :class:`RunnerError`."""
        try:
            return call()
        except Exception as exc:
            code = error_code(exc)
            if code is None and not _is_botocore_error(exc):
                raise
            raise RunnerError(f"{self.source.describe()}: {exc}", code=code) from exc

    # --- one on-failure record ---------------------------------------------------------------

    def _redrive(self, item: Item) -> None:
        counts = self.counts
        counts["batches"] += 1
        info = item.info
        if info is None:
            counts["malformed"] += 1
            self._release(item, ItemReport(item.where, "malformed", reason=item.problem))
            return
        shared = self._shared_for(info)
        if item.records is not None:
            found, problem = _payload_found(shared, info, item.records)
        else:
            try:
                missing = self._stream_missing(shared)
                if missing is None:
                    found = read_batch(shared, info, patience=self.config.read_patience)
            except Stopped:  # a stop request while the stream's errors were waited out
                missing, found = None, Found(stopped=True)
            if missing is not None:
                counts["batches_mismatched"] += 1
                self._release(item, _report(item, info, "mismatch", Found(), reason=missing))
                return
            if found.stopped:
                self._release(item, _report(item, info, "stopped", found))
                return
            problem = _mismatch(info, found, self.config.read_patience, self.config.whole_range)
        counts["records_found"] += found.kept
        lost = max(0, info.batch_size - found.kept) if found.gaps else 0
        if problem is not None:
            counts["batches_mismatched"] += 1
            self._release(item, _report(item, info, "mismatch", found, reason=problem))
            return
        if found.gaps:
            counts["batches_lost"] += 1
            counts["records_lost"] += lost
        if self.config.dry_run:
            counts["batches_listed"] += 1
            status = "lost" if found.gaps else "listed"
            self._release(item, _report(item, info, status, found, lost=lost))
            return
        outcome = deliver(shared, info, found.entries) if found.kept else "ok"
        if shared.fatal is not None:
            raise _as_runner_error(shared.fatal)
        if outcome != "ok":
            if outcome == "failed":
                counts["batches_failed"] += 1
            self._release(item, _report(item, info, outcome, found, lost=lost))
            return
        if found.gaps:
            if self.lost.path is None:
                reason = "no --lost file to record the lost records in: left in its source"
                self._release(item, _report(item, info, "lost", found, lost=lost, reason=reason))
                return
            self.lost.write(_lost_line(item, info, found, lost))
        else:
            counts["batches_redriven"] += 1
        self._call(lambda: self.source.ack(item))
        status = "lost" if found.gaps else "redriven"
        self.reporter.item(_report(item, info, status, found, lost=lost, acknowledged=True))

    def _release(self, item: Item, report: ItemReport) -> None:
        self.source.release(item)
        self.reporter.item(report)

    def _shared_for(self, info: BatchInfo) -> Shared:
        shared = self._shared.get(info.stream_arn)
        if shared is None:
            shared = self._shared[info.stream_arn] = Shared(
                config=runner_config(self.config, info.table),
                streams=self.streams,
                stream_arn=info.stream_arn,
                table=info.table,
                region=info.region,
                account=info.account,
                invoker=self.invoker,
                matches=self.matches,
                partition_key=None,
                checkpoints=CheckpointStore(None),
                on_failure=self.on_failure,
                reporter=self.reporter,
                stats=self.stats,
                budget=None,
                stopping=self.stopping,
                requested=self.stop_event,
            )
        return shared

    def _stream_missing(self, shared: Shared) -> str | None:
        """Why the stream cannot be read at all (no such stream here), or ``None``."""
        try:
            self._retried(
                "DescribeStream",
                lambda: self.streams.describe_stream(StreamArn=shared.stream_arn, Limit=1),
            )
        except Exception as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return "no such stream at this endpoint, Region and account"
            raise _as_runner_error(exc) from exc
        return None

    def _retried(self, operation: str, call: Callable[[], T]) -> T:
        """A call made outside a batch's delivery (finding a stream, the ``--on-failure``
        destination): transient errors waited out for six tries, each counted and reported.

        Raises:
            Stopped: a stop was requested while waiting.
            Exception: an error that is not transient, or the last transient one.
        """

        def report(exc: BaseException, delay: float) -> None:
            self.stats.add(throttled=1)
            self.reporter.retrying_call(
                operation=operation, code=error_code(exc), delay=delay, shard_id=None
            )

        config = self.config
        return retrying(
            call,
            stop=AnySet(self.stop_event, self.stopping),
            backoff=Backoff(config.throttle_base, config.throttle_cap),
            on_retry=report,
            attempts=6,
        )


def _payload_found(
    shared: Shared, info: BatchInfo, records: list[dict[str, Any]]
) -> tuple[Found, str | None]:
    """The entries of a payload's records (filtered as the shard reader filters), and why
    they are not the batch ``info`` names, or ``None``: every record of the stream and range,
    in order, the first and last at its ends, as many kept as its ``batchSize``."""
    found = Found(reached_end=True)
    now = time.monotonic()
    problem: str | None = None
    previous = -1
    for record in records:
        stream = record["dynamodb"]
        sequence = stream["SequenceNumber"]
        number = int(sequence)
        source_arn = record.get("eventSourceARN")
        if problem is None and source_arn is not None and source_arn != info.stream_arn:
            problem = f"the payload's record {sequence} is of another stream ({source_arn})"
        if problem is None and not int(info.start) <= number <= int(info.end):
            problem = f"the payload's record {sequence} is outside the batch's range"
        if problem is None and number <= previous:
            problem = f"the payload's records are not in stream order (at {sequence})"
        previous = number
        created = stream.get("ApproximateCreationDateTime")
        keep = shared.matches is None or shared.matches(record)
        found.entries.append(
            Entry(
                text=sequence,
                payload=_compact(record) if keep else None,
                created=float(created) if isinstance(created, (int, float)) else time.time(),
                lane=0,
                read_at=now,
            )
        )
    kept = found.kept
    shared.stats.add(
        records_read=len(records), records_kept=kept, records_dropped=len(records) - kept
    )
    if problem is None and (found.entries[0].text, found.entries[-1].text) != (
        info.start,
        info.end,
    ):
        problem = "the payload's first and last records are not the batch's range"
    if problem is None and kept != info.batch_size:
        problem = (
            f"the payload holds {kept} records the filters keep, the batch had "
            f"{info.batch_size}: the filters differ from the mapping's"
        )
    return found, problem


def _mismatch(info: BatchInfo, found: Found, patience: float, whole_range: bool) -> str | None:
    """Why the records read are not the batch that failed, or ``None``. A range holding
    more records than the batch is one only with ``whole_range``."""
    kept, size = found.kept, info.batch_size
    if kept > size and not whole_range:
        return (
            f"the range holds {kept} records the filters keep, the batch had {size}: a "
            "parallelization factor above 1 interleaves other batches' records (deliver "
            "them all with --whole-range), or the filters differ from the mapping's"
        )
    if found.gaps:
        return None
    if not found.reached_end:
        return f"the range's last record was not found (empty pages for {patience:g}s)"
    if kept < size:
        return (
            f"the range holds {kept} records the filters keep, the batch had {size}: the "
            "filters differ from the mapping's"
        )
    return None


def _report(
    item: Item,
    info: BatchInfo,
    status: str,
    found: Found,
    *,
    lost: int = 0,
    acknowledged: bool = False,
    reason: str | None = None,
) -> ItemReport:
    if reason is None and found.kept > info.batch_size:
        reason = f"the whole range: {found.kept - info.batch_size} records of other batches too"
    return ItemReport(
        where=item.where,
        status=status,
        shard_id=info.shard_id,
        start=info.start,
        end=info.end,
        batch_size=info.batch_size,
        found=found.kept,
        dropped=found.dropped,
        lost=lost,
        age=_age(info, found),
        acknowledged=acknowledged,
        reason=reason or (LOST_REASON if found.gaps else None),
    )


def _age(info: BatchInfo, found: Found) -> float | None:
    """Seconds since the batch's first record arrived in the stream."""
    if found.entries:
        return max(0.0, time.time() - found.entries[0].created)
    try:
        first = calendar.timegm(time.strptime(info.first_arrival or "", "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return None
    return max(0.0, time.time() - first)


def _lost_line(item: Item, info: BatchInfo, found: Found, lost: int) -> dict[str, Any]:
    """A line of the ``lost`` file: the batch, and the ranges of its records that are gone."""
    return {
        "time": _now_iso(),
        "source": item.where,
        "reason": LOST_REASON,
        "streamArn": info.stream_arn,
        "shardId": info.shard_id,
        "startSequenceNumber": info.start,
        "endSequenceNumber": info.end,
        "batchSize": info.batch_size,
        "recordsFound": found.kept,
        "recordsLost": lost,
        "gaps": [{"after": gap.after, "before": gap.before} for gap in found.gaps],
        "onFailureRecord": item.document,
    }
