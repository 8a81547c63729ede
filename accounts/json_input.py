"""Reading JSON that arrives from outside: every way it can fail is one error with a clear reason.

``json.loads`` alone lets three inputs through as server errors: nesting deep enough to
exhaust the interpreter's stack (``RecursionError``), an integer longer than Python
converts (``ValueError``, ``sys.int_max_str_digits``), and ``NaN``/``Infinity``, which are
not JSON. Data that parses but nests deeper than any document of ours would still reach
code that recurses over it (``repr`` in an error message, ``json.dumps``), so a depth far
below the stack's is refused too.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

# Our deepest document (an authorization export) nests 4 levels; a token request 2.
MAX_JSON_DEPTH = 32
# What int() converts by default (Python 3.11+); the interpreter may be configured lower.
MAX_INTEGER_DIGITS = sys.get_int_max_str_digits() or 4300


class JsonInputError(ValueError):
    """Why a body or a file is not JSON we accept, in words for the person who sent it."""


def json_parse(
    text: str | bytes, *, object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None
) -> Any:
    """``text`` parsed as JSON (RFC 8259), or JsonInputError saying why not.

    ``object_pairs_hook`` is ``json.loads``'s; an error it raises reaches the caller as it is.
    """
    try:
        data = json.loads(
            text,
            object_pairs_hook=object_pairs_hook,
            parse_int=_integer,
            parse_constant=_not_json,
        )
    except json.JSONDecodeError as error:
        raise JsonInputError(f"{error.msg} (line {error.lineno}, column {error.colno})") from error
    except UnicodeDecodeError as error:
        raise JsonInputError("it is not UTF-8 text") from error
    except RecursionError as error:
        raise JsonInputError(f"it is nested more than {MAX_JSON_DEPTH} levels deep") from error
    if _deeper_than(data, MAX_JSON_DEPTH):
        raise JsonInputError(f"it is nested more than {MAX_JSON_DEPTH} levels deep")
    return data


def _integer(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise JsonInputError(f"a number has more than {MAX_INTEGER_DIGITS:,} digits")
    return int(digits)


def _not_json(constant: str) -> Any:
    raise JsonInputError(f"{constant} is not a JSON value")


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether ``data`` nests lists and objects more than ``limit`` levels (without recursing)."""
    pending = [(data, 1)] if isinstance(data, dict | list) else []
    while pending:
        value, depth = pending.pop()
        if depth > limit:
            return True
        children = value.values() if isinstance(value, dict) else value
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
