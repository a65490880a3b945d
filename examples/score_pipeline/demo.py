"""The score pipeline end to end on this machine: ``make demo``.

1. A DynamoDB endpoint: moto's server on 127.0.0.1 (the default, no AWS account needed),
   another endpoint with ``--endpoint-url``, or your AWS account with ``--aws``.
2. The table (PK/SK, stream NEW_AND_OLD_IMAGES, TTL on ``expiresAt``) and the task mappings.
3. ``handlers/submit.py`` served at ``POST /scores`` on 127.0.0.1 (curl works meanwhile).
4. ``handlers/process.py``'s router driven by ``streamflow.runner`` from the table's stream,
   as Lambda's event source mapping would (its FilterCriteria, batch size 100, bisection,
   ReportBatchItemFailures), while a few hundred scores are POSTed for a few dozen users,
   with resubmissions, conflicting ids and invalid payloads. One record fails once, on
   purpose: Lambda retries from it and delivers the records after it again.
5. A table of every user's total next to the total computed here from the accepted
   submissions, and what the processor cost in DynamoDB calls and write capacity units.

Exits 0 when every total is right and every answer was the expected one, 1 otherwise.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import pathlib
import random
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from local_api import LocalApi  # noqa: E402
from local_dynamodb import moto_server  # noqa: E402
from table import create_table, stored_totals  # noqa: E402

from streamflow import Router  # noqa: E402
from streamflow.recipes.scores import DEFAULT_TASKS  # noqa: E402
from streamflow.runner import RunSummary  # noqa: E402
from streamflow.testing import CapacityMeter  # noqa: E402

TASKS = dict(DEFAULT_TASKS)


# -- the submissions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    """One POST /scores, and the status the API must answer."""

    body: str
    expect: int
    kind: str  # "score", "resubmit", "conflict", "invalid"
    user: str = ""
    task: str = ""


def plan(users: int, scores: int, rng: random.Random) -> tuple[list[Submission], list[Submission]]:
    """Two waves of submissions: new scores and invalid payloads, then resubmissions and
    conflicting ids (after the first wave, so that which one wins is never a race)."""
    names = [f"player-{n:02d}" for n in range(1, users + 1)]
    first: list[Submission] = []
    for n in range(scores):
        user, task = rng.choice(names), rng.choice(list(TASKS))
        body: dict[str, str] = {"userId": user, "taskType": task}
        if n % 10:  # one in ten lets the API make the id
            body["scoreId"] = f"s{n:04d}"
        first.append(Submission(json.dumps(body), 202, "score", user, task))
    invalid = [
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"taskType": "hard"}),
        json.dumps({"userId": "player-01"}),
        json.dumps({"userId": "player-01", "taskType": "legendary"}),
        json.dumps({"userId": "player 01", "taskType": "easy"}),
        json.dumps({"userId": "player-01", "taskType": "easy", "points": 1000}),
        json.dumps({"userId": 7, "taskType": "easy"}),
    ]
    first += [Submission(invalid[n % len(invalid)], 400, "invalid") for n in range(scores // 15)]
    rng.shuffle(first)
    with_ids = [s for s in first if s.kind == "score" and "scoreId" in json.loads(s.body)]
    second = [Submission(s.body, 202, "resubmit", s.user, s.task) for s in rng.sample(with_ids, 30)]
    for s in rng.sample(with_ids, 10):
        other = {**json.loads(s.body), "userId": "player-intruder"}
        second.append(Submission(json.dumps(other), 409, "conflict"))
    rng.shuffle(second)
    return first, second


def post(url: str, body: str) -> tuple[int, dict[str, Any]]:
    """POST ``body`` to ``url``; the status and the JSON answer."""
    request = urllib.request.Request(
        url, data=body.encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


# -- the processor, with one failure injected ------------------------------------------------


class Processor:
    """The processor's Lambda handler, watched, and failing one record once.

    In the first batch with at least ten records, the record a third of the way in is
    reported as failed after the rest of the batch was processed, as when one record hits a
    transient error under the router's ``failure_mode="continue"``. Lambda retries from it,
    so the records after it are delivered again; their idempotency markers keep them from
    being counted twice.
    """

    def __init__(self, router: Router) -> None:
        self.router = router
        self.invocations = 0
        self.records = 0
        self.done: set[str] = set()  # score keys of records a successful invocation took
        self.injected: str | None = None
        self.last_call = time.monotonic()
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        records = event["Records"]
        if self.injected is not None or len(records) < 10:
            response = self.router.lambda_handler(event, context)
        else:
            at = len(records) // 3
            victim = records[at]
            rest = records[:at] + records[at + 1 :]
            response = self.router.lambda_handler({**event, "Records": rest}, context)
            sequence = victim["dynamodb"]["SequenceNumber"]
            response["batchItemFailures"].append({"itemIdentifier": sequence})
            self.injected = (
                f"record #{at + 1} of a batch of {len(records)} ({_score_key(victim)}, "
                f"sequence number {sequence}) reported as failed; Lambda retries from it, "
                f"so it and the {len(records) - at - 1} records after it are delivered again"
            )
        failed = [int(f["itemIdentifier"]) for f in response["batchItemFailures"]]
        lowest = min(failed, default=None)
        with self.lock:
            self.invocations += 1
            self.records += len(records)
            self.last_call = time.monotonic()
            for record in records:
                if lowest is None or int(record["dynamodb"]["SequenceNumber"]) < lowest:
                    self.done.add(_score_key(record))
        return response

    def wait_for(self, keys: set[str], *, until: float, tick: Callable[[], None]) -> None:
        """Return once every key was processed and no invocation came for two seconds (the
        retries are over), after 15 idle seconds, or at ``until``."""
        while time.monotonic() < until:
            with self.lock:
                idle = time.monotonic() - self.last_call
                if (keys <= self.done and idle > 2) or idle > 15:
                    return
            tick()
            time.sleep(0.25)


def _score_key(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["Keys"]["PK"]["S"])


class Submitter:
    """Sends the two waves of submissions, four at a time, and checks every answer."""

    def __init__(self, url: str, first: list[Submission], second: list[Submission]) -> None:
        self.url = url
        self.waves = (first, second)
        self.total = len(first) + len(second)
        self.expected = Expected()
        self.answers: collections.Counter[tuple[str, int]] = collections.Counter()
        self.surprises: list[str] = []
        self._lock = threading.Lock()

    @property
    def sent(self) -> int:
        return sum(self.answers.values())

    def submit(self, tick: Callable[[], None]) -> None:
        with ThreadPoolExecutor(max_workers=4) as pool:
            for wave in self.waves:
                for _ in pool.map(self._send, wave):
                    tick()

    def _send(self, submission: Submission) -> None:
        status, answer = post(self.url, submission.body)
        with self._lock:
            self.answers[submission.kind, status] += 1
            if status != submission.expect:
                self.surprises.append(f"{submission.body} answered {status} {answer}")
            elif submission.kind == "score":
                self.expected.scores[answer["scoreId"]] = (submission.user, submission.task)

    def report(self) -> list[str]:
        """Print the answers; the unexpected ones are problems."""
        print("answers of POST /scores:")
        for kind in ("score", "invalid", "resubmit", "conflict"):
            answers = sorted(self.answers.items())
            got = [f"{n} x {status}" for (k, status), n in answers if k == kind]
            print(f"  {kind:<9} {', '.join(got)}")
        return [f"unexpected answer: {surprise}" for surprise in self.surprises]


class Runner:
    """streamflow's local runner on a thread, driving the processor as Lambda would."""

    def __init__(
        self,
        processor: Processor,
        *,
        table: str,
        endpoint_url: str | None,
        region: str,
        failures: pathlib.Path,
    ) -> None:
        from streamflow.runner import run

        self.failures = failures
        self._stop = threading.Event()
        self._summaries: list[RunSummary] = []
        criteria = processor.router.filter_criteria()
        options: dict[str, Any] = {
            "filters": criteria,  # what the event source mapping carries
            "batch_size": 100,
            "batching_window": 1,
            "bisect_on_error": True,
            "max_retries": 3,
            "on_failure": str(failures),
        }
        print(
            "the processor reads the stream through streamflow.runner with "
            + ", ".join(f"{k}={v!r}" for k, v in options.items() if k != "filters")
            + f" and the router's {len(criteria.patterns)} filter pattern(s)"
        )
        self._thread = threading.Thread(
            target=lambda: self._summaries.append(
                run(
                    processor,
                    table=table,
                    endpoint_url=endpoint_url,
                    region=region,
                    stop_event=self._stop,
                    handle_signals=False,
                    **options,
                )
            ),
            name="runner",
        )
        self._thread.start()

    def stop(self) -> RunSummary | None:
        """Stop after the batches in flight; the run's summary (None if it crashed)."""
        self._stop.set()
        self._thread.join()
        return self._summaries[0] if self._summaries else None

    def report(self, summary: RunSummary | None, processor: Processor) -> list[str]:
        """Print what the runner and the injected failure did; what went wrong."""
        problems = []
        print()
        if processor.injected:
            print(f"injected failure: {processor.injected}")
        else:
            problems.append("no batch was large enough to inject the failure into")
        if summary is None:
            return [*problems, "the runner crashed (see above)"]
        again = summary.records_invoked - summary.records_kept
        print(
            f"runner: {summary.records_read} stream records read; {summary.records_dropped} "
            "dropped by the filters (task mappings, submission guards, totals, markers); "
            f"{summary.invocations} invocations, {summary.failed_invocations} partly failed; "
            f"{summary.records_invoked} records delivered, {again} of them again; "
            f"{summary.records_discarded} discarded"
        )
        if summary.records_discarded:
            problems.append(f"{summary.records_discarded} records discarded:")
            problems += self.failures.read_text().splitlines()
        print()
        return problems


# -- the endpoint and the table --------------------------------------------------------------


@contextmanager
def endpoint(args: argparse.Namespace) -> Iterator[tuple[str | None, str]]:
    """The DynamoDB endpoint URL (None: AWS) and the Region, for the demo's lifetime."""
    if args.aws:
        import boto3

        region = args.region or boto3.Session().region_name or "us-east-1"
        yield None, region
        return
    region = args.region or "us-east-1"
    if args.endpoint_url:
        _local_credentials()
        yield args.endpoint_url, region
        return
    with moto_server() as local:
        _local_credentials()
        yield local, region


def _local_credentials() -> None:
    """Dummy credentials for a local endpoint, unless some are set."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "demo")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "demo")
    os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")


# -- the report ------------------------------------------------------------------------------


@dataclass
class Expected:
    """Totals computed from the API's answers alone: each accepted score id counted once."""

    scores: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (user, task)

    def totals(self) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        for user, task in self.scores.values():
            total, count = out.get(user, (0, 0))
            out[user] = (total + TASKS[task], count + 1)
        return out


def compare(
    expected: dict[str, tuple[int, int]], stored: dict[str, tuple[int, int]]
) -> tuple[list[str], int]:
    """The report's rows, and how many users' totals differ."""
    rows = [f"{'user':<16} {'scores':>6} {'total':>7} {'expected':>8}  check"]
    wrong = 0
    for user in sorted(set(expected) | set(stored)):
        total, count = stored.get(user, (0, 0))
        want, want_count = expected.get(user, (0, 0))
        ok = (total, count) == (want, want_count)
        wrong += not ok
        mark = "ok" if ok else f"WRONG (count {count}, expected {want_count})"
        rows.append(f"{user:<16} {count:>6} {total:>7} {want:>8}  {mark}")
    return rows, wrong


class Progress:
    """A status line, printed when it changed, at most once a second."""

    def __init__(self) -> None:
        self._last = 0.0
        self._shown = ""

    def show(self, line: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if line != self._shown and (force or now - self._last >= 1):
            print("  " + line, flush=True)
            self._last, self._shown = now, line


# -- the run ---------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--endpoint-url", help="a DynamoDB endpoint (default: moto's server)")
    where.add_argument(
        "--aws", action="store_true", help="your AWS account (creates, then deletes a table)"
    )
    parser.add_argument("--region", help="the AWS Region (default: us-east-1 locally)")
    parser.add_argument("--port", type=int, default=8000, help="POST /scores port (0: any)")
    parser.add_argument("--users", type=int, default=36)
    parser.add_argument("--scores", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep-table", action="store_true", help="leave the table in place")
    args = parser.parse_args(argv)
    if args.users < 1 or args.scores < 100:
        parser.error("--users must be at least 1 and --scores at least 100")
    started = time.monotonic()
    with ExitStack() as stack:
        url, region = stack.enter_context(endpoint(args))
        return _run(args, url, region, stack, started)


def _run(
    args: argparse.Namespace, url: str | None, region: str, stack: ExitStack, started: float
) -> int:
    import boto3

    settings: dict[str, Any] = {"region_name": region}
    if url:
        settings["endpoint_url"] = url
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = url  # the submit handler's default client
    os.environ["AWS_DEFAULT_REGION"] = region
    table = f"score-pipeline-demo-{uuid.uuid4().hex[:8]}"
    os.environ["TABLE_NAME"] = table  # read by the handlers at import
    dynamodb = boto3.client("dynamodb", **settings)
    print(f"DynamoDB: {url or f'AWS ({region})'}; table {table}")
    create_table(dynamodb, table)
    if args.aws and not args.keep_table:
        stack.callback(dynamodb.delete_table, TableName=table)

    from handlers import process, submit

    metered = boto3.client("dynamodb", **settings)  # the processor's, counted
    meter = stack.enter_context(CapacityMeter(metered))
    processor = Processor(process.build_router(dynamodb=metered))
    try:
        api = stack.enter_context(LocalApi(submit.handler, resource="/scores", port=args.port))
    except OSError:  # the port is taken: any free one
        api = stack.enter_context(LocalApi(submit.handler, resource="/scores", port=0))
    print(f"POST /scores served at {api.url}; try, while the demo runs:")
    print(f'  curl -s -X POST {api.url} -d \'{{"userId": "ada", "taskType": "hard"}}\'')

    failures = pathlib.Path(stack.enter_context(tempfile.TemporaryDirectory())) / "failed.jsonl"
    runner = Runner(processor, table=table, endpoint_url=url, region=region, failures=failures)
    submitter = Submitter(api.url, *plan(args.users, args.scores, random.Random(args.seed)))
    progress = Progress()

    def status() -> str:
        return (
            f"submitted {submitter.sent}/{submitter.total} · processor: "
            f"{processor.invocations} invocations, {processor.records} records, "
            f"{len(processor.done)} scores done"
        )

    try:
        submitter.submit(lambda: progress.show(status()))
        progress.show(status(), force=True)
        wanted = {f"SCORE#{score}" for score in submitter.expected.scores}
        deadline = time.monotonic() + 90
        processor.wait_for(wanted, until=deadline, tick=lambda: progress.show(status()))
        progress.show(status(), force=True)
    finally:
        summary = runner.stop()

    print()
    problems = submitter.report() + runner.report(summary, processor)
    rows, wrong = compare(submitter.expected.totals(), stored_totals(dynamodb, table))
    print("\n".join(rows))
    print()
    scores = len(submitter.expected.scores)
    calls = ", ".join(f"{op} {n}" for op, n in sorted(meter.calls_by_operation.items()))
    print(
        f"processor cost for {scores} scores: {meter.calls} DynamoDB calls ({calls}), "
        f"{meter.calls / scores:.2f} per score; {meter.wcu} WCU, {meter.wcu / scores:.2f} per "
        "score, the retried and redelivered records included"
    )
    if wrong:
        problems.append(f"{wrong} of {len(rows) - 1} users have a wrong total")
    print(f"done in {time.monotonic() - started:.0f} s")
    if problems:
        print("FAILED:\n  " + "\n  ".join(problems))
        return 1
    print(f"all {len(rows) - 1} totals match the accepted submissions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
