"""The shipped examples run, and the shipped events are what the factories make today."""

from __future__ import annotations

import json
import pathlib
import runpy
import subprocess
import sys

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def test_decode_event_prints_every_record() -> None:
    out = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "decode_event.py"),
            str(EXAMPLES / "events" / "score_inserted.json"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.startswith("3 record(s)")
    assert "INSERT table=scores" in out.stdout
    assert "'points': 30" in out.stdout
    assert "changed   ['count', 'total']" in out.stdout
    assert "(TTL deletion)" in out.stdout


def test_decode_event_rejects_other_events(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "sqs.json"
    path.write_text(json.dumps({"Records": [{"eventSource": "aws:sqs", "body": "x"}]}))
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "decode_event.py"), str(path)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1
    assert "SQS event" in out.stderr


def test_shipped_event_is_up_to_date(tmp_path: pathlib.Path) -> None:
    shipped = json.loads((EXAMPLES / "events" / "score_inserted.json").read_text())
    module = runpy.run_path(str(EXAMPLES / "make_events.py"))
    module["main"].__globals__["HERE"] = tmp_path
    module["main"]()
    assert json.loads((tmp_path / "score_inserted.json").read_text()) == shipped
