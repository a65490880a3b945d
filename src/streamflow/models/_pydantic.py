"""Internal: pydantic v2 models, validated by pydantic, their problems in streamflow's form.

pydantic is optional and never imported here: a pydantic model can only exist once the user
has imported pydantic, so :func:`is_pydantic_model` looks for ``pydantic.main`` among the
loaded modules and tests the class against its ``BaseModel``. :func:`pydantic_converter`
makes a converter (as :mod:`streamflow.models._convert`'s) that calls ``model_validate`` on
the decoded item and turns each entry of pydantic's ``ValidationError.errors()`` into a
``(path, reason)`` problem of :class:`~streamflow.models._convert.Invalid`: the ``loc`` tuple
becomes the item's path (``.owner.name``, ``.history[2]``), a missing field reads
``required attribute is missing`` as for dataclasses, a bad set member is named by its value
(a set has no positions), and a step that is not in the item (a union member's tag such as
``int``) goes in front of the reason (``as int: Input should be a valid integer``).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from streamflow.errors import _name_segment
from streamflow.models._convert import MISSING, Converter, Invalid, show

__all__ = ["is_pydantic_model", "pydantic_converter"]

_SHOWN = (str, int, float, Decimal, bytes)  # inputs a reason shows by value; others by type
_SETS = (set, frozenset)
_OFF_ITEM = object()  # the walk along a loc has left the item (a union tag led elsewhere)


def is_pydantic_model(tp: object) -> bool:
    """Whether ``tp`` is a pydantic v2 model class, found without importing pydantic.

    >>> is_pydantic_model(int), is_pydantic_model("Score")
    (False, False)
    """
    main = sys.modules.get("pydantic.main")  # loaded whenever a pydantic model exists
    if main is None or not isinstance(tp, type):
        return False
    try:
        return issubclass(tp, main.BaseModel) and hasattr(tp, "model_validate")  # v1: none
    except TypeError:  # list[int] on Python 3.10 is an instance of type but not a class
        return False


def pydantic_converter(model: Any) -> Converter:
    """A converter that validates a decoded item with ``model.model_validate``.

    The model's own configuration decides (lax by default, ``strict=True`` if it says so);
    aliases are pydantic's (``Field(alias="PK")``, validated by alias).

    Raises:
        Invalid: the item does not fit; one problem per entry of pydantic's errors.
    """
    from pydantic_core import ValidationError  # loaded with pydantic: the model exists

    validate = model.model_validate

    def convert(item: Any) -> Any:
        try:
            return validate(item)
        except ValidationError as error:
            raise Invalid([_problem(entry, item) for entry in error.errors()]) from None

    return convert


def _problem(entry: Mapping[str, Any], item: Any) -> tuple[str, str]:
    """One pydantic error entry as a ``(relative path, reason)`` problem."""
    loc = tuple(entry.get("loc", ()))
    missing = entry.get("type") == "missing"
    path: list[str] = []
    notes: list[str] = []
    current = item
    for position, step in enumerate(loc):
        last = position == len(loc) - 1
        if isinstance(current, Mapping) and (step in current or (last and missing)):
            path.append(_name_segment(step))
            current = current.get(step, _OFF_ITEM)
        elif isinstance(current, list | tuple) and type(step) is int:
            path.append(f"[{step}]")
            current = current[step] if -len(current) <= step < len(current) else _OFF_ITEM
        elif isinstance(current, _SETS) and type(step) is int and 0 <= step < len(current):
            current = list(current)[step]  # pydantic's position in the set's own order
            notes.append(f"member {show(current)}")
        else:  # not a step into the item: a union member's tag, a validator's name...
            notes.append(f"as {step}")
    if missing:
        reason = MISSING
    else:
        value = entry.get("input")
        got = show(value) if value is None or isinstance(value, _SHOWN) else type(value).__name__
        reason = f"{entry.get('msg', 'invalid')} (got {got})"
    return "".join(path), ": ".join([*notes, reason])
