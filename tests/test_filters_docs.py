"""The Python examples of docs/filters.md run as written (blocks marked "not run" excepted)."""

from __future__ import annotations

import contextlib
import io
import pathlib
import re

import pytest

DOC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "filters.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def test_the_page_has_examples() -> None:
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_each_example_runs(code: str) -> None:
    if code.startswith("# not run"):
        compile(code, str(DOC), "exec")  # still valid Python
        return
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, str(DOC), "exec"), {})
    # In a block that prints, the comment lines after the last print() show its output.
    lines = code.splitlines()
    printing = [i for i, line in enumerate(lines) if "print(" in line]
    if printing:
        shown = [line[2:] for line in lines[printing[-1] + 1 :] if line.startswith("# ")]
        assert shown
        assert printed.getvalue().splitlines() == shown


def test_the_commented_results_are_true() -> None:
    from decimal import Decimal

    from streamflow.filters import Filter

    assert Filter.new_image("Score", 30).pattern == {
        "dynamodb": {"NewImage": {"Score": {"N": ["30"]}}}
    }
    assert Filter.new_image("ratio", Decimal("0.50")).pattern == {
        "dynamodb": {"NewImage": {"ratio": {"N": ["0.5"]}}}
    }
    flt = Filter.modify().new_image("status", "ACTIVE")
    record = {"eventName": "MODIFY", "dynamodb": {"NewImage": {"status": {"S": "BANNED"}}}}
    assert [str(m) for m in flt.explain(record)] == [
        'dynamodb.NewImage.status.S: "BANNED" does not match ["ACTIVE"]'
    ]
