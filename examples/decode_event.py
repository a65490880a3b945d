"""Decode a Lambda DynamoDB stream event and print each record, typed.

    python examples/decode_event.py examples/events/score_inserted.json

It reads the event exactly as a handler would, with ``streamflow.parse_event``: give it any
Lambda stream event saved as JSON to see what your handler would get.
"""

from __future__ import annotations

import json
import pathlib
import sys

from streamflow import parse_event
from streamflow.errors import StreamflowError


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: decode_event.py EVENT.json", file=sys.stderr)
        return 2
    event = json.loads(pathlib.Path(argv[0]).read_text())
    try:
        records = parse_event(event)
    except StreamflowError as exc:
        print(f"not a DynamoDB stream event: {exc}", file=sys.stderr)
        return 1
    print(f"{len(records)} record(s) from {argv[0]}\n")
    for record in records:
        print(
            f"#{record.index} {record.event_name.value:6} table={record.table_name} "
            f"seq={record.sequence_number} at {record.approximate_creation_time.isoformat()}"
            f"{'  (TTL deletion)' if record.is_ttl_delete else ''}"
        )
        print(f"   keys      {record.keys!r}")
        if record.old_image is not None:
            print(f"   old image {record.old_image!r}")
        if record.new_image is not None:
            print(f"   new image {record.new_image!r}")
        if record.event_name.value == "MODIFY":
            print(f"   changed   {sorted(record.changed_attributes())}")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
