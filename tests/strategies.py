"""Hypothesis strategies shared by the test modules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

# Numbers DynamoDB accepts: at most 38 significant digits, magnitude 1E-130 .. 9.99E+125.
integers = st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1)


@st.composite
def decimals(draw: st.DrawFn) -> Decimal:
    digits = draw(st.integers(min_value=1, max_value=10**38 - 1))
    exponent = draw(st.integers(min_value=-130, max_value=125 - len(str(digits)) + 1))
    sign = draw(st.sampled_from(["", "-"]))
    return Decimal(f"{sign}{digits}E{exponent}")


numbers = st.one_of(integers, decimals())
texts = st.text(max_size=20)
blobs = st.binary(max_size=24)
scalars = st.one_of(st.none(), st.booleans(), texts, blobs, numbers)
sets = st.one_of(
    st.frozensets(texts, min_size=1, max_size=5).map(set),
    st.frozensets(integers, min_size=1, max_size=5).map(set),
    st.frozensets(blobs, min_size=1, max_size=5).map(set),
)


def _nested(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(min_size=1, max_size=8), children, max_size=4),
    )


values = st.recursive(st.one_of(scalars, sets), _nested, max_leaves=12)
items = st.dictionaries(st.text(min_size=1, max_size=10), values, max_size=8)
