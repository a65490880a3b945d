"""Loading the handler (``module:attribute``, ``file.py:attribute`` or Lambda's
``module.function``) and the filters the runner applies."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Union

from streamflow.errors import RunnerConfigError
from streamflow.runner._invoke import LambdaHandler

if TYPE_CHECKING:
    from streamflow.filters import Filter, FilterCriteria

__all__ = [
    "FilterSpec",
    "load_filter_file",
    "load_handler",
    "resolve_filters",
    "resolve_handler",
    "resolve_run",
]

FilterSpec = Union["Filter", "FilterCriteria", Mapping[str, Any], str]
"""A filter as the runner accepts it: a Filter, a FilterCriteria, or a pattern (dict or JSON
text)."""


def load_handler(spec: str) -> object:
    """Import the handler a spec names, in one of three notations:

    * ``module:attribute``, the attribute possibly dotted (``app:router.lambda_handler``);
    * ``path/to/file.py:attribute``: that file, imported under its own name with its folder
      first on ``sys.path`` (so that its imports of sibling modules work);
    * Lambda's own ``Handler`` setting, ``module.function`` or ``folder/module.function``
      (``app.lambda_handler``, ``src/app.lambda_handler``), as a SAM or CloudFormation
      template writes it: the last dot separates the function, slashes are package dots.

    For a module name, the current directory is put on ``sys.path`` first, as ``python -m``
    would.

    Raises:
        RunnerConfigError: the spec is malformed, the file, module or attribute is missing,
            or importing the module raised (anything but ``KeyboardInterrupt``,
            ``SystemExit`` included, as a handler's own exceptions are).
    """
    module_name, sep, attribute = spec.partition(":")
    path: str | None = None
    if not sep and "." in spec and not spec.endswith(".py"):  # Lambda's module.function
        module_name, _, attribute = spec.rpartition(".")
        module_name = module_name.replace("/", ".")
    elif module_name.endswith(".py"):
        path = os.path.abspath(module_name)
        module_name = os.path.basename(path)[: -len(".py")]
    if not module_name or not attribute or not module_name.replace(".", "").strip():
        raise RunnerConfigError(
            "handler",
            "write HANDLER as module:attribute (app:handler), file.py:attribute "
            f"(src/app.py:handler) or Lambda's module.function (app.handler), got {spec!r}",
        )
    try:
        target: Any = _import_file(path, module_name) if path else _import_module(module_name)
    except KeyboardInterrupt:
        raise
    except RunnerConfigError:
        raise
    except BaseException as exc:  # the module's own code failed (Runtime.ImportModuleError)
        raise _import_failed(module_name, exc) from exc
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise RunnerConfigError(
                "handler", f"{module_name!r} has no attribute {attribute!r}"
            ) from None
    return target


def _import_module(module_name: str) -> Any:
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    importlib.invalidate_caches()  # a module written since the last import is found too
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise RunnerConfigError(
                "handler",
                f"no module named {exc.name!r} (run from the directory that holds it, or set "
                "PYTHONPATH)",
            ) from None
        raise


def _import_file(path: str, module_name: str) -> Any:
    """The module of a ``.py`` file, registered under its name (replacing a module of
    that name imported from elsewhere), its folder first on ``sys.path``."""
    import importlib.util

    if not os.path.isfile(path):
        raise RunnerConfigError("handler", f"{path}: no such file")
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has one
        raise RunnerConfigError("handler", f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(module_name)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        if previous is None:
            sys.modules.pop(module_name, None)
        else:
            sys.modules[module_name] = previous
        raise
    return module


def _import_failed(module_name: str, exc: BaseException) -> RunnerConfigError:
    """The error for a handler module whose import raised: what and where, in the module's
    own code (the innermost frame outside the import machinery), without a traceback."""
    where = ""
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f" ({exc.filename}, line {exc.lineno})"
    else:
        frames = [
            frame
            for frame in traceback.extract_tb(exc.__traceback__)
            if not frame.filename.startswith("<frozen ")
            and os.path.abspath(frame.filename) != os.path.abspath(__file__)
            and os.path.basename(os.path.dirname(frame.filename)) != "importlib"
        ]
        if frames:
            where = f" ({frames[-1].filename}, line {frames[-1].lineno})"
    message = exc.msg if isinstance(exc, SyntaxError) and exc.msg else str(exc)
    return RunnerConfigError(
        "handler",
        f"importing {module_name!r} failed: {type(exc).__name__}: {message}{where}",
    )


def resolve_handler(target: object) -> tuple[LambdaHandler, FilterCriteria | None]:
    """The function to invoke, and the filters it implies (a Router's ``filter_criteria()``).

    Args:
        target: a handler function, a Router, or a ``module:attribute`` spec of either.

    Raises:
        RunnerConfigError: the target is neither, or cannot take ``(event, context)``.
    """
    if isinstance(target, str):
        target = load_handler(target)
    from streamflow.router import Router

    if isinstance(target, Router):
        try:
            criteria = target.filter_criteria(max_filters=10)
        except ValueError as exc:
            raise RunnerConfigError("handler", f"the Router cannot run: {exc}") from None
        return target.lambda_handler, criteria
    if not callable(target):
        raise RunnerConfigError(
            "handler",
            f"expected a function (event, context) or a Router, got {type(target).__name__}",
        )
    try:
        inspect.signature(target).bind(None, None)
    except TypeError:
        raise RunnerConfigError(
            "handler",
            f"{getattr(target, '__name__', target)!r} cannot be called as (event, context)",
        ) from None
    except ValueError:  # no signature (some builtins): trust it
        pass
    return target, None


def resolve_run(
    target: object, filters: FilterSpec | Sequence[FilterSpec] | None
) -> tuple[LambdaHandler, Callable[[Any], bool] | None]:
    """The function to invoke, and the verdict on a raw record of the filters that apply:
    ``filters`` when given, else a Router's own; ``None`` when none applies (every record
    is delivered).

    Raises:
        RunnerConfigError: the target cannot be loaded or invoked (:func:`resolve_handler`).
        FilterValidationError: a pattern AWS would reject, or more than 10 filters.
    """
    function, implied = resolve_handler(target)
    criteria = resolve_filters(filters) if filters is not None else implied
    return function, criteria.matches if criteria is not None and len(criteria) else None


def resolve_filters(filters: FilterSpec | Sequence[FilterSpec] | None) -> FilterCriteria | None:
    """One FilterCriteria from the ``filters`` argument (``None`` stays ``None``).

    Raises:
        FilterValidationError: a pattern AWS would reject, or more than 10 filters.
    """
    from streamflow.filters import Filter, FilterCriteria

    if filters is None:
        return None
    if isinstance(filters, FilterCriteria):
        return filters
    items: Sequence[Any] = (
        [filters] if isinstance(filters, (Filter, Mapping, str, bytes)) else list(filters)
    )
    collected: list[Filter] = []
    for item in items:
        if isinstance(item, FilterCriteria):
            collected.extend(item.filters)
        elif isinstance(item, Filter):
            collected.append(item)
        else:
            collected.append(Filter.from_pattern(item))
    return FilterCriteria(*collected, max_filters=10)


def load_filter_file(path: str) -> list[Filter]:
    """The filters of one ``--filter`` file: a pattern, or a whole FilterCriteria
    (``{"Filters": [{"Pattern": "..."}]}``, as ``aws lambda get-event-source-mapping`` and
    CloudFormation write it).

    A filter with a rule that can never match a DynamoDB stream record is refused (see
    :func:`streamflow.filters.refuse_never_matching`): run, it would silently drop the
    records it was meant to keep. Lint's warnings are not refused.

    Raises:
        RunnerConfigError: the file cannot be read or is not JSON, or a rule of it can never
            match (naming the file, the rule's path, why, and the fix).
        FilterValidationError: a pattern AWS would reject.
    """
    from streamflow.errors import FilterValidationError
    from streamflow.filters._document import criteria_from_document, refuse_never_matching_in

    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        parsed = json.loads(text)
    except OSError as exc:
        raise RunnerConfigError("filter", f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise RunnerConfigError("filter", f"{path} is not valid JSON: {exc}") from None
    except RecursionError:
        raise RunnerConfigError("filter", f"{path} nests too deeply to be read") from None
    criteria = criteria_from_document(text, parsed)  # what AWS rejects: FilterValidationError
    try:
        refuse_never_matching_in(criteria, parsed)
    except FilterValidationError as exc:
        raise RunnerConfigError("filter", f"{path}: {exc}") from None
    return list(criteria.filters)
