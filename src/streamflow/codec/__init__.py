"""DynamoDB AttributeValues to Python values and back, exactly.

A DynamoDB stream record carries every attribute in its typed wire form, an object with one
*type descriptor* key: ``{"S": "text"}``, ``{"N": "42"}``, ``{"M": {...}}``. This module
turns those into plain Python values and back, for all ten descriptors:

========== ================================== ==========================================
descriptor wire value                         Python value
========== ================================== ==========================================
``S``      string                             ``str``
``N``      string of digits                   ``int`` or ``Decimal`` (see *numbers*)
``B``      base64 text (Lambda) or ``bytes``  ``bytes``
``BOOL``   ``true`` / ``false``               ``bool``
``NULL``   ``true``                           ``None``
``M``      object of AttributeValues          ``dict``
``L``      array of AttributeValues           ``list``
``SS``     array of strings                   ``set[str]``
``NS``     array of number strings            ``set[int | Decimal]``
``BS``     array of base64 text or ``bytes``  ``set[bytes]``
========== ================================== ==========================================

Numbers are exact. ``numbers="auto"`` (the default) gives ``int`` for integral values and
``decimal.Decimal`` otherwise; ``numbers="decimal"`` gives ``Decimal`` always (what boto3's
``TypeDeserializer`` does); ``numbers="float"`` gives ``float`` and is lossy: opt in only when
you know your numbers fit a double. Number text that DynamoDB itself would reject (more than 38
significant digits, magnitude outside 1E-130..9.99E+125, NaN, Infinity, malformed) raises
:class:`~streamflow.errors.AttributeDecodeError`: nothing is silently rounded.

Binary values arrive as base64 text in a Lambda event and as ``bytes`` from boto3's
GetRecords; both decode to ``bytes``.

Every problem raises :class:`~streamflow.errors.AttributeDecodeError` or
:class:`~streamflow.errors.AttributeEncodeError` with the attribute path
(``NewImage.meta.history[2].deep``) and the reason; never a bare ``KeyError``, ``TypeError``
or ``RecursionError``. Nesting is limited to DynamoDB's 32 levels.
"""

from streamflow.codec._decode import deserialize, deserialize_item
from streamflow.codec._encode import item_size, serialize, serialize_item
from streamflow.codec._wire import MAX_NESTING_DEPTH, BinaryMode, NumberMode

__all__ = [
    "MAX_NESTING_DEPTH",
    "BinaryMode",
    "NumberMode",
    "deserialize",
    "deserialize_item",
    "item_size",
    "serialize",
    "serialize_item",
]

for _name in ("deserialize", "deserialize_item", "item_size", "serialize", "serialize_item"):
    globals()[_name].__module__ = __name__  # public reprs: streamflow.codec.serialize
del _name
