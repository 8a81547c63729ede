"""Lua literals for the spec files that bench/lua/*.lua read with dofile()."""

from __future__ import annotations

from typing import Any


def lua_string(value: str) -> str:
    """A Lua double-quoted string literal for any text (secrets, cookies, JSON bodies)."""
    out = ['"']
    for char in value:
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif code < 32 or code == 127:
            out.append(f"\\{code:03d}")
        elif code > 127:
            out.extend(f"\\{byte:03d}" for byte in char.encode())
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def lua_value(value: Any, indent: str = "") -> str:
    """A Lua literal for str, int, float, bool, None, list and dict (string keys)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return lua_string(value)
    if isinstance(value, list | tuple):
        inner = ",\n".join(indent + "  " + lua_value(item, indent + "  ") for item in value)
        return "{\n" + inner + "\n" + indent + "}" if value else "{}"
    if isinstance(value, dict):
        inner = ",\n".join(
            f"{indent}  [{lua_string(str(key))}] = {lua_value(item, indent + '  ')}"
            for key, item in value.items()
        )
        return "{\n" + inner + "\n" + indent + "}" if value else "{}"
    raise TypeError(f"no Lua literal for {type(value).__name__}")


def lua_spec(spec: dict[str, Any]) -> str:
    """A spec file the Lua scripts read with dofile()."""
    return "-- written by bench/wrk.py; holds credentials: do not share\nreturn " + lua_value(spec) + "\n"
