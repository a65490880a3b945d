"""Map a decoded item onto a model: the compiled converter, run, its problems raised as one
:class:`~streamflow.errors.ModelError`."""

# No ``from __future__ import annotations`` here: the doctests below define models, and
# postponed annotations in them would be resolved in this module's namespace, not theirs.
from collections.abc import Mapping
from typing import Any, TypeVar

from streamflow.errors import ModelError
from streamflow.models._compile import converter_for
from streamflow.models._convert import Invalid

__all__ = ["from_item"]

_T = TypeVar("_T")


def from_item(model: type[_T], item: Mapping[str, Any], /) -> _T:
    """Map a decoded item onto a dataclass or TypedDict, by the model's type annotations.

    The item is what :mod:`streamflow.codec` decodes: ``str``, ``int``, ``Decimal``, ``bytes``,
    ``bool``, ``None``, ``dict``, ``list`` and sets. Each field reads the attribute of the same
    name (or the one its ``Annotated[..., Attr("PK")]`` names); attributes no field reads are
    ignored. A missing attribute takes the field's default; a TypedDict leaves out keys that
    are not required. The model is compiled on first use and cached by type.

    Args:
        model: a dataclass or TypedDict type.
        item: the decoded item, e.g. ``record.new_image``.

    Returns:
        An instance of ``model`` (a plain ``dict`` for a TypedDict).

    Raises:
        ModelError: the item does not fit; ``problems`` lists every ``(path, reason)``.
        TypeError: ``model`` is not a dataclass or TypedDict type, one of its annotations is
            not supported, or ``item`` is not a mapping (mistakes in the code, not the data).

    >>> from dataclasses import dataclass
    >>> from decimal import Decimal
    >>> @dataclass
    ... class Player:
    ...     name: str
    ...     level: int
    ...     tags: frozenset[str] = frozenset()
    >>> from_item(Player, {"name": "ada", "level": Decimal("3"), "SK": "PROFILE"})
    Player(name='ada', level=3, tags=frozenset())
    >>> from_item(Player, {"name": 7, "level": True})
    Traceback (most recent call last):
    ...
    streamflow.errors.ModelError: item does not fit Player (2 problems):
      name: expected str, got int
      level: expected int, got bool
    """
    convert = converter_for(model)
    if item.__class__ is not dict and not isinstance(item, Mapping):
        raise TypeError(f"from_item() needs a mapping item, got {type(item).__name__}")
    try:
        result: _T = convert(item)
    except Invalid as invalid:
        problems = [(path.removeprefix("."), reason) for path, reason in invalid.problems]
        raise ModelError(model.__name__, problems) from None
    return result
