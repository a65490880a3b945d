"""The settings of a redrive, each option declared once.

A redrive delivers again the batches an event source mapping gave up on, with ``run``'s
event, response and retry rules: the options those rules read (``batch_size``,
``bisect_on_error``, ``max_retries``, ``function_timeout``, ``filters``, the AWS ones,
``quiet``, ``json_log``...) are the runner's own declarations (``_config.OPTIONS``), reused
here; :class:`RedriveConfig` adds what only a redrive has: the source, its state file, the
lost-records file, ``--dry-run``. ``runner_config`` turns a redrive's settings into the
:class:`~._config.RunnerConfig` the shard worker reads.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from streamflow.errors import RunnerConfigError
from streamflow.runner._config import OPTIONS as RUN_OPTIONS
from streamflow.runner._config import RunnerConfig
from streamflow.runner._destination import parse_destination
from streamflow.runner._option import Option, declared, option
from streamflow.runner._redrive_source import is_queue_url, is_s3_uri

if TYPE_CHECKING:
    from streamflow.runner._handler import FilterSpec

__all__ = ["REDRIVE_OPTIONS", "RedriveConfig", "feeds_itself", "runner_config"]

SOURCE = "source"
REDRIVE = "redrive"
FUNCTION = "function (Lambda's names in brackets)"

DEFAULT_MAX_RETRIES = 2
"""A redrive retries a failing batch twice, then leaves it in its source: Lambda's default
(-1, until the record expires) would keep a still-broken handler busy for a day."""


def _run_option(name: str, **changes: Any) -> Any:
    """A field declared by ``streamflow run``'s option ``name`` (its kind, range and help),
    with ``changes`` (a different default, group or help)."""
    spec: Option = RUN_OPTIONS[name]
    default = changes.pop("default", spec.default)
    return field(default=default, metadata={"option": replace(spec, **changes)})


@dataclass(frozen=True, slots=True)
class RedriveConfig:
    """Every knob of a redrive: :func:`streamflow.runner.redrive`'s options, with its names
    and defaults, then timings (not options: tests shorten them).

    Raises:
        RunnerConfigError: an option's value is out of its range, naming the option.
    """

    source: str = field(
        metadata=option(
            kind="name",
            help="Lambda's on-failure destination: an SQS queue (URL or ARN; raw or SNS "
            "messages), or an S3 bucket's objects (s3://BUCKET/KEY, s3://BUCKET/PREFIX, or "
            "arn:aws:s3:::BUCKET); or the JSON Lines file `streamflow run --on-failure` writes",
            metavar="SOURCE",
        )
    )
    endpoint_url: str | None = _run_option(
        "endpoint_url", help="a local endpoint (DynamoDB Streams, SQS and S3)"
    )
    region: str | None = _run_option("region")
    profile: str | None = _run_option("profile")
    batch_size: int = _run_option("batch_size")
    filters: FilterSpec | Sequence[FilterSpec] | None = _run_option("filters")  # noqa: RUF009
    no_filter: bool = field(
        default=False,
        metadata=option(
            kind="switch",
            help="deliver every record of the batches, ignoring --filter and a Router's filters",
            group=REDRIVE,
        ),
    )
    whole_range: bool = field(
        default=False,
        metadata=option(
            kind="switch",
            help="deliver every record of a range that holds more than its batch (a "
            "parallelization factor above 1 interleaves a shard's batches) instead of "
            "refusing it: the other batches' records are delivered again",
            group=REDRIVE,
        ),
    )
    bisect_on_error: bool = _run_option("bisect_on_error")
    max_retries: int = _run_option(
        "max_retries",
        default=DEFAULT_MAX_RETRIES,
        help="{low} (until stopped) to {high} retries of a failing batch, then it stays in "
        "its source [MaximumRetryAttempts] ({default})",
    )
    function_timeout: int = _run_option("function_timeout", group=FUNCTION)
    on_failure: str | None = _run_option(
        "on_failure",
        help="send an on-failure record for each batch that fails again (it also stays in "
        "its source) to FILE.jsonl, an SQS queue (URL or ARN), an SNS topic (ARN) or an S3 "
        "bucket (arn:aws:s3:::BUCKET or s3://BUCKET/PREFIX), as `streamflow run` does",
    )
    state: str | None = field(
        default=None,
        metadata=option(
            kind="path",
            help="the JSON file recording which lines of a JSON Lines SOURCE are done "
            "(default: SOURCE.state.json)",
            group=SOURCE,
            metavar="FILE",
        ),
    )
    lost: str | None = field(
        default=None,
        metadata=option(
            kind="path",
            help="append each range of records no longer in the stream (trimmed), one JSON "
            "line each; a batch with lost records is done only once they are written here",
            group=REDRIVE,
            metavar="FILE.jsonl",
        ),
    )
    visibility_timeout: int = field(
        default=60,
        metadata=option(
            kind="int",
            low=1,
            high=43_200,
            help="{low}-{high} seconds an SQS message stays hidden once received, renewed "
            "every third of it while its batch is redriven; a killed redrive's message is "
            "visible again after it ({default})",
            group=SOURCE,
            metavar="S",
        ),
    )
    dry_run: bool = field(
        default=False,
        metadata=option(
            kind="switch",
            help="list what would be redriven (records found, range, age, lost) and invoke "
            "nothing, acknowledge nothing",
            group=REDRIVE,
        ),
    )
    quiet: bool = _run_option("quiet")
    json_log: bool = _run_option("json_log")
    # Timings (seconds).
    poll_interval: float = 0.25
    retry_base: float = 0.1
    retry_cap: float = 2.0
    throttle_base: float = 0.1
    throttle_cap: float = 10.0
    read_patience: float = 30.0
    """How long empty pages of an open shard are read before the rest of a range counts as
    not found (AWS may answer several empty pages before records)."""

    def __post_init__(self) -> None:
        for each in REDRIVE_OPTIONS.values():
            each.check(getattr(self, each.name), self)
        if self.on_failure is not None and feeds_itself(self.source, self.on_failure):
            raise RunnerConfigError(
                "on_failure",
                f"{self.on_failure} is where --source {self.source} reads from: a batch that "
                "fails again would come back to this redrive without end (a queue) or twice "
                "(a file, a bucket); send it elsewhere, or leave --on-failure out (a batch that "
                "fails again stays in its source)",
            )

    @property
    def state_path(self) -> str:
        """The state file of a JSON Lines source."""
        return self.state or self.source + ".state.json"


def feeds_itself(source: str, on_failure: str) -> bool:
    """Whether the on-failure records a redrive writes would land in its own source: the
    same file, the same queue (by URL or ARN), or an S3 prefix that would hold the objects.

    >>> feeds_itself("https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
    ...              "arn:aws:sqs:us-east-1:123456789012:dlq")
    True
    >>> feeds_itself("s3://failures/aws/lambda/", "s3://failures")
    True
    >>> feeds_itself("failures.jsonl", "again.jsonl")
    False
    """
    try:
        destination = parse_destination(on_failure)
    except ValueError:
        return False  # refused on its own, by the option's check
    if destination.kind == "file":
        return not (is_queue_url(source) or is_s3_uri(source)) and os.path.abspath(
            source
        ) == os.path.abspath(on_failure)
    if destination.kind == "sqs" and is_queue_url(source):
        if destination.queue_url:
            return destination.queue_url.rstrip("/") == source.rstrip("/")
        path = urlsplit(source).path.strip("/").split("/")
        return path[-1] == destination.name and (
            len(path) < 2 or not path[-2].isdigit() or path[-2] == destination.account
        )
    if destination.kind == "s3" and is_s3_uri(source):
        bucket, _, key = source[len("s3://") :].partition("/")
        written = (destination.prefix + "/" if destination.prefix else "") + "aws/lambda/"
        return bucket == destination.name and (written.startswith(key) or key.startswith(written))
    return False


REDRIVE_OPTIONS: dict[str, Option] = declared(RedriveConfig)
"""The declared options by field name, in the order of ``redrive()``'s signature."""


def runner_config(config: RedriveConfig, table: str) -> RunnerConfig:
    """The settings of the shard worker that delivers a redriven batch: one lane, no
    batching window, no tumbling window, no record age limit (the records are old: that may
    be why they failed).

    >>> runner_config(RedriveConfig(source="f.jsonl"), "scores").max_retries
    2
    """
    return RunnerConfig(
        table=table,
        batch_size=config.batch_size,
        bisect_on_error=config.bisect_on_error,
        max_retries=config.max_retries,
        function_timeout=config.function_timeout,
        on_failure=config.on_failure,
        quiet=config.quiet,
        json_log=config.json_log,
        poll_interval=config.poll_interval,
        retry_base=config.retry_base,
        retry_cap=config.retry_cap,
        throttle_base=config.throttle_base,
        throttle_cap=config.throttle_cap,
    )
