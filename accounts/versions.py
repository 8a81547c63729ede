"""Shared versions: how a per-process copy of a durable fact learns at once that it changed.

A process may keep a copy of a fact whose truth lives in the database (a client and its
hashed secret, an API and its scopes, a client grant, a person's permissions) only if a
change made anywhere reaches it before the next request. Each kind of fact has a *version*
in the shared cache (Redis in production). A write changes it once its transaction has
committed; a process tags its copies with the version it read and drops them all when the
version it reads differs. A request reads every version it needs in the same round trip as
its rate-limit counters (``round_trip``), so a warm copy costs no extra network call.

With Redis, a change reaches every process with no delay: the next request reads the new
version. Without a shared cache (development, tests) the version lives in the process's own
memory; another process would see a change only when its copy expires
(``settings.SHARED_VERSION_LOCAL_SECONDS``, 1 s), and production refuses to start without
Redis. A lost version (a flushed cache) is replaced by a new random one, which misses every
copy: forgetting is always safe.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save

from .caching import TtlCache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# The versions this request already read (``round_trip``): later lookups in the same request
# use them instead of asking the shared cache again.
_seen: ContextVar[dict[str, int] | None] = ContextVar("shared_versions_seen", default=None)


def _new_value() -> int:
    # Random, never a counter: after a flush a counter could come back to a value some
    # process still holds and hide a change from it. An int, which Django's Redis cache
    # stores as a plain number, so the raw client below and ``cache`` read it alike.
    return secrets.randbits(62) + 1


class SharedVersion:
    """One kind of fact's version in the shared cache."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.key = f"version:{name}"
        self._caches: list[VersionedCache[Any, Any]] = []

    def __repr__(self) -> str:
        return f"<SharedVersion {self.name!r}>"

    def current(self) -> int:
        seen = _seen.get()
        if seen is not None and self.key in seen:
            return seen[self.key]
        return read_versions([self])[self.key]

    def changed(self) -> None:
        """Call after writing a fact of this kind (inside the write's transaction).

        This process forgets its copies at once; every process once the write has committed
        and can be read (before that another process could copy the old fact under the new
        version, and keep it).
        """
        self._forget_local()
        transaction.on_commit(self.publish)

    def publish(self) -> None:
        """Announce a new version now (``changed`` does this once the transaction commits)."""
        cache.set(self.key, _new_value(), timeout=None)
        self._forget_local()

    def forget_local(self) -> None:
        """Drop this process's copies now (after a change that was rolled back)."""
        self._forget_local()

    def _forget_local(self) -> None:
        seen = _seen.get()
        if seen is not None:
            seen.pop(self.key, None)
        for versioned in self._caches:
            versioned.clear()


def read_versions(versions: Sequence[SharedVersion]) -> dict[str, int]:
    """Each version's current value, one read for all (a new value for one never set)."""
    keys = [version.key for version in versions]
    found = cache.get_many(keys)
    for key in keys:
        if not isinstance(found.get(key), int):
            cache.add(key, _new_value(), timeout=None)
            found[key] = cache.get(key)
    return {key: int(found[key]) for key in keys}


def current_versions(versions: Sequence[SharedVersion]) -> tuple[int, ...]:
    """Each version's current value, in order: those this request already read, the rest
    in one read."""
    seen = _seen.get() or {}
    missing = [version for version in versions if version.key not in seen]
    read = read_versions(missing) if missing else {}
    return tuple(seen[version.key] if version.key in seen else read[version.key] for version in versions)


class VersionedCache(Generic[K, V]):
    """A ``TtlCache`` whose entries hold only while their ``SharedVersion`` is unchanged,
    and those of ``also``: a copy that mixes facts of several kinds depends on each."""

    def __init__(
        self,
        name: str,
        version: SharedVersion,
        *,
        max_entries: int = 1024,
        also: Sequence[SharedVersion] = (),
    ) -> None:
        self.version = version
        self.versions = (version, *also)
        # Each entry remembers the versions it was read under: a thread that read an older
        # version cannot store its answer as current.
        self._entries: TtlCache[K, tuple[tuple[int, ...], V]] = TtlCache(
            name, ttl=None, max_entries=max_entries
        )
        self._read: tuple[int, ...] | None = None
        self._lock = threading.Lock()
        for each in self.versions:
            each._caches.append(self)

    def _current(self) -> tuple[int, ...]:
        current = current_versions(self.versions)
        with self._lock:
            if current != self._read:  # nothing older can be used again: free the memory
                self._entries.clear()
                self._read = current
        return current

    def lookup(self, key: K) -> tuple[bool, V | None]:
        """``(True, value)`` for an entry of the current versions, ``(False, None)`` otherwise."""
        current = self._current()
        found, entry = self._entries.lookup(key)
        if not found or entry is None or entry[0] != current:
            return False, None
        return True, entry[1]

    def put(self, key: K, value: V, *, read_under: tuple[int, ...] | None = None) -> None:
        """Keep ``value``, read under ``read_under`` (the versions current now when not given)."""
        versions = self._current() if read_under is None else read_under
        # Without a shared cache another process's change is only seen when this expires.
        ttl = None if _shared() else settings.SHARED_VERSION_LOCAL_SECONDS
        self._entries.put(key, (versions, value), ttl=ttl)

    def get_or_load(self, key: K, load: Callable[[], V]) -> V:
        """The value of the current version, or ``load()``'s, kept for next time."""
        current = self._current()
        found, value = self.lookup(key)
        if found:
            return value  # type: ignore[return-value]  # a live entry holds a V
        value = load()
        self.put(key, value, read_under=current)
        return value

    def clear(self) -> None:
        self._entries.clear()


@dataclass(frozen=True)
class Counter:
    """A fixed-window counter to increment (``incr``) or only read, in a round trip."""

    key: str
    seconds_left: int
    incr: bool


@contextmanager
def round_trip(versions: Sequence[SharedVersion], counters: Sequence[Counter] = ()) -> Iterator[list[int]]:
    """Read ``versions`` and the ``counters`` (incrementing those marked) in one round trip,
    and make the versions this block's: ``SharedVersion.current()`` answers from them.

    Yields the counters' values, in order. Inside another round trip, the versions that one
    read are not read again (a block answers from one moment).
    """
    outer = _seen.get() or {}
    versions = [version for version in versions if version.key not in outer]
    client = _redis_client()
    if not versions and not counters:
        values: list[int] = []
        seen: dict[str, int] = {}
    elif client is None:
        values = [_count_locally(counter) for counter in counters]
        seen = read_versions(versions)
    else:
        values, seen = _pipelined(client, versions, counters)
    token = _seen.set(outer | seen)
    try:
        yield values
    finally:
        _seen.reset(token)


def _count_locally(counter: Counter) -> int:
    if not counter.incr:
        return int(cache.get(counter.key) or 0)
    if cache.add(counter.key, 1, counter.seconds_left + 1):
        return 1
    try:
        return int(cache.incr(counter.key))
    except ValueError:  # expired between add and incr
        cache.add(counter.key, 1, counter.seconds_left + 1)
        return 1


def _pipelined(client: Any, versions: Sequence[SharedVersion], counters: Sequence[Counter]):
    make_key = cache.make_and_validate_key
    pipe = client.pipeline(transaction=False)
    for counter in counters:
        key = make_key(counter.key)
        if counter.incr:
            pipe.incr(key)
            pipe.expire(key, counter.seconds_left + 1, nx=True)
        else:
            pipe.get(key)
    for version in versions:
        pipe.get(make_key(version.key))
    replies = pipe.execute()
    values, position = [], 0
    for counter in counters:
        values.append(int(replies[position] or 0))
        position += 2 if counter.incr else 1
    seen: dict[str, int] = {}
    missing = []
    for version, reply in zip(versions, replies[position:], strict=True):
        try:
            seen[version.key] = int(reply)
        except (TypeError, ValueError):
            missing.append(version)
    return values, seen | (read_versions(missing) if missing else {})


def _shared() -> bool:
    """Whether the cache is Redis, shared by every process (``cache`` is only a proxy)."""
    return isinstance(caches[DEFAULT_CACHE_ALIAS], RedisCache)


_client_lock = threading.Lock()
_client: list[Any] = []  # the process's one Redis client, made on first use


def _redis_client() -> Any | None:
    """The shared cache's Redis client, one per process (Django's cache makes one per
    operation), or None without Redis."""
    if not _shared():
        return None
    with _client_lock:
        if not _client:
            _client.append(caches[DEFAULT_CACHE_ALIAS]._cache.get_client(write=True))  # type: ignore[attr-defined]
        return _client[0]


CONFIGURATION = SharedVersion("configuration")
"""Clients (with their hashed secrets), APIs and scopes, client grants, rules, signing keys."""

PERMISSIONS = SharedVersion("permissions")
"""Roles, groups, their nesting, members and permissions: who holds which permission."""


def changes_with(version: SharedVersion, *models: type[Model]) -> None:
    """Change ``version`` whenever a row of ``models`` (or of their many-to-many tables) is
    saved or deleted, whichever code path writes it: services, the shell, a migration.

    A queryset ``update()`` sends no signal: code that writes these models that way calls
    ``version.changed()`` itself.
    """

    def receiver(**kwargs: Any) -> None:
        version.changed()

    for model in models:
        uid = f"{version.key}:{model._meta.label}"
        post_save.connect(receiver, sender=model, weak=False, dispatch_uid=f"{uid}:save")
        post_delete.connect(receiver, sender=model, weak=False, dispatch_uid=f"{uid}:delete")
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            m2m_changed.connect(receiver, sender=through, weak=False, dispatch_uid=f"{uid}:{field.name}")
