"""The AWS boundary: making boto3 clients, classifying errors, backing off.

boto3 is imported here only, and only when clients are made: tests inject their own client
(moto over HTTP, or the in-memory double). Both raise :class:`botocore.exceptions.ClientError`
with AWS's error codes, which is all the runner reads.

Clients are made with botocore's retries turned off: the runner does its own capped
exponential backoff with jitter, so that throttling is visible (status line, JSON log) and
honours Ctrl-C.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from streamflow.errors import RunnerConfigError, _Signal

__all__ = [
    "AnySet",
    "Backoff",
    "Stopped",
    "error_code",
    "is_transient",
    "make_clients",
    "retrying",
]

T = TypeVar("T")

THROTTLING_CODES = frozenset(
    {
        "LimitExceededException",
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",  # SQS
        "SlowDown",  # S3 (with a 503)
    }
)
SERVER_CODES = frozenset(
    {"InternalServerError", "InternalFailure", "ServiceUnavailable", "ServiceUnavailableException"}
)


class Stopped(_Signal):
    """Raised inside the runner when a stop was requested during a backoff wait."""


class Waitable(Protocol):
    """What a backoff waits on: ``wait(timeout)`` is True once a stop was requested."""

    def wait(self, timeout: float) -> bool: ...


class AnySet:
    """Several events waited on as one: :meth:`wait` returns True once any of them is set.

    It polls :meth:`threading.Event.is_set`, which takes no lock. So the main thread can wait
    on an event that a signal handler sets: ``Event.wait`` holds the event's lock at moments
    the handler may interrupt, and the handler's ``set()`` would then never return.
    """

    __slots__ = ("_events",)

    _TICK = 0.05

    def __init__(self, *events: Any) -> None:
        self._events = events

    def is_set(self) -> bool:
        return any(event.is_set() for event in self._events)

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(left, self._TICK))
        return True


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ``ClientError`` (``None`` for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error")
        if isinstance(error, dict) and isinstance(error.get("Code"), str):
            return str(error["Code"])
    return None


def _http_status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        meta = response.get("ResponseMetadata")
        if isinstance(meta, dict) and isinstance(meta.get("HTTPStatusCode"), int):
            return int(meta["HTTPStatusCode"])
    return None


def is_transient(exc: BaseException) -> bool:
    """Throttling, a 5xx answer, or a connection problem: worth retrying after a pause."""
    code = error_code(exc)
    if code in THROTTLING_CODES or code in SERVER_CODES:
        return True
    status = _http_status(exc)
    if status is not None and (status >= 500 or status == 429):
        return True
    try:
        from botocore.exceptions import (
            ConnectionClosedError,
            ConnectTimeoutError,
            EndpointConnectionError,
            ReadTimeoutError,
        )
    except ImportError:  # pragma: no cover - botocore is a dependency
        return False
    return isinstance(
        exc, (ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError)
    )


class Backoff:
    """Capped exponential delays with jitter: ``d = min(cap, base * 2**n)``, then a delay
    drawn uniformly from ``[d/2, d]`` (half fixed, so it always grows; half random, so
    parallel readers spread out)."""

    __slots__ = ("_rng", "attempt", "base", "cap")

    def __init__(self, base: float, cap: float, *, rng: random.Random | None = None) -> None:
        self.base = base
        self.cap = cap
        self.attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        ceiling = float(min(self.cap, self.base * (2 ** min(self.attempt, 30))))
        self.attempt += 1
        return ceiling / 2 + float(self._rng.uniform(0, ceiling / 2))

    def reset(self) -> None:
        self.attempt = 0


def retrying(
    call: Callable[[], T],
    *,
    stop: Waitable,
    backoff: Backoff,
    on_retry: Callable[[BaseException, float], None],
    attempts: int | None = None,
) -> T:
    """Run ``call`` until it succeeds, waiting out transient errors with ``backoff``.

    Args:
        call: the AWS call.
        stop: set to give up waiting.
        backoff: the delays.
        on_retry: told of each transient error and the delay before the next try.
        attempts: give up after this many tries (``None``: never).

    Raises:
        Stopped: ``stop`` was set while waiting.
        Exception: any error that is not transient, or the last one after ``attempts``.
    """
    tried = 0
    while True:
        tried += 1
        try:
            result = call()
        except Exception as exc:
            if not is_transient(exc) or (attempts is not None and tried >= attempts):
                raise
            delay = backoff.next_delay()
            on_retry(exc, delay)
            if stop.wait(delay):
                raise Stopped from exc
            continue
        backoff.reset()
        return result


def make_clients(
    *,
    endpoint_url: str | None,
    region: str | None,
    profile: str | None,
    services: tuple[str, ...] = ("dynamodb", "dynamodbstreams"),
) -> tuple[Any, ...]:
    """Clients of ``services`` (by default a DynamoDB client and a DynamoDB Streams client)
    sharing one session, in that order.

    Raises:
        RunnerConfigError: the profile does not exist or no Region is configured.
    """
    import boto3
    from botocore.config import Config
    from botocore.exceptions import NoRegionError, ProfileNotFound

    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound as exc:
        raise RunnerConfigError("profile", str(exc)) from None
    config = Config(
        retries={"mode": "standard", "total_max_attempts": 1},
        connect_timeout=10,
        read_timeout=30,
        user_agent_extra="streamflow-runner",
    )
    try:
        client: Any = session.client  # typed per service name; these are named at run time
        return tuple(
            client(service, endpoint_url=endpoint_url, config=config) for service in services
        )
    except NoRegionError:
        raise RunnerConfigError(
            "region", "no AWS Region configured: pass --region or set AWS_REGION"
        ) from None
