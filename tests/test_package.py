"""The package as a whole: public names, layering, and the cost of importing it."""

from __future__ import annotations

import ast
import compileall
import importlib.util
import os
import pathlib
import statistics
import subprocess
import sys

import pytest

import streamflow

SRC = pathlib.Path(streamflow.__file__).parent

ARCHITECTURE = pathlib.Path(__file__).resolve().parents[1] / "ARCHITECTURE.md"


def _layer_map() -> dict[str, tuple[int, str]]:
    """ARCHITECTURE.md's layer map: concept -> (layer, where). Who may import whom: a module
    imports only concepts of a lower layer, or its own concept (``models/_convert`` belongs
    to ``models``, ``filters/_compile`` to ``filters``)."""
    text = ARCHITECTURE.read_text()
    table = text.split("<!-- layer-map: start")[1].split("<!-- layer-map: end -->")[0]
    rows = {}
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].isdigit():
            rows[cells[1]] = (int(cells[0]), cells[2].strip("`"))
    return rows


LAYERS = {concept: layer for concept, (layer, _) in _layer_map().items()} | {"__init__": 99}


def test_the_layer_map_names_every_concept_and_only_real_ones() -> None:
    mapped = _layer_map()
    for concept, (_, where) in mapped.items():
        assert (SRC / where).exists(), f"ARCHITECTURE.md maps {concept} to missing {where}"
        assert _concept("streamflow." + where.removesuffix(".py").rstrip("/")) == concept
    found = {
        _concept("streamflow." + ".".join(path.relative_to(SRC).with_suffix("").parts))
        for path in SRC.rglob("*.py")
        if path.relative_to(SRC).parts != ("__init__.py",)
    }
    assert found == set(mapped), (
        f"not in the map: {found - set(mapped)}; gone: {set(mapped) - found}"
    )


def _concept(dotted: str) -> str:
    """``streamflow.models._convert`` -> ``models``; ``streamflow._value`` -> ``value``."""
    parts = dotted.split(".")
    if len(parts) == 1:
        return "__init__"
    return parts[1].strip("_") or "__init__"


def _isort_key(name: str) -> tuple[int, str]:
    """The order ruff keeps ``__all__`` in: CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return (0, name)
    return (1, name) if name[:1].isupper() else (2, name)


def _public_modules() -> list[str]:
    names = []
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        if any(part.startswith("_") and part != "__init__" for part in parts):
            continue
        dotted = ".".join(p for p in parts if p != "__init__")
        names.append(f"streamflow.{dotted}" if dotted else "streamflow")
    return names


@pytest.mark.parametrize("name", _public_modules())
def test_every_public_module_has_a_sorted_complete_all(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert list(exported) == sorted(exported, key=_isort_key), f"{name}.__all__ is not sorted"
    for attribute in exported:
        assert hasattr(module, attribute), f"{name}.__all__ names missing {attribute}"
    public = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_")
        and getattr(value, "__module__", None) == name
        and callable(value)
    }
    assert public <= set(exported), f"{name} defines public {public - set(exported)} not in __all__"


@pytest.mark.parametrize("name", _public_modules())
def test_public_names_show_and_pickle_by_their_public_path(name: str) -> None:
    """Every class and function a public module exports says it lives at a public path
    (its ``repr`` and tracebacks show no private module), and is found there by pickle."""
    module = importlib.import_module(name)
    for attribute in module.__all__:
        value = getattr(module, attribute)
        if not (isinstance(value, type) or callable(value)) or not hasattr(value, "__qualname__"):
            continue
        owner = value.__module__
        assert not any(part.startswith("_") for part in owner.split(".")), (
            f"{name}.{attribute}.__module__ is {owner}"
        )
        assert getattr(importlib.import_module(owner), value.__qualname__, None) is value, (
            f"{name}.{attribute}: {owner}.{value.__qualname__} is not it"
        )


def test_every_exception_class_is_in_the_tree_errors_draws() -> None:
    """Public errors live in ``streamflow.errors`` under ``StreamflowError``; the few internal
    ones anywhere else derive from ``errors._Signal``; errors.py's docstring names each."""
    from streamflow import errors

    tree = errors.__doc__ or ""
    for path in sorted(SRC.rglob("*.py")):
        if path.stem == "__main__":  # running it is what importing it does
            continue
        dotted = ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        module = importlib.import_module(
            f"streamflow.{dotted}" if dotted != "__init__" else "streamflow"
        )
        for value in vars(module).values():
            if not (isinstance(value, type) and issubclass(value, BaseException)):
                continue
            if value.__module__ != module.__name__ or value in (
                errors.StreamflowError,
                errors._Signal,
            ):
                continue
            where = f"{value.__module__}.{value.__qualname__}"
            if issubclass(value, errors.StreamflowError):
                assert module is errors, f"{where}: errors belong in streamflow.errors"
            else:
                assert issubclass(value, errors._Signal), f"{where} is outside errors.py's tree"
            if not (module is errors and value.__name__.startswith("_")):
                assert value.__name__ in tree, f"{where} is not drawn in errors.py's tree"


def _imports(path: pathlib.Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: p.name)
def test_no_upward_imports(path: pathlib.Path) -> None:
    parts = path.relative_to(SRC).with_suffix("").parts
    own = "__init__" if parts == ("__init__",) else _concept("streamflow." + ".".join(parts))
    assert own in LAYERS, f"{path.name}: concept {own!r} has no layer in this test"
    for imported in _imports(path):
        if imported.split(".")[0] != "streamflow":
            continue
        target = _concept(imported)
        if target == own or own == "__init__":
            continue
        assert LAYERS[target] < LAYERS[own], f"{path.name} ({own}) imports {imported} (upward)"


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: p.name)
def test_a_module_over_400_lines_says_why_in_its_docstring(path: pathlib.Path) -> None:
    text = path.read_text()
    if text.count("\n") <= 400:
        return
    docstring = ast.get_docstring(ast.parse(text)) or ""
    assert "400" in docstring, f"{path.relative_to(SRC)}: split it by concept, or say why not"


def test_core_never_imports_boto3_or_asyncio() -> None:
    code = (
        "import sys\n"
        "import streamflow, streamflow.codec, streamflow.records, streamflow.testing\n"
        "for name in ('streamflow.models', 'streamflow.filters', 'streamflow.router'):\n"
        "    try:\n"
        "        __import__(name)\n"
        "    except ModuleNotFoundError:\n"
        "        pass\n"
        "heavy = ('boto3', 'botocore', 'asyncio')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in heavy)\n"
        "print(','.join(bad))\n"
    )
    assert _printed_by(code) == ""


def _printed_by(code: str) -> str:
    """What ``code`` prints, run in a fresh interpreter (so nothing is imported yet)."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_a_handlers_imports_leave_typing_json_and_re_unloaded() -> None:
    """The names a Lambda handler imports load none of the costly standard modules the core
    keeps off its import path (typing alone is about 4 ms): a guard finer than the budget."""
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "from streamflow import Router, StreamRecord, parse_event\n"
        "from streamflow.filters import Filter, FilterCriteria, prefix\n"
        "new = set(sys.modules) - before\n"
        "print(','.join(sorted(new & {'typing', 'json', 're', 'inspect', 'dataclasses'})))\n"
    )
    assert _printed_by(code) == ""


README = pathlib.Path(__file__).resolve().parents[1] / "README.md"

# One INSERT as Lambda delivers it, written out so that the run loads nothing else.
_ONE_BATCH = """
event = {"Records": [{"eventID": "1", "eventName": "INSERT", "eventVersion": "1.1",
    "eventSource": "aws:dynamodb", "awsRegion": "us-east-1", "dynamodb": {
    "ApproximateCreationDateTime": 1764148800,
    "Keys": {"PK": {"S": "SCORE#1"}, "SK": {"S": "USER#7"}},
    "NewImage": {"PK": {"S": "SCORE#1"}, "SK": {"S": "USER#7"}, "points": {"N": "30"}},
    "SequenceNumber": "400000000000000000100", "SizeBytes": 60,
    "StreamViewType": "NEW_AND_OLD_IMAGES"},
    "eventSourceARN": "arn:aws:dynamodb:us-east-1:1:table/scores/stream/2026-01-01T00:00:00.000"}]}
assert handler(event, None) == {"batchItemFailures": []}
"""


def _readme_handler_run() -> str:
    """The README's first handler, defined as a user's module does, then one batch run."""
    text = README.read_text()
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    assert "router.lambda_handler" in code, "the README's first example is the Router handler"
    return code.replace("print(", "(") + _ONE_BATCH


def test_the_readme_handler_building_and_running_a_batch_loads_no_costly_module() -> None:
    code = (
        "import sys, io, contextlib\n"
        "before = set(sys.modules)\n" + _readme_handler_run() + "new = set(sys.modules) - before\n"
        "print(','.join(sorted(new & {'typing', 'json', 're', 'inspect', 'dataclasses',"
        " 'logging', 'asyncio', 'boto3', 'datetime'})))\n"
    )
    assert _printed_by(code) == ""


def _import_time_us(statement: str) -> float:
    """Microseconds ``python -X importtime`` reports for everything the statement imports
    (the sum of its top-level entries), the median of seven fresh interpreters."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    samples = []
    for _ in range(7):
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", statement],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        total = 0
        for line in out.stderr.splitlines():
            fields = line.split("|")
            if len(fields) == 3 and fields[1].strip().isdigit() and fields[2][:2] != "  ":
                total += int(fields[1])
        samples.append(total)
    return statistics.median(samples)


def test_import_cost_is_small() -> None:
    """`import streamflow` with the names a Lambda handler needs costs under 20 ms over a
    bare interpreter, measured as ``python -X importtime`` reports it, with bytecode compiled
    as ``pip install`` leaves it."""
    compileall.compile_dir(str(SRC), quiet=1)
    names = ["StreamRecord", "parse_event"]
    if importlib.util.find_spec("streamflow.router"):
        names.append("Router")
    statement = f"from streamflow import {', '.join(names)}"
    if importlib.util.find_spec("streamflow.filters"):
        statement += "; from streamflow.filters import Filter"
    bare = _import_time_us("pass")
    ours = _import_time_us(statement)
    assert ours - bare < 20_000, f"import costs {(ours - bare) / 1000:.1f} ms"
    # and the README's handler, built and run on one batch, as a cold start does
    handler = _import_time_us(_readme_handler_run())
    assert handler - bare < 20_000, f"a cold start costs {(handler - bare) / 1000:.1f} ms"
