"""The runner's small parts: option ranges, handler loading, response rules, backoff."""

from __future__ import annotations

import dataclasses
import inspect
import random
import re
from typing import Any

import pytest

from streamflow import Router
from streamflow.errors import FilterValidationError, StreamflowError
from streamflow.filters import Filter, FilterCriteria
from streamflow.runner import RunnerConfigError, RunnerError, run
from streamflow.runner._aws import Backoff, is_transient
from streamflow.runner._config import OPTIONS, RunnerConfig, flag_of, reported_options
from streamflow.runner._handler import resolve_filters, resolve_handler
from streamflow.runner._invoke import interpret_response
from tests.streams_double import _error


@pytest.mark.parametrize(
    ("option", "good", "bad"),
    [
        ("batch_size", [1, 10_000], [0, 10_001, 1.5, True]),
        ("batching_window", [0, 0.5, 300], [-1, 301, float("nan")]),
        ("max_retries", [-1, 0, 10_000], [-2, 10_001]),
        ("max_record_age", [-1, 60, 604_800], [-2, 0, 59, 604_801]),
        ("parallelization_factor", [1, 10], [0, 11]),
        ("tumbling_window", [0, 900], [-1, 901]),
        ("function_timeout", [1, 900], [0, 901, 1.5, True]),
        ("starting_position", ["TRIM_HORIZON", "LATEST"], ["AT_TIMESTAMP", "latest"]),
        ("until_idle", [None, 0, 2.5], [-1]),
        ("max_records", [None, 1], [0]),
    ],
)
def test_options_are_checked_with_lambdas_ranges(
    option: str, good: list[Any], bad: list[Any]
) -> None:
    for value in good:
        RunnerConfig(table="t", **{option: value})
    for value in bad:
        with pytest.raises(RunnerConfigError) as caught:
            RunnerConfig(table="t", **{option: value})
        assert caught.value.option == option
        assert isinstance(caught.value, (StreamflowError, ValueError))


def test_tumbling_windows_and_parallel_batches_cannot_be_combined() -> None:
    with pytest.raises(RunnerConfigError, match="parallelization factor"):
        RunnerConfig(table="t", tumbling_window=60, parallelization_factor=2)


PYTHON_ONLY = {
    "handler",
    "streams_client",
    "dynamodb_client",
    "sqs_client",
    "sns_client",
    "s3_client",
    "stop_event",
    "handle_signals",
}
"""run()'s parameters that are not options: no flag, no check, not in the config."""


def test_run_takes_exactly_the_declared_options_with_their_defaults_and_types() -> None:
    parameters = inspect.signature(run).parameters
    assert set(parameters) - PYTHON_ONLY == set(OPTIONS)
    declared = {each.name: each for each in dataclasses.fields(RunnerConfig)}
    for name in OPTIONS:
        parameter, field = parameters[name], declared[name]
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, name
        if field.default is dataclasses.MISSING:
            assert parameter.default is inspect.Parameter.empty, name
        else:
            assert parameter.default == field.default, name
        assert parameter.annotation == field.type, name  # the same spelling


def test_runs_docstring_describes_every_parameter_in_order() -> None:
    args = (run.__doc__ or "").split("Args:")[1].split("Returns:")[0]
    described = re.findall(r"^        (\w+): ", args, flags=re.MULTILINE)
    assert described == list(inspect.signature(run).parameters)


def test_the_start_event_reports_the_pinned_options() -> None:
    config = RunnerConfig(table="t", max_records=5, checkpoint="c.json")
    expected = {
        "batchSize": 100,
        "batchingWindow": 0.0,
        "startingPosition": "TRIM_HORIZON",
        "bisectOnError": False,
        "maxRetries": -1,
        "maxRecordAge": -1,
        "parallelizationFactor": 1,
        "tumblingWindow": 0,
        "onFailure": None,
        "functionTimeout": 900,
        "checkpoint": "c.json",
        "untilIdle": None,
        "maxRecords": 5,
    }
    assert list(reported_options(config).items()) == list(expected.items())  # keys in order


def test_errors_name_the_options_command_line_flag() -> None:
    assert {name: flag_of(name) for name in ("batch_size", "filters", "filter", "handler")} == {
        "batch_size": "--batch-size",
        "filters": "--filter",
        "filter": "--filter",  # what a --filter file that cannot be read is reported as
        "handler": "HANDLER",
    }


def test_errors_keep_their_fields_and_pickle() -> None:
    import pickle

    config_error = pickle.loads(pickle.dumps(RunnerConfigError("batch_size", "too big")))
    assert (config_error.option, config_error.reason) == ("batch_size", "too big")
    assert RunnerConfigError.__module__ == RunnerError.__module__ == "streamflow.errors"
    runner_error = pickle.loads(pickle.dumps(RunnerError("no stream", code="X")))
    assert (runner_error.reason, runner_error.code, str(runner_error)) == (
        "no stream",
        "X",
        "no stream (X)",
    )
    assert isinstance(runner_error, RuntimeError)


def test_a_router_is_invoked_through_lambda_handler_with_its_filters() -> None:
    router = Router()
    router.on(Filter.insert())(lambda record: None)
    function, criteria = resolve_handler(router)
    assert function == router.lambda_handler
    assert criteria == router.filter_criteria()
    with pytest.raises(RunnerConfigError, match="no routes"):
        resolve_handler(Router())


def test_a_function_must_take_event_and_context() -> None:
    def one(event: Any) -> None: ...

    with pytest.raises(RunnerConfigError, match="cannot be called"):
        resolve_handler(one)
    function, criteria = resolve_handler("operator:add")
    assert criteria is None
    assert callable(function)


def test_filters_are_read_from_every_accepted_form() -> None:
    as_filter = Filter.insert()
    assert resolve_filters(None) is None
    for form in (as_filter, {"eventName": ["INSERT"]}, '{"eventName": ["INSERT"]}', [as_filter]):
        criteria = resolve_filters(form)
        assert criteria is not None
        assert list(criteria) == [as_filter]
    both = resolve_filters([FilterCriteria(as_filter), Filter.remove()])
    assert both is not None
    assert len(both) == 2
    with pytest.raises(FilterValidationError):
        resolve_filters({"eventName": "INSERT"})


def test_a_filter_file_is_read_as_streamflow_filter_reads_it(tmp_path: Any) -> None:
    import json

    from streamflow.runner._handler import load_filter_file

    named = tmp_path / "named.json"
    named.write_text('{"Filters": ["on"]}')  # a pattern on a field named Filters
    assert [f.pattern for f in load_filter_file(str(named))] == [{"Filters": ["on"]}]
    criteria = tmp_path / "criteria.json"
    criteria.write_text(json.dumps({"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}]}))
    assert load_filter_file(str(criteria)) == [Filter.insert()]
    long_value = "x" * 4000  # 4036 characters compact, over 4096 indented
    indented = tmp_path / "indented.json"
    indented.write_text(json.dumps({"dynamodb": {"Keys": {"PK": {"S": [long_value]}}}}, indent=8))
    assert len(indented.read_text()) > 4096
    assert load_filter_file(str(indented)) == [Filter.key("PK", long_value)]
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(RunnerConfigError, match="nests too deeply"):
        load_filter_file(str(deep))


@pytest.mark.parametrize(
    ("response", "status", "index"),
    [
        (None, "ok", None),
        ({}, "ok", None),
        ({"batchItemFailures": []}, "ok", None),
        ({"batchItemFailures": None}, "ok", None),
        (
            {"batchItemFailures": [{"itemIdentifier": "300"}, {"itemIdentifier": "200"}]},
            "partial",
            1,
        ),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, "failed", None),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, "failed", None),
        ({"batchItemFailures": [{"ItemIdentifier": "200"}]}, "failed", None),
        ({"batchItemFailures": [{"itemIdentifier": "999"}]}, "failed", None),
        ({"batchItemFailures": [{"itemIdentifier": 200}]}, "failed", None),
        ({"batchItemFailures": ["200"]}, "failed", None),
        ({"batchItemFailures": {}}, "failed", None),
        ({"batchItemFailures": []} | {"x": object()}, "failed", None),
    ],
)
def test_responses_are_read_as_lambda_reads_them(response: Any, status: str, index: Any) -> None:
    outcome = interpret_response(response, ["100", "200", "300"])
    assert (outcome.status, outcome.failed_index) == (status, index)


def test_a_window_response_must_carry_state() -> None:
    assert interpret_response({"state": {"n": 1}}, [], windowed=True).state == {"n": 1}
    assert interpret_response({"batchItemFailures": []}, [], windowed=True).status == "failed"
    assert interpret_response(None, [], windowed=True).status == "failed"


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap() -> None:
    backoff = Backoff(0.1, 2.0, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(8)]
    for attempt, delay in enumerate(delays):
        ceiling = min(2.0, 0.1 * 2**attempt)
        assert ceiling / 2 <= delay <= ceiling
    assert len({round(d, 6) for d in delays[5:]}) > 1  # capped, but still jittered
    backoff.reset()
    assert backoff.next_delay() <= 0.1


@pytest.mark.parametrize(
    ("code", "status", "transient"),
    [
        ("LimitExceededException", 400, True),
        ("ProvisionedThroughputExceededException", 400, True),
        ("ThrottlingException", 400, True),
        ("InternalServerError", 500, True),
        ("SomethingNew", 503, True),
        ("ExpiredIteratorException", 400, False),
        ("TrimmedDataAccessException", 400, False),
        ("AccessDeniedException", 400, False),
    ],
)
def test_which_errors_are_retried(code: str, status: int, transient: bool) -> None:
    assert is_transient(_error("GetRecords", code, "x", status=status)) is transient


def test_a_lower_bound_only_option_says_so() -> None:
    with pytest.raises(RunnerConfigError, match=r"must be 0 or more seconds, got -1"):
        RunnerConfig(table="t", until_idle=-1)


@pytest.mark.parametrize("option", ["on_failure", "checkpoint"])
def test_a_directory_is_refused_as_a_file_option_before_the_run(option: str, tmp_path: Any) -> None:
    options: dict[str, Any] = {option: str(tmp_path)}
    with pytest.raises(RunnerConfigError, match="is a directory") as caught:
        RunnerConfig(table="t", **options)
    assert caught.value.option == option
