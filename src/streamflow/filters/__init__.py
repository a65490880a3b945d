"""Lambda event filters for DynamoDB streams, with AWS's exact semantics.

Build a pattern with the typed DSL (or take one as JSON), validate it as Lambda does,
match records locally exactly as Lambda would, and emit it for boto3, CDK or CloudFormation::

    >>> from streamflow.filters import Filter, prefix
    >>> f = Filter.insert().key("PK", prefix("SCORE#"))
    >>> f.to_json()
    '{"eventName":["INSERT"],"dynamodb":{"Keys":{"PK":{"S":[{"prefix":"SCORE#"}]}}}}'

See ``docs/filters.md`` for the operators, the DynamoDB shortcuts and the traps.

Importing this package stays cheap for Lambda cold starts: :func:`lint`, :class:`LintWarning`,
:func:`refuse_never_matching` and :class:`Mismatch` load on first use.
"""

from __future__ import annotations

from streamflow.filters._criteria import FilterCriteria, FilterCriteriaDict, FilterDict
from streamflow.filters._filter import Filter, any_of
from streamflow.filters._rule_objects import Rule
from streamflow.filters._rules import (
    anything_but,
    between,
    cidr,
    equals_ignore_case,
    exists,
    numeric,
    prefix,
    suffix,
    wildcard,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from typing import Any

    from streamflow.filters._explain import Mismatch
    from streamflow.filters._lint import LintWarning, lint
    from streamflow.filters._refuse import refuse_never_matching

__all__ = [
    "Filter",
    "FilterCriteria",
    "FilterCriteriaDict",
    "FilterDict",
    "LintWarning",
    "Mismatch",
    "Rule",
    "any_of",
    "anything_but",
    "between",
    "cidr",
    "equals_ignore_case",
    "exists",
    "lint",
    "numeric",
    "prefix",
    "refuse_never_matching",
    "suffix",
    "wildcard",
]

_LAZY = {
    "LintWarning": "streamflow.filters._lint",
    "lint": "streamflow.filters._lint",
    "refuse_never_matching": "streamflow.filters._refuse",
    "Mismatch": "streamflow.filters._explain",
}


def _adopt(value: Any) -> None:
    """Show a name defined in a private module as ``streamflow.filters.X`` (reprs, docs,
    pickle); a class's methods too, so that doctest still finds their examples here."""
    if not getattr(value, "__module__", "").startswith(f"{__name__}._"):
        return  # a builtin (the TypedDicts are plain dicts at run time) or an alias
    value.__module__ = __name__
    if not isinstance(value, type):
        return
    for member in vars(value).values():
        target = getattr(member, "__func__", member)  # classmethod, staticmethod
        if callable(target) or hasattr(target, "__wrapped__"):
            try:
                target.__module__ = __name__
            except (AttributeError, TypeError):
                pass


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    _adopt(value)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


for _name in __all__:
    if _name not in _LAZY:
        _adopt(globals()[_name])
del _name
