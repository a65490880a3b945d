"""Build exact Lambda DynamoDB stream events from plain Python items, for your own tests;
measure what a handler costs in DynamoDB calls and write capacity with :class:`CapacityMeter`.

Describe changes with :func:`insert`, :func:`modify` and :func:`remove`, then wrap them in an
event with :func:`event`. The event has the shape Lambda delivers: attributes in their typed
form with binary as base64 text, ``ApproximateCreationDateTime`` in epoch seconds, increasing
sequence numbers (21 digits, deliberately not contiguous), an ``eventSourceARN`` for the named
table, images as the stream view type carries them, and ``userIdentity`` on TTL deletions.

>>> from streamflow import parse_event, testing
>>> ev = testing.event(
...     testing.insert({"PK": "SCORE#1", "SK": "USER#7", "points": 30}),
...     testing.remove({"PK": "SCORE#0", "SK": "USER#7", "points": 5}, ttl=True),
...     table="scores",
... )
>>> [(r.event_name.value, r.is_ttl_delete, r.table_name) for r in parse_event(ev)]
[('INSERT', False, 'scores'), ('REMOVE', True, 'scores')]

``SizeBytes`` is approximate: the DynamoDB item size (see :func:`streamflow.codec.item_size`)
of the keys and images the record carries. AWS computes it its own way; do not assert on it.
"""

from streamflow.testing._capacity import CapacityMeter
from streamflow.testing._events import Change, create_table, event, insert, modify, records, remove

__all__ = [
    "CapacityMeter",
    "Change",
    "create_table",
    "event",
    "insert",
    "modify",
    "records",
    "remove",
]

for _name in __all__:  # public reprs and pickling: streamflow.testing.Change
    globals()[_name].__module__ = __name__
del _name
