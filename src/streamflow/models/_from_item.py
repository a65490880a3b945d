"""Map a decoded item onto a model: the compiled converter (or a pydantic model's own
validation), run, its problems raised as one :class:`~streamflow.errors.ModelError`."""

# No ``from __future__ import annotations`` here: the doctests below define models, and
# postponed annotations in them would be resolved in this module's namespace, not theirs.
from collections.abc import Mapping
from typing import Any, Literal, TypeVar

from streamflow.errors import ModelError
from streamflow.models._compile import MISSING, converter_for
from streamflow.models._convert import Invalid

__all__ = ["from_item"]

_T = TypeVar("_T")

_KEYS_ONLY = (
    f"{MISSING}: this record carries only the item's keys (its stream's view type holds no "
    "image of this change: KEYS_ONLY, or NEW_IMAGE or OLD_IMAGE without this one), so only "
    "key attributes can fill the model"
)


def from_item(
    model: type[_T], item: Mapping[str, Any], /, *, source: Literal["image", "keys"] = "image"
) -> _T:
    """Map a decoded item onto a dataclass, TypedDict or pydantic model.

    The item is what :mod:`streamflow.codec` decodes: ``str``, ``int``, ``Decimal``, ``bytes``,
    ``bool``, ``None``, ``dict``, ``list`` and sets. Each field reads the attribute of the same
    name (or the one its ``Annotated[..., Attr("PK")]`` names); attributes no field reads are
    ignored. A missing attribute takes the field's default; a TypedDict leaves out keys that
    are not required. The model is compiled on first use and cached by type. A pydantic (v2)
    model is validated by pydantic, ``model.model_validate(item)``, under its own
    configuration and aliases; its errors become the same ``ModelError``.

    Args:
        model: a dataclass, TypedDict or pydantic v2 model type.
        item: the decoded item, e.g. ``record.new_image``.
        source: ``"keys"`` when ``item`` is a record's keys standing in for an image its
            stream does not carry (as a Router does for a model on a ``KEYS_ONLY`` stream):
            each missing attribute then says that the record carries keys only.

    Returns:
        An instance of ``model`` (a plain ``dict`` for a TypedDict).

    Raises:
        ModelError: the item does not fit; ``problems`` lists every ``(path, reason)``.
        TypeError: ``model`` is not a dataclass, TypedDict or pydantic v2 model type, one of
            its annotations is not supported, or ``item`` is not a mapping (mistakes in the
            code, not the data).
        ValueError: ``source`` is neither ``"image"`` nor ``"keys"``.

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
    >>> from_item(Player, {"PK": "PLAYER#ada"}, source="keys")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    streamflow.errors.ModelError: item does not fit Player (2 problems):
      name: required attribute is missing: this record carries only the item's keys (...
      level: required attribute is missing: this record carries only the item's keys (...
    """
    if source not in ("image", "keys"):
        raise ValueError(f"source must be 'image' or 'keys', not {source!r}")
    convert = converter_for(model)
    if item.__class__ is not dict and not isinstance(item, Mapping):
        raise TypeError(f"from_item() needs a mapping item, got {type(item).__name__}")
    try:
        result: _T = convert(item)
    except Invalid as invalid:
        problems = [(path.removeprefix("."), reason) for path, reason in invalid.problems]
        if source == "keys":  # an attribute the keys lack: the image is not in the record
            problems = [
                (path, _KEYS_ONLY if reason == MISSING else reason) for path, reason in problems
            ]
        raise ModelError(model.__name__, problems) from None
    return result
