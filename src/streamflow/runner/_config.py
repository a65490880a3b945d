"""The runner's settings, each option declared once.

Every option of a run is a field of :class:`RunnerConfig` with an :class:`._option.Option` in
its metadata: what it holds, its range (the one CreateEventSourceMapping enforces) or
choices, its command-line help and section, and whether the ``start`` event reports it.
Derived from that declaration: the checks (``RunnerConfig.__post_init__``), the
``streamflow run`` arguments and the mapping from them to :func:`~streamflow.runner.run`'s
options (``_cli``), the flag an error names (:func:`flag_of`), and the ``options`` of the
``start`` event (:func:`reported_options`). ``run()`` spells the same options out as typed
keyword arguments, for its users and mypy, and passes them on by name; a test keeps the two
in step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from streamflow.runner._invoke import MAX_TIMEOUT
from streamflow.runner._option import Option, declared, option

if TYPE_CHECKING:
    from streamflow.runner._handler import FilterSpec

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "MAX_WINDOW_STATE_BYTES",
    "OPTIONS",
    "RunnerConfig",
    "StartingPosition",
    "flag_of",
    "reported_options",
]

StartingPosition = Literal["TRIM_HORIZON", "LATEST"]

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
"""Lambda's limit for a synchronous invocation payload (the whole event)."""

MAX_WINDOW_STATE_BYTES = 1024 * 1024
"""Tumbling window state kept per shard; a larger state ends the window early."""

# The sections of ``streamflow run --help`` (``--table`` is in the command's own).
AWS = "AWS"
ESM = "event source mapping (Lambda's names in brackets)"
FUNCTION = "function (Lambda's names in brackets)"
LOCAL = "local run"


def _a_minute_or_more(age: int, spec: Option, config: RunnerConfig) -> str | None:
    if 0 <= age < 60:
        return f"must be {spec.low} (no limit) or 60 to {spec.high}, got {age}"
    return None


def _one_window_per_shard(window: int, spec: Option, config: RunnerConfig) -> str | None:
    if window and config.parallelization_factor > 1:
        return (
            "the local runner keeps one window state per shard, so it cannot combine a "
            "tumbling window with a parallelization factor above 1"
        )
    return None


@dataclass(frozen=True, slots=True)
class RunnerConfig:
    """Every knob of a run: :func:`streamflow.runner.run`'s options, with its names and
    defaults, then timings Lambda does not expose (not options: tests shorten them).

    Raises:
        RunnerConfigError: an option's value is out of its range, naming the option.
    """

    table: str = field(metadata=option(kind="name", help="the table to read", metavar="NAME"))
    endpoint_url: str | None = field(
        default=None,
        metadata=option(
            kind="text",
            help="a local endpoint (moto's server, LocalStack) for DynamoDB, its streams, and "
            "the on-failure destination's SQS, SNS or S3",
            group=AWS,
            metavar="URL",
        ),
    )
    region: str | None = field(
        default=None, metadata=option(kind="text", help="AWS Region", group=AWS, metavar="R")
    )
    profile: str | None = field(
        default=None, metadata=option(kind="text", help="AWS profile", group=AWS, metavar="P")
    )
    batch_size: int = field(
        default=100,
        metadata=option(
            kind="int",
            low=1,
            high=10_000,
            help="{low}-{high} [BatchSize] ({default})",
            group=ESM,
            metavar="N",
            reported=True,
        ),
    )
    batching_window: float = field(
        default=0.0,
        metadata=option(
            kind="seconds",
            low=0,
            high=300,
            help="{low}-{high} seconds [MaximumBatchingWindowInSeconds] ({default:g})",
            group=ESM,
            metavar="S",
            reported=True,
        ),
    )
    starting_position: StartingPosition = field(
        default="TRIM_HORIZON",
        metadata=option(
            kind="choice",
            choices=("TRIM_HORIZON", "LATEST"),
            note="AT_TIMESTAMP is Kinesis only",
            help="for shards without a checkpoint at the first start [StartingPosition] "
            "({default})",
            group=ESM,
            reported=True,
        ),
    )
    filters: FilterSpec | Sequence[FilterSpec] | None = field(
        default=None,
        metadata=option(
            kind="filters",
            flag="--filter",
            help="a JSON file with a pattern or a FilterCriteria; repeat for more (OR-ed) "
            "[FilterCriteria] (a Router's filter_criteria() by default)",
            group=ESM,
            metavar="PATTERN_FILE",
        ),
    )
    bisect_on_error: bool = field(
        default=False,
        metadata=option(
            kind="switch",
            help="split a failing batch in two [BisectBatchOnFunctionError]",
            group=ESM,
            reported=True,
        ),
    )
    max_retries: int = field(
        default=-1,
        metadata=option(
            kind="int",
            low=-1,
            high=10_000,
            help="{low} (until expired) to {high} [MaximumRetryAttempts] ({default})",
            group=ESM,
            metavar="N",
            reported=True,
        ),
    )
    max_record_age: int = field(
        default=-1,
        metadata=option(
            kind="int",
            low=-1,
            high=604_800,
            rule=_a_minute_or_more,
            help="{low} or 60-{high} seconds [MaximumRecordAgeInSeconds] ({default})",
            group=ESM,
            metavar="S",
            reported=True,
        ),
    )
    parallelization_factor: int = field(
        default=1,
        metadata=option(
            kind="int",
            low=1,
            high=10,
            help="{low}-{high} concurrent batches per shard [ParallelizationFactor] ({default})",
            group=ESM,
            metavar="N",
            reported=True,
        ),
    )
    tumbling_window: int = field(
        default=0,
        metadata=option(
            kind="int",
            low=0,
            high=900,
            rule=_one_window_per_shard,
            help="{low}-{high} seconds [TumblingWindowInSeconds] ({default}: off)",
            group=ESM,
            metavar="S",
            reported=True,
        ),
    )
    on_failure: str | None = field(
        default=None,
        metadata=option(
            kind="destination",
            help="send Lambda's on-failure record of each discarded batch to FILE.jsonl "
            "(appended), an SQS queue (URL or ARN), an SNS topic (ARN) or an S3 bucket "
            "(arn:aws:s3:::BUCKET or s3://BUCKET/PREFIX, with the batch's event) "
            "[DestinationConfig.OnFailure]",
            group=ESM,
            metavar="DESTINATION",
            reported=True,
        ),
    )
    function_timeout: int = field(
        default=MAX_TIMEOUT,
        metadata=option(
            kind="int",
            low=1,
            high=MAX_TIMEOUT,
            help="{low}-{high} seconds an invocation may run before it fails as timed out "
            "[Timeout] ({default})",
            group=FUNCTION,
            metavar="S",
            reported=True,
        ),
    )
    checkpoint: str | None = field(
        default=None,
        metadata=option(
            kind="path",
            help="keep shard positions in this JSON file",
            group=LOCAL,
            metavar="FILE",
            reported=True,
        ),
    )
    until_idle: float | None = field(
        default=None,
        metadata=option(
            kind="seconds",
            low=0,
            help="exit after S seconds without new records",
            group=LOCAL,
            metavar="S",
            reported=True,
        ),
    )
    max_records: int | None = field(
        default=None,
        metadata=option(
            kind="int",
            low=1,
            high=2**63,
            help="read N records, deliver them, exit",
            group=LOCAL,
            metavar="N",
            reported=True,
        ),
    )
    quiet: bool = field(
        default=False,
        metadata=option(
            kind="switch",
            checked=False,  # any truth value, as it always was
            help="print only fatal errors (as JSON with --json-log)",
            group=LOCAL,
        ),
    )
    json_log: bool = field(
        default=False,
        metadata=option(
            kind="switch",
            checked=False,
            help="one JSON object per event on stderr",
            group=LOCAL,
        ),
    )
    # Timings (seconds).
    poll_interval: float = 0.25
    discovery_interval: float = 10.0
    retry_base: float = 0.1
    retry_cap: float = 2.0
    throttle_base: float = 0.1
    throttle_cap: float = 10.0

    def __post_init__(self) -> None:
        for each in OPTIONS.values():
            each.check(getattr(self, each.name), self)


OPTIONS: dict[str, Option] = declared(RunnerConfig)
"""The declared options by field name, in the order of ``run()``'s signature and ``--help``."""


def flag_of(name: str) -> str:
    """The command line's name for the option an error names: ``batch_size`` is
    ``--batch-size``, ``filters`` is ``--filter``, ``handler`` is the positional ``HANDLER``.

    >>> flag_of("batch_size"), flag_of("filters"), flag_of("handler")
    ('--batch-size', '--filter', 'HANDLER')
    """
    if name == "handler":
        return "HANDLER"
    known = OPTIONS.get(name)
    return known.flag if known is not None else "--" + name.replace("_", "-")


def reported_options(config: RunnerConfig) -> dict[str, Any]:
    """The ``options`` of the ``start`` event: the reported options, camelCase.

    >>> reported_options(RunnerConfig(table="t"))["batchSize"]
    100
    """
    return {each.key: getattr(config, each.name) for each in OPTIONS.values() if each.reported}
