"""A hypothesis state machine drives the score recipe against moto's server: scores are
added, changed and deleted on a simulated shard, and slices of it are delivered at random
(whole batches, suffixes, splits, duplicates), some under injected throttling and transaction
conflicts, some racing a parallel invocation. After every step each user's total must equal
the sum of the changes of the records applied, each counted once."""

from __future__ import annotations

import itertools
import types
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from streamflow import StreamRecord, testing
from streamflow.codec import deserialize_item, serialize_item
from streamflow.recipes.scores import DEFAULT_TASKS, ScoreAggregator, score_item, task_item

USERS = 3
TASKS = sorted(DEFAULT_TASKS)
_examples = itertools.count()


class Faults:
    """Error responses for the next TransactWriteItems calls of one client (botocore's
    before-call seam: the request is answered without being sent)."""

    def __init__(self, client: Any) -> None:
        self.plan: Callable[[int], dict[str, Any] | None] = lambda n: None
        self.calls = 0
        client.meta.events.register("before-call.dynamodb.TransactWriteItems", self._answer)

    def _answer(self, **_: Any) -> Any:
        self.calls += 1
        response = self.plan(self.calls)
        if response is None:
            return None
        return types.SimpleNamespace(status_code=400, headers={}), response

    def set(self, plan: Callable[[int], dict[str, Any] | None]) -> None:
        self.calls = 0
        self.plan = plan


def conflict() -> dict[str, Any]:
    return {
        "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
        "CancellationReasons": [{"Code": "TransactionConflict"}],
    }


def throttled() -> dict[str, Any]:
    return {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}


@pytest.fixture(scope="module")
def world(aws_settings: dict[str, Any]) -> Any:
    import boto3

    a = boto3.client("dynamodb", **aws_settings)
    b = boto3.client("dynamodb", **aws_settings)
    table = f"scores-{uuid.uuid4().hex[:8]}"
    testing.create_table(a, table)
    for task_type, points in DEFAULT_TASKS.items():
        a.put_item(TableName=table, Item=serialize_item(task_item(task_type, points)))
    yield types.SimpleNamespace(table=table, a=a, b=b, faults_a=Faults(a), faults_b=Faults(b))
    a.delete_table(TableName=table)


def test_totals_stay_exact_under_any_delivery(world: Any) -> None:
    class Deliveries(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            n = next(_examples)
            self.users = [f"e{n}u{i}" for i in range(USERS)]
            self.first = (n + 1) * 10**24
            self.records: list[StreamRecord] = []  # the shard, in order
            self.deltas: dict[str, tuple[str, int]] = {}  # event id -> (user, points)
            self.live: dict[str, dict[str, Any]] = {}  # score id -> its item now
            self.applied: set[str] = set()
            self.scores = 0
            world.faults_a.set(lambda n: None)
            world.faults_b.set(lambda n: None)
            self.a = ScoreAggregator(
                table=world.table, dynamodb=world.a, max_attempts=2, sleep=lambda s: None
            )
            self.b = ScoreAggregator(table=world.table, dynamodb=world.b, sleep=lambda s: None)

        # --- the shard ---------------------------------------------------------------------

        def _append(self, change: testing.Change, user: str, points: int) -> None:
            raw = testing.records(change, first_sequence_number=self.first + len(self.records))
            record = StreamRecord.from_lambda(raw[0])
            self.records.append(record)
            self.deltas[record.event_id] = (user, points)

        @staticmethod
        def _points(item: dict[str, Any]) -> int:
            return int(item.get("points", DEFAULT_TASKS[item["taskType"]]))

        @rule(user=st.integers(0, USERS - 1), task=st.sampled_from(TASKS), own=st.booleans())
        def add_score(self, user: int, task: str, own: bool) -> None:
            score_id = f"{self.users[user]}s{self.scores}"
            self.scores += 1
            item = score_item(score_id, self.users[user], task, points=7 if own else None)
            self.live[score_id] = item
            self._append(testing.insert(item), self.users[user], self._points(item))

        @precondition(lambda self: self.live)
        @rule(data=st.data(), points=st.integers(0, 40))
        def change_points(self, data: st.DataObject, points: int) -> None:
            score_id = data.draw(st.sampled_from(sorted(self.live)))
            old = self.live[score_id]
            new = {**old, "points": points}
            self.live[score_id] = new
            delta = self._points(new) - self._points(old)
            self._append(testing.modify(old, new), old["userId"], delta)

        @precondition(lambda self: self.live)
        @rule(data=st.data())
        def delete_score(self, data: st.DataObject) -> None:
            score_id = data.draw(st.sampled_from(sorted(self.live)))
            old = self.live.pop(score_id)
            self._append(testing.remove(old), old["userId"], -self._points(old))

        # --- Lambda delivering -------------------------------------------------------------

        def _check(self, result: Any, before: set[str]) -> None:
            for record in result.applied:
                assert record.event_id not in self.applied, "a record was applied twice"
                self.applied.add(record.event_id)
            for record in result.duplicates:
                assert record.event_id in before or record.event_id in self.applied
            for record in result.skipped:  # only a MODIFY that leaves the points alone
                assert record.event_name.value == "MODIFY"
                assert self.deltas[record.event_id][1] == 0
            failed = {record.event_id for record, _ in result.failed}
            assert not failed & {record.event_id for record in result.applied}

        @precondition(lambda self: self.records)
        @rule(
            data=st.data(),
            fault=st.sampled_from([None, None, "conflict", "throttle"]),
            twice=st.booleans(),
        )
        def deliver(self, data: st.DataObject, fault: str | None, twice: bool) -> None:
            start = data.draw(st.integers(0, len(self.records) - 1))
            stop = data.draw(st.integers(start + 1, len(self.records)))
            batch = self.records[start:stop]
            if twice:
                batch = batch + batch[: data.draw(st.integers(1, len(batch)))]
            if fault == "conflict":
                world.faults_a.set(lambda n: conflict() if n == 1 else None)
            elif fault == "throttle":
                world.faults_a.set(lambda n: throttled() if n <= 2 else None)
            result = self.a.apply(batch)
            world.faults_a.set(lambda n: None)
            self._check(result, set(self.applied))
            if fault is None:
                assert not result.failed

        @precondition(lambda self: self.records)
        @rule(data=st.data())
        def race(self, data: st.DataObject) -> None:
            """Invocation B runs whole while A's first transaction is in flight, which then
            meets TransactionConflict (as on AWS, where transactions serialize)."""
            size = len(self.records)
            a_start = data.draw(st.integers(0, size - 1))
            b_start = data.draw(st.integers(0, size - 1))
            outcome: dict[str, Any] = {}

            def in_flight(n: int) -> dict[str, Any] | None:
                if n != 1:
                    return None
                outcome["b"] = self.b.apply(self.records[b_start:])
                return conflict()

            world.faults_a.set(in_flight)
            result = self.a.apply(self.records[a_start:])
            world.faults_a.set(lambda n: None)
            before = set(self.applied)
            if "b" in outcome:
                self._check(outcome["b"], before)
            self._check(result, before)

        # --- the invariant -----------------------------------------------------------------

        @invariant()
        def totals_count_each_applied_record_once(self) -> None:
            want = dict.fromkeys(self.users, 0)
            for event_id in self.applied:
                user, points = self.deltas[event_id]
                want[user] += points
            keys = [serialize_item({"PK": f"USER#{u}", "SK": "TOTAL"}) for u in self.users]
            response = world.a.batch_get_item(RequestItems={world.table: {"Keys": keys}})
            got = dict.fromkeys(self.users, 0)
            for raw in response["Responses"][world.table]:
                item = deserialize_item(raw)
                got[item["userId"]] = int(item["total"])
            assert got == want

        def teardown(self) -> None:
            """Lambda finally delivers the whole shard: every record counts once, and the
            totals are those of the scores that remain."""
            result = self.a.apply(self.records)
            self._check(result, set(self.applied))
            assert not result.failed
            unchanged = {r.event_id for r in result.skipped}
            assert self.applied | unchanged == set(self.deltas)
            self.totals_count_each_applied_record_once()
            remaining = dict.fromkeys(self.users, 0)
            for item in self.live.values():
                remaining[item["userId"]] += self._points(item)
            want = {u: sum(p for e, (w, p) in self.deltas.items() if w == u) for u in self.users}
            assert want == remaining

    run_state_machine_as_test(
        Deliveries,
        settings=settings(
            max_examples=12,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            # no shrinking: each step talks to moto, and shrinking a failure would take
            # minutes; the failing steps are printed as they ran
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
        ),
    )
