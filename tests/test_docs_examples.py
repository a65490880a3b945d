"""The Python examples of the user docs run as written, page by page, like a reader going down
the page: README.md and every docs/*.md page but the two that other modules run
(``COVERED_ELSEWHERE``).

A page's ```python and ```pycon blocks run in order in one namespace. A ``pycon`` block runs
as a doctest, so the results and tracebacks it shows are compared. In a ``python`` block, an
expression statement followed by a comment, on its line or the next, shows its value
(``deserialize({"N": "30"})  # 30``; ``print(x)  # {...}`` shows ``x``): that comment is
evaluated and must equal the value, and a comment that cannot be read as a value fails the test.

What a reader supplies (their own handler, an ``app`` module, a stream iterator) is in
``SETUP``, run just before the block that needs it. Blocks that talk to DynamoDB run against
the session's moto server (``conftest.py``): the docs' ``http://127.0.0.1:5000`` is replaced by
its URL, and ``AWS_ENDPOINT_URL`` points clients made without an endpoint at it, so nothing
reaches AWS. ``SKIPS`` names the blocks that cannot run here, each with its reason.
"""

from __future__ import annotations

import ast
import contextlib
import doctest
import io
import pathlib
import re
import sys
import tokenize
import types
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any, NamedTuple

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOC_ENDPOINT = "http://127.0.0.1:5000"  # the local endpoint the docs show

COVERED_ELSEWHERE = {
    "docs/filters.md": "tests/test_filters_docs.py",
    "docs/score-recipe.md": "tests/test_recipes_scores.py",
}


class Block(NamedTuple):
    page: str
    line: int  # of the first line of code in the page
    lang: str  # "python" or "pycon"
    code: str


def _blocks(page: str) -> list[Block]:
    text = (ROOT / page).read_text(encoding="utf-8")
    return [
        Block(page, text.count("\n", 0, match.start(2)) + 1, match[1], match[2])
        for match in re.finditer(r"^```(python|pycon)\n(.*?)^```", text, re.DOTALL | re.MULTILINE)
    ]


PAGES = [
    page
    for page in ["README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))]
    if page not in COVERED_ELSEWHERE and _blocks(page)
]

# (page, text found in exactly one of its blocks): why the block is not run.
SKIPS = {
    (
        "docs/score-pipeline.md",
        "processor.add_event_source(",
    ): "an excerpt of the CDK app: `processor`, `table` and `failures` are constructs of its "
    "stack (tests/test_example_infra.py synthesises the whole app)",
}


# What a reader supplies, run in the page's namespace just before the block it is keyed to.
def _a_handler(ns: dict[str, Any], endpoint: str) -> None:
    from streamflow import parse_event

    def handler(event: Any, context: Any) -> Any:  # the reader's own handler
        return [record.new_image for record in parse_event(event)]

    ns["handler"] = handler


def _a_record(ns: dict[str, Any], endpoint: str) -> None:
    from streamflow import parse_event, testing

    ns["record"] = parse_event(testing.event(testing.insert(ns["item"])))[0]


def _a_stream_iterator(ns: dict[str, Any], endpoint: str) -> None:
    import boto3

    from streamflow import testing

    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint)
    _drop_table(dynamodb, "docs-records")
    arn = testing.create_table(dynamodb, "docs-records")
    dynamodb.put_item(TableName="docs-records", Item={"PK": {"S": "a"}, "SK": {"S": "b"}})
    streams = boto3.client("dynamodbstreams", endpoint_url=endpoint)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    ns["arn"] = arn
    ns["iterator"] = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]


def _scores_and_their_tasks(ns: dict[str, Any], endpoint: str) -> None:
    from streamflow import testing
    from streamflow.codec import serialize_item
    from streamflow.recipes.scores import DEFAULT_TASKS, score_item, task_item

    for task_type, points in DEFAULT_TASKS.items():
        ns["dynamodb"].put_item(
            TableName="scores", Item=serialize_item(task_item(task_type, points))
        )
    tasks = sorted(DEFAULT_TASKS)
    ns["changes"] = [  # "say 100 scores from 50 users"
        testing.insert(score_item(f"s{i}", f"u{i % 50}", tasks[i % len(tasks)])) for i in range(100)
    ]


APP = """
from streamflow import Router, StreamRecord
from streamflow.filters import Filter, prefix

router = Router()
seen = []

@router.on(Filter.insert().key("PK", prefix("SCORE#")))
def add_score(record: StreamRecord) -> None:
    seen.append(record.keys["PK"])
"""


def _an_app_and_its_table(ns: dict[str, Any], endpoint: str) -> None:
    import boto3

    from streamflow import testing

    app = types.ModuleType("app")
    exec(APP, app.__dict__)
    sys.modules["app"] = app  # the fixture removes it
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint)
    testing.create_table(dynamodb, "scores")
    dynamodb.put_item(TableName="scores", Item={"PK": {"S": "SCORE#1"}, "SK": {"S": "USER#7"}})


SETUP: dict[tuple[str, str], Callable[[dict[str, Any], str], None]] = {
    ("docs/models.md", "key = record.keys_as(ScoreKey)"): _a_record,
    ("docs/records.md", "streams.get_records(ShardIterator=iterator)"): _a_stream_iterator,
    ("docs/testing.md", "result = handler(event, None)"): _a_handler,
    ("docs/testing.md", "testing.CapacityMeter(dynamodb)"): _scores_and_their_tasks,
    ("docs/runner.md", "from app import router"): _an_app_and_its_table,
}


def _keyed(table: dict[tuple[str, str], Any], block: Block) -> Any:
    """The entry of ``table`` for ``block``, if any."""
    for (page, text), value in table.items():
        if page == block.page and text in block.code:
            return value
    return None


def _drop_table(dynamodb: Any, name: str) -> None:
    with contextlib.suppress(dynamodb.exceptions.ResourceNotFoundException):
        dynamodb.delete_table(TableName=name)


# Running a page.
def _shown_value(comment: str, where: str) -> Any:
    """The value a ``# ...`` comment shows: a Python value, maybe followed by a note in
    parentheses (``'USER#42' (ints via str())``)."""
    names = {"Decimal": Decimal, "frozenset": frozenset, "set": set, "__builtins__": {}}
    for text in (comment, re.sub(r"\s+\(.*\)$", "", comment)):
        try:
            return eval(text, names)
        except Exception:
            continue
    raise AssertionError(f"{where}: cannot read a value in the comment {comment!r}")


def _checked(code: str, filename: str) -> tuple[types.CodeType, int]:
    """The block compiled with each shown value turned into a check, and the number of checks."""
    tree = ast.parse(code, filename)
    lines = code.splitlines()
    comments = {
        token.start[0]: token.string[1:].strip()
        for token in tokenize.generate_tokens(io.StringIO(code).readline)
        if token.type == tokenize.COMMENT
    }
    checks = 0
    for index, statement in enumerate(tree.body):
        if not isinstance(statement, ast.Expr) or statement.end_lineno is None:
            continue
        end = statement.end_lineno
        comment = comments.get(end)
        if comment is None and lines[end : end + 1] and lines[end].startswith("#"):
            comment = comments[end + 1]
        if comment is None:
            continue
        value = statement.value
        if isinstance(value, ast.Call) and getattr(value.func, "id", None) == "print":
            assert len(value.args) == 1, f"{filename}, line {end}: print one value to show it"
            value = value.args[0]
        call = ast.Call(
            ast.Name("_check_shown_", ast.Load()),
            [value, ast.Constant(comment), ast.Constant(f"{filename}, line {end}")],
            [],
        )
        tree.body[index] = ast.copy_location(ast.Expr(call), statement)
        checks += 1
    # dont_inherit: the blocks are not compiled under this module's `from __future__` imports
    return compile(ast.fix_missing_locations(tree), filename, "exec", dont_inherit=True), checks


def _check_shown_(value: Any, comment: str, where: str) -> None:
    assert value == _shown_value(comment, where), f"{where}: shows {comment}, is {value!r}"


def _run(block: Block, ns: dict[str, Any], endpoint: str) -> int:
    """Runs one block in the page's namespace; returns the number of shown values checked."""
    filename = str(ROOT / block.page)
    code = block.code.replace(DOC_ENDPOINT, endpoint)
    if block.lang == "pycon":
        test = doctest.DocTestParser().get_doctest(code, ns, block.page, filename, block.line - 1)
        report: list[str] = []
        runner = doctest.DocTestRunner(verbose=False)
        runner.run(test, out=report.append, clear_globs=False)
        assert runner.failures == 0, "".join(report)
        return runner.tries
    compiled, checks = _checked("\n" * (block.line - 1) + code, filename)
    exec(compiled, ns)
    return checks


@pytest.fixture
def aws(aws_settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The moto endpoint, as the environment of every client a page makes; a fresh
    ``scores`` table name; ``TABLE_NAME`` as a Lambda function's environment gives it."""
    import boto3

    endpoint = aws_settings["endpoint_url"]
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("TABLE_NAME", "scores")
    monkeypatch.delitem(sys.modules, "app", raising=False)
    _drop_table(boto3.client("dynamodb"), "scores")
    yield endpoint
    sys.modules.pop("app", None)


@pytest.mark.parametrize("page", PAGES)
def test_the_examples_of_the_page_run_in_order(page: str, aws: str) -> None:
    ns: dict[str, Any] = {"__name__": "__docs__", "_check_shown_": _check_shown_}
    for block in _blocks(page):
        if _keyed(SKIPS, block) is not None:
            compile(block.code, page, "exec", dont_inherit=True)  # still valid Python
            continue
        setup = _keyed(SETUP, block)
        if setup is not None:
            setup(ns, aws)
        _run(block, ns, aws)


@pytest.mark.parametrize(("page", "text"), list(SKIPS), ids=[text for _, text in SKIPS])
def test_skipped(page: str, text: str) -> None:
    pytest.skip(f"{page}: {SKIPS[page, text]}")


def test_the_pages_and_lists_are_current() -> None:
    assert {"README.md", "docs/codec.md", "docs/runner.md"} <= set(PAGES)
    for page, test in COVERED_ELSEWHERE.items():
        assert pathlib.Path(page).name in (ROOT / test).read_text(encoding="utf-8")
    for page, text in [*SKIPS, *SETUP]:
        assert page in PAGES
        assert sum(text in block.code for block in _blocks(page)) == 1, (page, text)


def test_the_shown_values_are_checked() -> None:
    """The checker finds the values the pages show (so a page cannot lose them silently)."""
    counts = {}
    for page in PAGES:
        found = 0
        for block in _blocks(page):
            if block.lang == "python":
                found += _checked(block.code, page)[1]
            else:
                found += len(doctest.DocTestParser().get_examples(block.code))
        counts[page] = found
    assert {page: n for page, n in counts.items() if n} == {
        "docs/codec.md": 5,
        "docs/models.md": 13,
        "docs/router.md": 2,
        "docs/testing.md": 2,
    }


def test_the_readmes_links_work_on_the_package_index() -> None:
    """PyPI renders README.md without the repository around it: links must be absolute, and
    those into the repository must name files that exist."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    base = "https://github.com/streamflow-dynamodb/streamflow/blob/main/"
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert links
    for link in links:
        assert re.match(r"[a-z]+://|#|mailto:", link), f"relative link {link!r}"
        if link.startswith(base):
            assert (ROOT / link.removeprefix(base).split("#")[0]).exists(), link
