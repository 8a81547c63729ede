"""Lua literals for wrk's spec files (bench/lua.py) and the scripts that read them (bench/lua/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.lua import lua_spec, lua_string, lua_value

ROOT = Path(__file__).resolve().parents[2]


def test_lua_strings():
    assert lua_string("plain") == '"plain"'
    assert lua_string('a"b\\c') == '"a\\"b\\\\c"'
    assert lua_string("line\nnext\r") == '"line\\nnext\\r"'
    assert lua_string("\x01\x7f") == '"\\001\\127"'
    assert lua_string("é") == '"\\195\\169"'  # UTF-8 bytes, as Lua strings are


def test_lua_values_and_spec():
    assert lua_value(None) == "nil"
    assert lua_value(True) == "true"
    assert lua_value(16) == "16"
    assert lua_value([]) == "{}"
    assert lua_value({}) == "{}"
    assert lua_value(["a", 1]) == '{\n  "a",\n  1\n}'
    assert lua_value({"Content-Type": "application/json"}) == '{\n  ["Content-Type"] = "application/json"\n}'
    spec = lua_spec({"method": "POST", "headers": {"X": '"quoted"'}, "bodies": ["a=1", "b=2"]})
    assert spec.startswith("-- ")
    assert '\nreturn {\n  ["method"] = "POST",' in spec
    assert '["X"] = "\\"quoted\\""' in spec
    with pytest.raises(TypeError):
        lua_value(object())


def test_the_lua_scripts_share_the_reporting():
    lua = ROOT / "bench" / "lua"
    common = (lua / "common.lua").read_text()
    assert "BENCH_JSON " in common
    for script in ("static.lua", "once.lua", "refresh.lua"):
        assert 'dofile(here .. "common.lua")' in (lua / script).read_text()
