"""The per-process cache: entries expire, the size is bounded, and clearing forgets."""

from __future__ import annotations

from accounts import caching
from accounts.caching import TtlCache, forget_all


def _clock(monkeypatch, start: float = 1000.0) -> list[float]:
    now = [start]
    monkeypatch.setattr(caching.time, "monotonic", lambda: now[0])
    return now


def test_an_entry_lives_its_ttl_and_is_loaded_again_after(monkeypatch):
    now = _clock(monkeypatch)
    cache: TtlCache[str, int] = TtlCache("test", ttl=30)
    loads = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    assert cache.get_or_load("k", load) == 1
    now[0] += 29
    assert cache.get_or_load("k", load) == 1
    now[0] += 2
    assert cache.get_or_load("k", load) == 2
    assert len(loads) == 2


def test_none_is_a_value_that_is_cached_too(monkeypatch):
    _clock(monkeypatch)
    cache: TtlCache[str, int | None] = TtlCache("test", ttl=30)
    calls = []

    def load() -> None:
        calls.append(1)

    for _ in range(3):
        assert cache.get_or_load("missing", load) is None
    assert len(calls) == 1


def test_a_per_entry_ttl_overrides_the_cache_ttl(monkeypatch):
    now = _clock(monkeypatch)
    cache: TtlCache[str, str] = TtlCache("test", ttl=None)
    cache.put("short", "a", ttl=5)
    cache.put("forever", "b")
    now[0] += 10**6
    assert cache.lookup("short") == (False, None)
    assert cache.lookup("forever") == (True, "b")


def test_the_least_recently_used_entry_is_evicted_first():
    cache: TtlCache[int, int] = TtlCache("test", ttl=None, max_entries=2)
    cache.put(1, 1)
    cache.put(2, 2)
    assert cache.get(1) == 1  # 1 is now the most recently used
    cache.put(3, 3)
    assert cache.lookup(2) == (False, None)
    assert cache.get(1) == 1
    assert cache.get(3) == 3


def test_forget_all_empties_every_cache():
    first: TtlCache[str, int] = TtlCache("first", ttl=None)
    second: TtlCache[str, int] = TtlCache("second", ttl=60)
    first.put("a", 1)
    second.put("b", 2)
    forget_all()
    assert first.lookup("a") == (False, None)
    assert second.lookup("b") == (False, None)
