"""The one way we keep a fact in a process's memory: a bounded cache with a time to live.

A per-process cache only speeds up a fact whose truth lives elsewhere (the database, the
shared cache). Each entry expires after its TTL, which bounds how long a change made by
another process goes unseen; ``clear()`` forgets at once what this process changed itself.
Every cache registers itself, so ``forget_all()`` empties them all (tests use it).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_registry: weakref.WeakSet[TtlCache] = weakref.WeakSet()


class TtlCache(Generic[K, V]):
    """At most ``max_entries`` values, each kept ``ttl`` seconds (``None``: until evicted).

    Least recently used entries are evicted first. Safe to share between threads.
    """

    def __init__(self, name: str, *, ttl: float | None, max_entries: int = 1024) -> None:
        self.name = name
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()
        _registry.add(self)

    def __repr__(self) -> str:
        return f"<TtlCache {self.name!r}: {len(self._entries)} of {self.max_entries}>"

    def lookup(self, key: K) -> tuple[bool, V | None]:
        """``(True, value)`` for a live entry, ``(False, None)`` otherwise."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return False, None
            if entry[0] <= time.monotonic():
                del self._entries[key]
                return False, None
            self._entries.move_to_end(key)
            return True, entry[1]

    def get(self, key: K) -> V | None:
        return self.lookup(key)[1]

    def get_or_load(self, key: K, load: Callable[[], V]) -> V:
        """The cached value, or ``load()``'s, kept for next time (``None`` included)."""
        found, value = self.lookup(key)
        if found:
            return value  # type: ignore[return-value]  # a live entry holds a V
        value = load()
        self.put(key, value)
        return value

    def put(self, key: K, value: V, *, ttl: float | None = None) -> None:
        """Keep ``value`` for ``ttl`` seconds (the cache's own TTL when not given)."""
        ttl = self.ttl if ttl is None else ttl
        expires = float("inf") if ttl is None else time.monotonic() + ttl
        with self._lock:
            self._entries[key] = (expires, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def discard(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def forget_all() -> None:
    """Empty every cache of this process."""
    for cache in list(_registry):
        cache.clear()
