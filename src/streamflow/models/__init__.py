"""Typed models: map decoded DynamoDB items onto your dataclasses, TypedDicts or pydantic models.

:func:`from_item` reads a model's type annotations once, compiles one converter per field and
caches it, so mapping an item costs a few microseconds. Conversion is strict (``True`` is not
an ``int``, ``5`` is not a ``str``) and reports every problem in the item at once, each with
its path, in one :class:`~streamflow.errors.ModelError`. :class:`Attr` maps a field to an
attribute with another name (``PK``); :class:`KeyTemplate` formats and parses single-table
keys such as ``USER#{user_id}#SCORE#{score_id}``. A pydantic v2 model is accepted too, and
validated by pydantic under its own rules; pydantic stays optional and is never imported here.

Usage::

    from dataclasses import dataclass
    from typing import Annotated
    from streamflow.models import Attr, KeyTemplate, from_item

    SCORE_KEY = KeyTemplate("SCORE#{score_id}")

    @dataclass
    class Score:
        pk: Annotated[str, Attr("PK")]
        points: int

    score = from_item(Score, {"PK": "SCORE#01JD8X", "points": 42})
    SCORE_KEY.parse(score.pk)  # {'score_id': '01JD8X'}
"""

from streamflow.models._compile import Attr
from streamflow.models._from_item import from_item
from streamflow.models._keys import KeyTemplate

__all__ = ["Attr", "KeyTemplate", "from_item"]

for _name in __all__:  # public reprs and pickling: streamflow.models.Attr
    globals()[_name].__module__ = __name__
del _name
