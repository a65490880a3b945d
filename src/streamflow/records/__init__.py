"""Typed, immutable DynamoDB stream records, read from a Lambda event or from GetRecords.

:func:`parse_event` turns the event Lambda hands a function into :class:`StreamRecord` objects;
:meth:`StreamRecord.from_get_records` does the same for one record of boto3's
``dynamodbstreams.get_records``. A change read either way gives equal records, and both keep
:attr:`StreamRecord.raw` in the Lambda shape (base64 binary, epoch-second timestamps,
``eventSourceARN``), which is what event filters match.

Records are cheap to make: the required fields are checked up front, and images are decoded
only when first read (then cached). :meth:`StreamRecord.new_value` decodes a single attribute
without decoding the rest of the image.
"""

from streamflow.records._read import parse_event
from streamflow.records._record import EventName, StreamRecord, StreamViewType

__all__ = ["EventName", "StreamRecord", "StreamViewType", "parse_event"]

for _name in __all__:  # public reprs and pickling: streamflow.records.StreamRecord
    globals()[_name].__module__ = __name__
del _name
