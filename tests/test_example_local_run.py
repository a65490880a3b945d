"""The local run of examples/score_pipeline/README.md, step by step, as its commands.

Each step is the command the README shows, run as a subprocess: moto's server
(``local_dynamodb.py``), the table (``table.py create``), the submit API (``local_api.py``),
scores POSTed over HTTP, the processor driven by ``streamflow run process:router`` from the
handlers directory, and the totals read back with ``table.py totals``.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

EXAMPLE = pathlib.Path(__file__).resolve().parent.parent / "examples/score_pipeline"
STREAMFLOW = [str(pathlib.Path(sys.executable).with_name("streamflow"))]  # the console script


def _serve(command: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """Start a server command; its URL from its first line (``... at URL; ...``)."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if " at " not in line:
        process.kill()
        _, err = process.communicate(timeout=10)
        raise AssertionError(f"{command} did not start: {line}{err}")
    return process, line.split(" at ", 1)[1].split(";", 1)[0]


def _stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=20)


@pytest.fixture
def local_stack() -> Iterator[dict[str, Any]]:
    """moto's server and the submit API, started as the README says, on free ports."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", TABLE_NAME="scores")
    env.update(AWS_DEFAULT_REGION="us-east-1", AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled")
    moto, dynamodb_url = _serve(
        [sys.executable, str(EXAMPLE / "local_dynamodb.py"), "--port", "0"], env
    )
    env["AWS_ENDPOINT_URL"] = dynamodb_url
    api = None
    try:
        created = _run(
            [sys.executable, str(EXAMPLE / "table.py"), "create", "--table", "scores"], env
        )
        assert "created scores with its stream, TTL and 3 tasks" in created
        api, api_url = _serve([sys.executable, str(EXAMPLE / "local_api.py"), "--port", "0"], env)
        yield {"env": env, "api": api_url, "dynamodb": dynamodb_url}
        assert _stop(api) == 0
        api = None
    finally:
        if api is not None:
            api.kill()
        assert _stop(moto) == 0


def _run(command: list[str], env: dict[str, str], cwd: pathlib.Path | None = None) -> str:
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=cwd, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def _post(url: str, body: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def _totals(env: dict[str, str]) -> dict[str, tuple[int, int]]:
    out = _run([sys.executable, str(EXAMPLE / "table.py"), "totals", "--table", "scores"], env)
    rows = [line.split() for line in out.splitlines()[1:-1]]
    return {user: (int(total), int(count)) for user, total, count in rows}


def test_the_readme_local_run_counts_each_score_once(
    local_stack: dict[str, Any], tmp_path: pathlib.Path
) -> None:
    api, env = local_stack["api"], local_stack["env"]
    answers = [
        _post(api, {"userId": "ada", "taskType": "hard"}),
        _post(api, {"userId": "ada", "taskType": "easy", "scoreId": "s1"}),
        _post(api, {"userId": "ada", "taskType": "easy", "scoreId": "s1"}),  # resubmitted
        _post(api, {"userId": "bob", "taskType": "medium", "scoreId": "s1"}),  # id taken
        _post(api, {"userId": "bob", "taskType": "medium"}),
        _post(api, {"userId": "bob", "taskType": "legendary"}),
    ]
    assert [status for status, _ in answers] == [202, 202, 202, 409, 202, 400]
    assert answers[1][1] == answers[2][1] == {"scoreId": "s1"}

    run = [*STREAMFLOW, "run", "process:router", "--table", "scores", "--until-idle", "2"]
    first = _run([*run, "--checkpoint", str(tmp_path / "cp.json")], env, cwd=EXAMPLE / "handlers")
    assert "1 invocations (3 records), 0 failed; 0 discarded" in first
    assert _totals(env) == {"ada": (35, 2), "bob": (10, 1)}

    # Reading the whole stream again, as a retried batch would, changes nothing.
    again = _run(run, env, cwd=EXAMPLE / "handlers")
    assert "1 invocations (3 records), 0 failed" in again
    assert _totals(env) == {"ada": (35, 2), "bob": (10, 1)}

    # From the checkpoint, only what is new is read.
    assert _post(api, {"userId": "bob", "taskType": "hard"})[0] == 202
    resumed = _run([*run, "--checkpoint", str(tmp_path / "cp.json")], env, cwd=EXAMPLE / "handlers")
    assert "1 invocations (1 records), 0 failed" in resumed
    assert _totals(env) == {"ada": (35, 2), "bob": (40, 2)}


def test_table_seed_replaces_the_task_mappings(local_stack: dict[str, Any]) -> None:
    env = local_stack["env"]
    out = _run([sys.executable, str(EXAMPLE / "table.py"), "seed", "--table", "scores"], env)
    assert out.strip() == "task mappings in scores: easy 5, medium 10, hard 30"
    assert _totals(env) == {}


def test_table_commands_report_aws_errors_without_a_traceback(local_stack: dict[str, Any]) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE / "table.py"), "totals", "--table", "missing"],
        capture_output=True,
        text=True,
        env=local_stack["env"],
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: ")
    assert "ResourceNotFoundException" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_readme_gives_the_markers_real_lifetime() -> None:
    from streamflow.recipes.scores import MARKER_TTL_SECONDS

    text = " ".join((EXAMPLE / "README.md").read_text().split())
    assert f"its marker is kept for {MARKER_TTL_SECONDS // 3600} hours" in text
    assert MARKER_TTL_SECONDS > 24 * 3600  # past the stream's retention
