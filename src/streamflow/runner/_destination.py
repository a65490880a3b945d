"""Where the on-failure record of a discarded batch goes: ``--on-failure``, Lambda's
``DestinationConfig.OnFailure`` for a stream, or a local file:

* a file path: one JSON line per record, appended and synced (:class:`~._invoke.OnFailureLog`);
* an SQS queue, by URL or by ARN (resolved with GetQueueUrl before any record is read):
  SendMessage, the body the record's JSON, exactly the file's line;
* an SNS topic ARN: Publish, the message the record's JSON;
* an S3 bucket (``arn:aws:s3:::BUCKET`` or ``s3://BUCKET[/PREFIX]``): PutObject of the record
  plus ``payload`` (the discarded records' invocation event as JSON text) under Lambda's key
  (:func:`s3_key`; the mapping's UUID is a stand-in: :func:`mapping_uuid`).

A write returns once the destination holds the record: the checkpoint moves past the
discarded records only after it. Transient errors are retried with the runner's backoff until
a stop; any other error is a :class:`~streamflow.errors.RunnerError` naming the destination.

Just over 400 lines: reading the four forms, writing to each, and Lambda's S3 key naming are
one concept, each part short.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from streamflow.errors import RunnerConfigError, RunnerError
from streamflow.runner._aws import Stopped, error_code
from streamflow.runner._invoke import OnFailureLog
from streamflow.runner._redrive_source import is_queue_url, is_s3_uri

__all__ = [
    "AwsCall",
    "Destination",
    "OnFailureDestination",
    "handler_name",
    "mapping_uuid",
    "ordered_uuid",
    "parse_destination",
    "queue_url",
    "s3_key",
]

AwsCall = Callable[[str, Callable[[], Any]], Any]
"""Runs one AWS call, named by its operation (``SendMessage``), waiting out transient errors
(see ``_aws.retrying``); raises what retrying cannot fix, or ``Stopped``."""

DestinationKind = Literal["file", "sqs", "sns", "s3"]

FORMS = (
    "a file path, an SQS queue URL or ARN (arn:aws:sqs:REGION:ACCOUNT:NAME), an SNS topic "
    "ARN (arn:aws:sns:REGION:ACCOUNT:NAME), or an S3 bucket (arn:aws:s3:::BUCKET or "
    "s3://BUCKET/PREFIX)"
)
_CHECKS = ("GetQueueUrl", "GetQueueAttributes", "GetTopicAttributes", "HeadBucket")
"""The calls made before anything is read, to find the destination."""
_DENIED = ("AccessDenied", "AccessDeniedException", "AuthorizationError", "403")
"""Error codes of a call refused for want of a permission (S3's HeadBucket answers 403)."""
_ACCOUNT = re.compile(r"\d{12}")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")


@dataclass(frozen=True, slots=True)
class Destination:
    """An ``--on-failure`` value, read (see :func:`parse_destination`).

    Attributes:
        kind: ``file``, ``sqs``, ``sns`` or ``s3``.
        value: the value as given (what reports and errors show).
        queue_url: an SQS queue given by URL (``""`` when given by ARN, until resolved).
        name: the queue's name (ARN form), the topic's ARN, or the bucket.
        region: an SQS or SNS ARN's Region, where its client is made.
        account: an SQS ARN's account (the queue's owner, for GetQueueUrl).
        prefix: an S3 key prefix, without its slashes at either end (``""``: none).
    """

    kind: DestinationKind
    value: str
    queue_url: str = ""
    name: str = ""
    region: str | None = None
    account: str | None = None
    prefix: str = ""


def parse_destination(value: object) -> Destination:
    """Read an ``--on-failure`` value.

    Args:
        value: a file path, an SQS queue URL or ARN, an SNS topic ARN, or an S3 bucket
            (``arn:aws:s3:::BUCKET``, ``s3://BUCKET`` or ``s3://BUCKET/PREFIX``).

    Returns:
        The destination (a file path is not checked here: see ``_option``).

    Raises:
        ValueError: anything else (an ARN of another service, an empty value...), saying why.

    >>> parse_destination("arn:aws:sqs:us-east-1:123456789012:failures").name
    'failures'
    >>> parse_destination("s3://failures/orders/").prefix
    'orders'
    >>> parse_destination("arn:aws:lambda:us-east-1:123456789012:function:f")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: an ARN of lambda: a stream's on-failure destination is an SQS queue, ...
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"give {FORMS}")
    if is_queue_url(value):
        parts = urlsplit(value)
        if not parts.netloc or not parts.path.strip("/"):
            raise ValueError(f"{value} is not an SQS queue URL (no queue name in its path)")
        return Destination("sqs", value, queue_url=value)
    if is_s3_uri(value):
        bucket, _, prefix = value[len("s3://") :].partition("/")
        return Destination("s3", value, name=_bucket(bucket, value), prefix=prefix.strip("/"))
    if value.startswith("arn:"):
        return _arn(value)
    if "://" in value:
        raise ValueError(f"{value} is none of {FORMS}")
    return Destination("file", value)


def _arn(value: str) -> Destination:
    parts = value.split(":", 5)
    if len(parts) != 6 or not parts[1].startswith("aws"):
        raise ValueError(f"{value} is not an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:NAME)")
    _, _, service, region, account, resource = parts
    if service == "s3":
        if region or account or "/" in resource:
            raise ValueError(
                f"{value} is not a bucket ARN (arn:aws:s3:::BUCKET); give a key prefix as "
                "s3://BUCKET/PREFIX"
            )
        return Destination("s3", value, name=_bucket(resource, value))
    if service not in ("sqs", "sns"):
        raise ValueError(
            f"an ARN of {service or 'no service'}: a stream's on-failure destination is an SQS "
            "queue, an SNS topic or an S3 bucket"
        )
    what = "an SQS queue" if service == "sqs" else "an SNS topic"
    if not region or not _ACCOUNT.fullmatch(account) or not resource or "/" in resource:
        raise ValueError(f"{value} is not {what} ARN (arn:aws:{service}:REGION:ACCOUNT:NAME)")
    if service == "sqs":
        return Destination("sqs", value, name=resource, region=region, account=account)
    return Destination("sns", value, name=value, region=region, account=account)


def _bucket(name: str, value: str) -> str:
    if not _BUCKET.fullmatch(name):
        raise ValueError(f"{value}: {name!r} is not an S3 bucket name")
    return name


def queue_url(client: Any, queue: Destination) -> str:
    """The URL of an SQS queue given by ARN (``GetQueueUrl``, with the ARN's account as
    the queue's owner).

    Raises:
        Exception: the AWS error (no such queue, access denied...).
    """
    response = client.get_queue_url(QueueName=queue.name, QueueOwnerAWSAccountId=queue.account)
    return str(response["QueueUrl"])


def handler_name(handler: Any) -> str:
    """The handler's ``module:qualified name`` (a callable object's type's), which
    :func:`mapping_uuid` derives the mapping's UUID from.

    >>> handler_name(handler_name)
    'streamflow.runner._destination:handler_name'
    """
    named = handler if hasattr(handler, "__qualname__") else type(handler)
    return f"{getattr(named, '__module__', '')}:{getattr(named, '__qualname__', '')}"


def mapping_uuid(stream_arn: str, handler: str) -> str:
    """The stand-in for the event source mapping's UUID in an S3 destination's keys: the same
    for one stream and handler in every run (a UUID 5 of both).

    >>> arn = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2025-01-01T00:00:00.000"
    >>> mapping_uuid(arn, "app:handler") == mapping_uuid(arn, "app:handler")
    True
    >>> mapping_uuid(arn, "app:handler") == mapping_uuid(arn, "app:other")
    False
    """
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{stream_arn}#{handler}"))


def s3_key(*, prefix: str, mapping: str, shard_id: str, when: float) -> str:
    """The key of an S3 destination's object, as Lambda names it:
    ``[PREFIX/]aws/lambda/<mapping UUID>/<shardId>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<UUID>``.
    Lambda's last UUID is random; this one is time-ordered (:func:`ordered_uuid`), so that a
    listing, in key order, gives a shard's objects in the order they were written, also
    within one second.

    Args:
        prefix: the key prefix of an ``s3://BUCKET/PREFIX`` destination (``""``: none).
        mapping: the mapping's UUID.
        shard_id: the shard of the discarded records.
        when: the time of the failure (epoch seconds; UTC in the key).

    >>> s3_key(prefix="f", mapping="m", shard_id="shardId-1", when=0)[:56]
    'f/aws/lambda/m/shardId-1/1970/01/01/1970-01-01T00.00.00-'
    """
    moment = time.gmtime(when)
    folder = time.strftime("%Y/%m/%d", moment)
    name = time.strftime("%Y-%m-%dT%H.%M.%S", moment) + f"-{ordered_uuid(when)}"
    key = f"aws/lambda/{mapping}/{shard_id}/{folder}/{name}"
    return f"{prefix}/{key}" if prefix else key


_ORDER = threading.Lock()
_LAST = [0, 0]  # the last UUID's milliseconds and counter


def ordered_uuid(when: float) -> str:
    """A UUID version 7 (RFC 9562): the milliseconds of ``when``, a counter that keeps the
    UUIDs of this process increasing within one millisecond, then random bits.

    >>> first, second = ordered_uuid(0), ordered_uuid(0)
    >>> first < second, uuid.UUID(first).version
    (True, 7)
    """
    with _ORDER:
        millis, counter = max(int(when * 1000), _LAST[0]), 0
        if millis == _LAST[0]:
            counter = _LAST[1] + 1
            if counter > 0xFFF:  # rand_a's 12 bits are spent: borrow the next millisecond
                millis, counter = millis + 1, 0
        _LAST[:] = [millis, counter]
    value = (millis & (2**48 - 1)) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62
    return str(uuid.UUID(int=value | secrets.randbits(62)))


class _Settings(Protocol):
    """What the destination reads of a run's or a redrive's settings (read-only fields)."""

    @property
    def on_failure(self) -> str | None: ...
    @property
    def endpoint_url(self) -> str | None: ...
    @property
    def region(self) -> str | None: ...
    @property
    def profile(self) -> str | None: ...


class OnFailureDestination:
    """Writes the on-failure records of a run (or a redrive) to its ``--on-failure``
    destination (see the module docstring); ``None`` drops them, as Lambda does without a
    destination.

    The SQS, SNS or S3 client is the one given, or made when first needed (by :meth:`open`,
    or the first write), from the run's endpoint, Region (an ARN's own) and profile.

    Args:
        target: the ``--on-failure`` value, or ``None``.
        handler: the handler's name (:func:`handler_name`), for an S3 destination's keys.
        client: an SQS, SNS or S3 client (as the destination needs) to use instead of
            making one.
        endpoint_url: the endpoint a made client talks to (``None``: AWS's).
        region: the Region of a made client, when an ARN does not name one.
        profile: the AWS profile of a made client.

    Raises:
        RunnerConfigError: ``target`` is none of the destinations.
    """

    def __init__(
        self,
        target: str | None,
        *,
        handler: str = "",
        client: Any = None,
        endpoint_url: str | None = None,
        region: str | None = None,
        profile: str | None = None,
    ) -> None:
        self.target = target
        try:
            self.destination = parse_destination(target) if target is not None else None
        except ValueError as exc:
            raise RunnerConfigError("on_failure", str(exc)) from None
        self.handler = handler
        self.client = client
        self._client_options = {"endpoint_url": endpoint_url, "region": region, "profile": profile}
        self._file = OnFailureLog(target if self.kind == "file" else None)
        self._queue_url = self.destination.queue_url if self.destination is not None else ""
        self._lock = threading.Lock()
        self._opened = False

    @classmethod
    def of(
        cls,
        settings: _Settings,
        *,
        handler: Any = None,
        sqs_client: Any = None,
        sns_client: Any = None,
        s3_client: Any = None,
    ) -> OnFailureDestination:
        """The destination of a run's or redrive's settings (``on_failure``, and the
        ``endpoint_url``, ``region`` and ``profile`` its client is made with).

        Args:
            settings: a ``RunnerConfig`` or a ``RedriveConfig``.
            handler: the Lambda handler (for an S3 destination's keys).
            sqs_client: an SQS client to use instead of making one.
            sns_client: an SNS client to use instead of making one.
            s3_client: an S3 client to use instead of making one.
        """
        made = cls(
            settings.on_failure,
            handler=handler_name(handler) if handler is not None else "",
            endpoint_url=settings.endpoint_url,
            region=settings.region,
            profile=settings.profile,
        )
        made.client = {"sqs": sqs_client, "sns": sns_client, "s3": s3_client}.get(made.kind or "")
        return made

    @property
    def kind(self) -> DestinationKind | None:
        """``file``, ``sqs``, ``sns``, ``s3``, or ``None`` without a destination."""
        return self.destination.kind if self.destination is not None else None

    def open(self, call: AwsCall) -> None:
        """Make the client, resolve a queue ARN to its URL, and check that the queue, topic
        or bucket exists: before any record is read, so that a mistyped destination stops
        the run before it starts, not at the first discard. A check refused for want of a
        permission the writes do not need (``sqs:GetQueueAttributes``,
        ``sns:GetTopicAttributes``, ``s3:ListBucket``) is passed over: the first write says.

        Raises:
            RunnerConfigError: no Region configured, or no such profile.
            RunnerError: no such queue, topic or bucket (or the queue ARN cannot be
                resolved).
        """
        destination = self.destination
        if destination is None or destination.kind == "file" or self._opened:
            return
        with self._lock:
            if self.client is None:
                from streamflow.runner._aws import make_clients

                options = self._client_options
                (self.client,) = make_clients(
                    endpoint_url=options["endpoint_url"],
                    region=destination.region or options["region"],
                    profile=options["profile"],
                    services=(destination.kind,),
                )
            if destination.kind == "sqs" and not self._queue_url:
                client = self.client
                self._queue_url = self._calling(
                    call, "GetQueueUrl", lambda: queue_url(client, destination)
                )
            else:
                self._check_exists(call)
            self._opened = True

    def _check_exists(self, call: AwsCall) -> None:
        client, destination, url = self.client, self.destination, self._queue_url
        assert destination is not None
        checks: dict[str, tuple[str, Callable[[], Any]]] = {
            "sqs": (
                "GetQueueAttributes",
                lambda: client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"]),
            ),
            "sns": (
                "GetTopicAttributes",
                lambda: client.get_topic_attributes(TopicArn=destination.name),
            ),
            "s3": ("HeadBucket", lambda: client.head_bucket(Bucket=destination.name)),
        }
        operation, check = checks[destination.kind]
        try:
            self._calling(call, operation, check)
        except RunnerError as exc:
            if exc.code not in _DENIED:
                raise

    def write(self, record: dict[str, Any], *, event: str, call: AwsCall) -> None:
        """Send one on-failure record; return once the destination holds it.

        Args:
            record: the on-failure record (``_invoke.on_failure_record``).
            event: the invocation event of the discarded records, as JSON text: an S3
                destination's ``payload``.
            call: how to make the AWS call (transient errors waited out).

        Raises:
            RunnerError: the destination cannot be written (not a transient error).
            Stopped: a stop was requested while a transient error was waited out.
            OSError: the file cannot be written.
        """
        kind = self.kind
        if kind is None:
            return
        if kind == "file":
            self._file.write(record)
            return
        self.open(call)
        client, destination = self.client, self.destination
        assert destination is not None
        body = json.dumps(record, separators=(",", ":"))
        if kind == "sqs":
            url = self._queue_url
            self._calling(
                call, "SendMessage", lambda: client.send_message(QueueUrl=url, MessageBody=body)
            )
        elif kind == "sns":
            topic = destination.name
            self._calling(call, "Publish", lambda: client.publish(TopicArn=topic, Message=body))
        else:
            info = record["DDBStreamBatchInfo"]
            key = s3_key(
                prefix=destination.prefix,
                mapping=mapping_uuid(info["streamArn"], self.handler),
                shard_id=info["shardId"],
                when=time.time(),
            )
            data = json.dumps({**record, "payload": event}, separators=(",", ":")).encode()
            bucket = destination.name
            self._calling(
                call, "PutObject", lambda: client.put_object(Bucket=bucket, Key=key, Body=data)
            )

    def _calling(self, call: AwsCall, operation: str, fn: Callable[[], Any]) -> Any:
        """``call(operation, fn)``, its AWS errors as a :class:`RunnerError` naming the
        destination (and, for a write, saying that the batch is kept)."""
        try:
            return call(operation, fn)
        except Stopped:
            raise
        except Exception as exc:
            from streamflow.runner._engine import _is_botocore_error

            code = error_code(exc)
            if code is None and not _is_botocore_error(exc):
                raise
            response = getattr(exc, "response", None)
            error = response.get("Error") if isinstance(response, dict) else None
            message = error.get("Message") if isinstance(error, dict) else None
            failed, kept = "cannot be written", "; the batch is kept (not checkpointed past)"
            if operation in _CHECKS:
                failed, kept = "cannot be reached", ""
            raise RunnerError(
                f"the on-failure destination {self.target} {failed} ({operation}): "
                f"{message or exc}{kept}",
                code=code,
            ) from exc
