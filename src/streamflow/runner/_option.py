"""How an option of the runner is declared: an :class:`Option` in a dataclass field's metadata.

A field declared ``field(default=100, metadata=option(kind="int", low=1, high=10_000, ...))``
says once what the option holds, how it is checked, how ``streamflow run`` offers it and
whether the ``start`` event reports it. :func:`declared` collects a dataclass's options, with
their names, defaults and flags filled in; ``_config`` declares the runner's.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

from streamflow.errors import RunnerConfigError
from streamflow.runner._destination import parse_destination

__all__ = ["Kind", "Option", "Rule", "declared", "option"]

Kind = Literal[
    "name", "text", "int", "seconds", "choice", "switch", "path", "destination", "filters"
]
"""What an option holds, which decides its check and its command-line argument:

- ``name``: a required, non-empty text (``--table NAME``);
- ``text``: an optional text, passed on unchecked (``--region R``);
- ``int``, ``seconds``: a whole number, or a number of seconds, from ``low`` to ``high``
  (``None`` too, when that is the default);
- ``choice``: one of ``choices``;
- ``switch``: ``True`` or ``False``, a flag without a value on the command line;
- ``path``: a file in an existing directory, or ``None``;
- ``destination``: where on-failure records go, or ``None``: a ``path``, an SQS queue URL or
  ARN, an SNS topic ARN, or an S3 bucket (see ``_destination.parse_destination``);
- ``filters``: filters, given on the command line as JSON files (repeatable) and checked by
  :func:`~streamflow.runner.run` when it reads them.
"""

Rule = Callable[[Any, "Option", Any], "str | None"]
"""A further check of one option, after its kind's: ``(value, its Option, the whole config)``
-> what is wrong with the value, or ``None``."""


@dataclass(frozen=True, slots=True)
class Option:
    """How one field is checked, offered on the command line, and reported.

    Attributes:
        kind: what the option holds (see ``Kind``).
        help: the command-line help, with ``{low}``, ``{high}`` and ``{default}`` filled in
            (``{default:g}`` for a number shown without its ``.0``).
        group: the section of ``--help``; ``None`` for the command's own.
        metavar: the value's name in ``--help``.
        low: the smallest value of an ``int`` or ``seconds``.
        high: the largest value of an ``int`` or ``seconds``.
        choices: the values of a ``choice``.
        note: said after the choices when a value is refused.
        flag: the command line's name; by default the field's, with dashes.
        reported: shown, camelCase, in the ``options`` of the ``start`` event.
        checked: a ``switch`` refuses what is not a bool.
        rule: a further check (see ``Rule``).
        name: the field's name (filled in by :func:`declared`).
        default: the field's default (filled in by :func:`declared`).
    """

    kind: Kind
    help: str
    group: str | None = None
    metavar: str | None = None
    low: float = -math.inf
    high: float = math.inf
    choices: tuple[str, ...] = ()
    note: str = ""
    flag: str = ""
    reported: bool = False
    checked: bool = True
    rule: Rule | None = None
    name: str = ""
    default: Any = None

    @property
    def dest(self) -> str:
        """The attribute of the parsed arguments: ``--filter`` is ``args.filter``."""
        return self.flag[2:].replace("-", "_")

    @property
    def key(self) -> str:
        """The name in the JSON log: ``batch_size`` is ``batchSize``."""
        first, *rest = self.name.split("_")
        return first + "".join(word.title() for word in rest)

    def help_text(self) -> str:
        """The command-line help, range and default filled in."""
        return self.help.format(low=self.low, high=self.high, default=self.default)

    def check(self, value: Any, config: Any) -> None:
        """Refuse a value this option does not take.

        Args:
            value: the option's value.
            config: the whole configuration, for a ``rule`` that looks at other options.

        Raises:
            RunnerConfigError: naming the option and what is wrong.
        """
        name, kind = self.name, self.kind
        if value is None and self.default is None:
            return
        if kind == "name" and (not isinstance(value, str) or not value):
            raise RunnerConfigError(name, f"give the {name}'s name")
        if kind == "int":
            _int_range(name, value, int(self.low), int(self.high))
        elif kind == "seconds":
            _number_range(name, value, self.low, self.high)
        elif kind == "choice" and value not in self.choices:
            allowed = " or ".join(map(repr, self.choices))
            raise RunnerConfigError(name, f"must be {allowed}, got {value!r} ({self.note})")
        elif kind == "switch" and self.checked and not isinstance(value, bool):
            raise RunnerConfigError(name, "must be True or False")
        elif kind == "path":
            _file_path(name, value)
        elif kind == "destination":
            _destination(name, value)
        reason = self.rule(value, self, config) if self.rule is not None else None
        if reason is not None:
            raise RunnerConfigError(name, reason)


def option(**spec: Any) -> dict[str, Option]:
    """The metadata of a dataclass field that is an option (``spec``: :class:`Option`'s
    attributes)."""
    return {"option": Option(**spec)}


def declared(cls: type) -> dict[str, Option]:
    """The options among ``cls``'s fields, by name, in field order, each with its name,
    default and flag filled in."""
    found = {}
    for each in fields(cls):
        spec = each.metadata.get("option")
        if spec is not None:
            flag = spec.flag or "--" + each.name.replace("_", "-")
            found[each.name] = replace(spec, name=each.name, default=each.default, flag=flag)
    return found


def _file_path(option: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise RunnerConfigError(option, "must be a file path")
    folder = os.path.dirname(os.path.abspath(value))
    if not os.path.isdir(folder):
        raise RunnerConfigError(option, f"the directory {folder} does not exist")
    if os.path.isdir(value):
        raise RunnerConfigError(option, f"{value} is a directory, not a file")


def _destination(option: str, value: object) -> None:
    try:
        destination = parse_destination(value)
    except ValueError as exc:
        raise RunnerConfigError(option, str(exc)) from None
    if destination.kind == "file":
        _file_path(option, value)


def _int_range(option: str, value: object, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise RunnerConfigError(option, f"must be an integer, got {value!r}")
    if not low <= value <= high:
        raise RunnerConfigError(option, f"must be {low} to {high}, got {value}")


def _number_range(option: str, value: object, low: float, high: float) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or math.isnan(value):
        raise RunnerConfigError(option, f"must be a number of seconds, got {value!r}")
    if not low <= value <= high:
        shown = " or more" if high == math.inf else f" to {high:g}"
        raise RunnerConfigError(option, f"must be {low:g}{shown} seconds, got {value:g}")
