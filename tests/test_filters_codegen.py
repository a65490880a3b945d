"""The generated matcher's source: how it reads (golden sources), and that tracebacks, pdb
and ``linecache`` show its lines.

The golden sources are the contract of ``filters/_codegen*.py``: when a change to the code
generator changes them, read the new source and update them here.
"""

from __future__ import annotations

import gc
import linecache
import subprocess
import sys
import traceback
from typing import Any

import pytest

from streamflow.filters import (
    Filter,
    FilterCriteria,
    any_of,
    anything_but,
    numeric,
    prefix,
)
from streamflow.filters._criteria import dispatcher

# --- golden sources ------------------------------------------------------------------------------

KEY_PREFIX = Filter.insert().key("PK", prefix("SCORE#"))
KEY_PREFIX_SOURCE = """\
def match(record):
    if type(record) is not dict: return general(record)
    while True:  # branch 0
        unsure = False
        # field event_name
        event_name = record.get(EVENT_NAME, MISSING)
        event_name_type = type(event_name)
        if event_name_type is str and event_name in EVENT_NAME_VALUES: pass
        elif event_name_type is str or event_name is MISSING:
            break
        elif event_name_type in LEAF and event_name_test(event_name): pass
        else:
            verdict = settle_event_name(event_name, record)
            if verdict is False: break
            if verdict is None: unsure = True
        # field pk_value
        dynamodb = record.get(DYNAMODB)
        if type(dynamodb) is dict:
            keys = dynamodb.get(KEYS)
            if type(keys) is dict:
                pk = keys.get(PK)
                if type(pk) is dict:
                    pk_value = pk.get(S, MISSING)
                    pk_value_type = type(pk_value)
                    if pk_value_type is str and pk_value.startswith(PK_PREFIX): pass
                    elif pk_value_type is str or pk_value is MISSING:
                        if DYNAMODB_DOT_KEYS in record or DYNAMODB_DOT_KEYS_DOT_PK in record or DYNAMODB_DOT_KEYS_DOT_PK_DOT_S in record or KEYS_DOT_PK in dynamodb or KEYS_DOT_PK_DOT_S in dynamodb or PK_DOT_S in keys: unsure = True
                        else: break
                    elif pk_value_type in LEAF and pk_test(pk_value): pass
                    else:
                        verdict = settle_pk(pk_value, record)
                        if verdict is False: break
                        if verdict is None: unsure = True
                    stop = 0
                else: stop, stop_value = 3, pk
            else: stop, stop_value = 2, keys
        else: stop, stop_value = 1, dynamodb
        if stop:
            if stop_value is None or type(stop_value) in LEAF:
                if DYNAMODB_DOT_KEYS in record or DYNAMODB_DOT_KEYS_DOT_PK in record or DYNAMODB_DOT_KEYS_DOT_PK_DOT_S in record or (stop > 1 and (KEYS_DOT_PK in dynamodb or KEYS_DOT_PK_DOT_S in dynamodb)) or (stop > 2 and PK_DOT_S in keys): unsure = True
                else: break
            else: unsure = True  # an array or an unknown type on the way
        if not unsure: return True
        if branch_0_general(record): return True
        break
    return False
"""  # noqa: E501

# A range on a JSON number (N values are text: numeric() never matches them) and
# anything-but on an N attribute, whose test is a predicate, not inline code.
RANGE_AND_ANYTHING_BUT = Filter.where(
    "dynamodb.SizeBytes", numeric(">=", 100, "<", 1000)
).new_image("Score", anything_but(0))
RANGE_AND_ANYTHING_BUT_SOURCE = """\
def match(record):
    if type(record) is not dict: return general(record)
    while True:  # branch 0
        unsure = False
        # field size_bytes
        dynamodb = record.get(DYNAMODB)
        if type(dynamodb) is dict:
            size_bytes = dynamodb.get(SIZE_BYTES, MISSING)
            size_bytes_type = type(size_bytes)
            if size_bytes_type is str or size_bytes is MISSING:
                if DYNAMODB_DOT_SIZE_BYTES in record: unsure = True
                else: break
            elif size_bytes_type in LEAF and size_bytes_test(size_bytes): pass
            else:
                verdict = settle_size_bytes(size_bytes, record)
                if verdict is False: break
                if verdict is None: unsure = True
            stop = 0
        else: stop, stop_value = 1, dynamodb
        if stop:
            if stop_value is None or type(stop_value) in LEAF:
                if DYNAMODB_DOT_SIZE_BYTES in record: unsure = True
                else: break
            else: unsure = True  # an array or an unknown type on the way
        # field score_value
        dynamodb = record.get(DYNAMODB)
        if type(dynamodb) is dict:
            new_image = dynamodb.get(NEW_IMAGE)
            if type(new_image) is dict:
                score = new_image.get(SCORE)
                if type(score) is dict:
                    score_value = score.get(N, MISSING)
                    score_value_type = type(score_value)
                    if score_value_type is str and score_test(score_value): pass
                    elif score_value_type is str or score_value is MISSING:
                        if DYNAMODB_DOT_NEW_IMAGE in record or DYNAMODB_DOT_NEW_IMAGE_DOT_SCORE in record or DYNAMODB_DOT_NEW_IMAGE_DOT_SCORE_DOT_N in record or NEW_IMAGE_DOT_SCORE in dynamodb or NEW_IMAGE_DOT_SCORE_DOT_N in dynamodb or SCORE_DOT_N in new_image: unsure = True
                        else: break
                    elif score_value_type in LEAF and score_test(score_value): pass
                    else:
                        verdict = settle_score(score_value, record)
                        if verdict is False: break
                        if verdict is None: unsure = True
                    stop = 0
                else: stop, stop_value = 3, score
            else: stop, stop_value = 2, new_image
        else: stop, stop_value = 1, dynamodb
        if stop:
            if stop_value is None or type(stop_value) in LEAF:
                if DYNAMODB_DOT_NEW_IMAGE in record or DYNAMODB_DOT_NEW_IMAGE_DOT_SCORE in record or DYNAMODB_DOT_NEW_IMAGE_DOT_SCORE_DOT_N in record or (stop > 1 and (NEW_IMAGE_DOT_SCORE in dynamodb or NEW_IMAGE_DOT_SCORE_DOT_N in dynamodb)) or (stop > 2 and SCORE_DOT_N in new_image): unsure = True
                else: break
            else: unsure = True  # an array or an unknown type on the way
        if not unsure: return True
        if branch_0_general(record): return True
        break
    return False
"""  # noqa: E501

# Two branches ($or) that share the eventName look-up; exists: false on userIdentity.type.
OR_EXISTS_FALSE = any_of(Filter.insert(), Filter.remove().exclude_ttl_deletes())
OR_EXISTS_FALSE_SOURCE = """\
def match(record):
    if type(record) is not dict: return general(record)
    event_name = record.get(EVENT_NAME, MISSING)
    event_name_type = type(event_name)
    while True:  # branch 0
        unsure = False
        # field event_name
        if event_name_type is str and event_name in EVENT_NAME_VALUES: pass
        elif event_name_type is str or event_name is MISSING:
            break
        elif event_name_type in LEAF and event_name_test(event_name): pass
        else:
            verdict = settle_event_name(event_name, record)
            if verdict is False: break
            if verdict is None: unsure = True
        if not unsure: return True
        if branch_0_general(record): return True
        break
    while True:  # branch 1
        unsure = False
        # field event_name
        if event_name_type is str and event_name in EVENT_NAME_VALUES_2: pass
        elif event_name_type is str or event_name is MISSING:
            break
        elif event_name_type in LEAF and event_name_test_2(event_name): pass
        else:
            verdict = settle_event_name_2(event_name, record)
            if verdict is False: break
            if verdict is None: unsure = True
        # field type_value
        user_identity = record.get(USER_IDENTITY)
        if type(user_identity) is dict:
            type_value = user_identity.get(TYPE, MISSING)
            if type_value is MISSING or type(type_value) is dict:
                if USER_IDENTITY_DOT_TYPE in record: unsure = True
            elif type(type_value) in LEAF: break
            else:
                verdict = settle_type(type_value, record)
                if verdict is False: break
                if verdict is None: unsure = True
            stop = 0
        else: stop, stop_value = 1, user_identity
        if stop:
            if stop_value is None or type(stop_value) in LEAF:
                if USER_IDENTITY_DOT_TYPE in record: unsure = True
            else: unsure = True  # an array or an unknown type on the way
        if not unsure: return True
        if branch_1_general(record): return True
        break
    return False
"""


def source_of(flt: Filter) -> str:
    flt.matches({})  # the matcher is generated on the first match
    source: str = flt._match.__source__  # type: ignore[attr-defined]
    return source


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (KEY_PREFIX, KEY_PREFIX_SOURCE),
        (RANGE_AND_ANYTHING_BUT, RANGE_AND_ANYTHING_BUT_SOURCE),
        (OR_EXISTS_FALSE, OR_EXISTS_FALSE_SOURCE),
    ],
    ids=["event-name-and-key-prefix", "range-and-anything-but", "or-and-exists-false"],
)
def test_generated_source_reads_as_written(flt: Filter, expected: str) -> None:
    assert source_of(Filter.from_pattern(flt.pattern)) == expected


def test_locals_are_named_after_the_paths_they_follow() -> None:
    flt = Filter.from_pattern(
        {
            "dynamodb": {
                "NewImage": {"status": {"S": ["A"]}, "meta": {"M": {"client": {"S": ["web"]}}}},
                "OldImage": {"status": {"S": ["B"]}},
            },
            "odd key!": ["x"],  # not an identifier: lends no name
        }
    )
    source = source_of(flt)
    assert "status_value = status.get(S, MISSING)" in source
    assert "old_image_status_value = old_image_status.get(S, MISSING)" in source
    assert "meta_map = meta.get(M)" in source
    assert "client_value = client.get(S, MISSING)" in source
    assert "field = record.get(KEY, MISSING)" in source
    assert "odd" not in source


# --- tracebacks, pdb, linecache ----------------------------------------------------------------


class CollidingKey:
    """A record key that lands on the slot of ``"eventName"`` and raises when compared: a
    look-up of ``eventName`` in a dict holding it raises inside the generated code."""

    def __hash__(self) -> int:
        return hash("eventName")

    def __eq__(self, other: object) -> bool:
        raise LookupError("compared")


def test_a_traceback_from_generated_code_shows_its_lines() -> None:
    flt = Filter.insert().key("PK", prefix("SCORE#"))
    with pytest.raises(LookupError) as caught:
        flt.matches({CollidingKey(): "INSERT"})
    text = "".join(traceback.format_exception(caught.value))
    assert 'File "streamflow.filters <generated match #' in text
    assert "in match\n    event_name = record.get(EVENT_NAME, MISSING)\n" in text


def test_pdb_and_linecache_read_the_generated_lines() -> None:
    flt = Filter.insert().key("PK", prefix("SCORE#"))
    source = source_of(flt)
    code = flt._match.__code__
    lines = source.splitlines(True)
    assert linecache.getlines(code.co_filename) == lines
    assert linecache.getline(code.co_filename, code.co_firstlineno) == "def match(record):\n"


def test_the_lines_reach_linecache_loaded_after_the_code_was_generated() -> None:
    # linecache is not loaded by a bare interpreter: then it asks the namespace's loader.
    flt = Filter.insert()
    source = source_of(flt)
    function: Any = flt._match
    filename = function.__code__.co_filename
    del linecache.cache[filename]
    assert linecache.getlines(filename, function.__globals__) == source.splitlines(True)


def test_the_lines_go_when_the_code_goes() -> None:
    flt = Filter.insert().key("PK", prefix("SCORE#"))
    source_of(flt)
    filename = flt._match.__code__.co_filename
    assert filename in linecache.cache
    del flt
    gc.collect()
    assert filename not in linecache.cache


def test_a_routers_dispatch_function_shows_its_lines_too() -> None:
    routes = [FilterCriteria(Filter.insert()), FilterCriteria(Filter.remove())]
    choose: Any = dispatcher(routes, first=True)
    filename = choose.__code__.co_filename
    assert filename.startswith("streamflow.filters <generated dispatch #")
    assert linecache.getlines(filename) == choose.__source__.splitlines(True)
    assert choose({"eventName": "REMOVE"}) == 2


def test_generating_code_stays_off_the_cold_start_path() -> None:
    """Building and matching filters, and a router's dispatch, load none of the costly
    modules a handler's imports avoid (linecache neither: it imports tokenize, hence re), and
    a traceback formatted later still shows the generated lines."""
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "from streamflow import Router\n"
        "from streamflow.filters import Filter, FilterCriteria, anything_but, any_of, prefix\n"
        "from streamflow.filters._criteria import dispatcher\n"
        "keys = Filter.insert().key('PK', prefix('SCORE#'))\n"
        "score = Filter.modify().new_image('Score', anything_but(0))\n"
        "either = any_of(Filter.remove().exclude_ttl_deletes(), keys)\n"
        "criteria = FilterCriteria(keys, score, either)\n"
        "criteria.matches({'eventName': 'INSERT', 'dynamodb': {'Keys': [1]}})\n"
        "dispatcher([criteria, FilterCriteria(score)], first=False)({'eventName': 'MODIFY'})\n"
        "loaded = {'typing', 'json', 're', 'inspect', 'dataclasses', 'linecache'}\n"
        "print(','.join(sorted((set(sys.modules) - before) & loaded)))\n"
        "class CollidingKey:\n"
        "    __hash__ = lambda self: hash('eventName')\n"
        "    def __eq__(self, other): raise LookupError\n"
        "try:\n"
        "    keys.matches({CollidingKey(): 1})\n"
        "except LookupError as exc:\n"
        "    import traceback\n"
        "    shown = ''.join(traceback.format_exception(exc))\n"
        "    print('event_name = record.get(EVENT_NAME, MISSING)' in shown)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["", "True"]
