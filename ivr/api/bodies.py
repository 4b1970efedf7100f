"""JSON bodies of the API, parsed with a nesting limit (a deep one is refused, never a 500)."""

from __future__ import annotations

from typing import Any

from flask import abort, request

# The bodies are flat objects; a few levels leave room for what a partner's library adds.
MAX_DEPTH = 8


def parsed_json() -> Any:
    """The request's JSON (None when it is not JSON); 400 when it nests past MAX_DEPTH."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes
        body, too_deep = None, True
    else:
        too_deep = depth(body) > MAX_DEPTH
    if too_deep:
        abort(400, description=f"the JSON body is nested more than {MAX_DEPTH} levels deep")
    return body


def depth(value: Any) -> int:
    """How deeply arrays and objects nest in a parsed JSON value (a plain value is 0)."""
    deepest, waiting = 0, [(value, 1)]
    while waiting:
        item, level = waiting.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            waiting.extend((child, level + 1) for child in item)
    return deepest
