"""How HANDLER is named: ``module:attribute``, ``file.py:attribute`` and Lambda's own
``module.function``, loaded by ``streamflow run``, ``redrive``, ``check`` and ``filter
export`` alike."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from streamflow import Router
from streamflow.errors import RunnerConfigError
from streamflow.runner._handler import load_handler, resolve_handler


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A deployment package: src/app.py importing its sibling src/helpers.py, and the
    current directory at the project's root (as for ``sam build``)."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "helpers.py").write_text("def double(n):\n    return 2 * n\n")
    (src / "app.py").write_text(
        "from helpers import double\n"
        "from streamflow import Router\n\n"
        "router = Router()\n\n"
        "def lambda_handler(event, context):\n"
        "    return {'doubled': double(len(event['Records']))}\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in ("app", "helpers", "src", "src.app"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    return tmp_path


def test_a_file_and_attribute(project: Path) -> None:
    handler: Any = load_handler("src/app.py:lambda_handler")
    assert handler({"Records": [1, 2]}, None) == {"doubled": 4}  # its sibling import works
    assert handler.__module__ == "app"


def test_a_file_by_absolute_path_from_elsewhere(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    router = load_handler(f"{project / 'src' / 'app.py'}:router")
    assert isinstance(router, Router)
    function, criteria = resolve_handler(f"{project / 'src' / 'app.py'}:lambda_handler")
    assert function({"Records": [1]}, None) == {"doubled": 2}
    assert criteria is None


def test_lambdas_own_notation_as_a_template_writes_it(project: Path) -> None:
    sys.path.insert(0, str(project / "src"))  # CodeUri: src/ is the package root in Lambda
    handler: Any = load_handler("app.lambda_handler")
    assert handler({"Records": [1]}, None) == {"doubled": 2}


def test_lambdas_notation_with_a_folder(project: Path) -> None:
    folder = f"handlers_{uuid.uuid4().hex[:8]}"  # not the example's handlers package
    (project / "src" / folder).mkdir()
    orders = project / "src" / folder / "orders.py"
    orders.write_text("def handle(event, context):\n    return 'orders'\n")
    sys.path.insert(0, str(project / "src"))
    assert load_handler(f"{folder}/orders.handle")({}, None) == "orders"  # type: ignore[operator]
    assert load_handler(f"{folder}.orders:handle")({}, None) == "orders"  # type: ignore[operator]


def test_two_files_of_the_same_name_are_each_their_own(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    other = tmp_path_factory.mktemp("other")
    (other / "app.py").write_text("def lambda_handler(event, context):\n    return 'other'\n")
    first: Any = load_handler("src/app.py:lambda_handler")
    second: Any = load_handler(f"{other / 'app.py'}:lambda_handler")
    assert first({"Records": []}, None) == {"doubled": 0}
    assert second({}, None) == "other"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nocolon", "write HANDLER as module:attribute (app:handler), file.py:attribute"),
        ("src/app.py", "write HANDLER as module:attribute"),
        (".handler", "write HANDLER as module:attribute"),
        ("src/missing.py:handler", "missing.py: no such file"),
        ("src/app.py:nothing", "'app' has no attribute 'nothing'"),
        ("no_such_module_here.handler", "no module named 'no_such_module_here'"),
    ],
)
def test_a_spec_that_names_nothing_is_an_error_saying_what(
    project: Path, spec: str, message: str
) -> None:
    with pytest.raises(RunnerConfigError) as error:
        load_handler(spec)
    assert error.value.option == "handler"
    assert message in error.value.reason


def test_a_file_whose_import_raises_names_the_file_and_line(project: Path) -> None:
    (project / "broken.py").write_text("x = 1\nraise RuntimeError('no config')\n")
    with pytest.raises(RunnerConfigError) as error:
        load_handler("broken.py:handler")
    assert error.value.reason == (
        f"importing 'broken' failed: RuntimeError: no config ({project / 'broken.py'}, line 2)"
    )
    assert "broken" not in sys.modules  # a failed import leaves nothing behind
