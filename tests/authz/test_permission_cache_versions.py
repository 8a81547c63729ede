"""A per-process copy that mixes facts of two kinds (``VersionedCache(..., also=...)``) is
dropped when either kind changes, and costs one read of the shared cache for both."""

from __future__ import annotations

import secrets

import pytest
from django.core.cache import cache

from accounts.versions import SharedVersion, VersionedCache, current_versions, round_trip

pytestmark = pytest.mark.django_db


@pytest.fixture
def versions(settings) -> tuple[SharedVersion, SharedVersion]:
    settings.SHARED_VERSION_LOCAL_SECONDS = 3600  # only a version change may drop a copy here
    tag = secrets.token_hex(4)
    return SharedVersion(f"test-people-{tag}"), SharedVersion(f"test-scopes-{tag}")


def _loads(copies: VersionedCache, key: str) -> int:
    """How many times ``copies`` had to load ``key`` in one lookup (0 or 1)."""
    loaded: list[str] = []

    def load() -> str:
        loaded.append(key)
        return key

    copies.get_or_load(key, load)
    return len(loaded)


def _publish_elsewhere(version: SharedVersion, django_capture_on_commit_callbacks) -> None:
    """Another process's committed change: the shared version moves, this process is not told."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SharedVersion, "_forget_local", lambda self: None)
        with django_capture_on_commit_callbacks(execute=True):
            version.changed()


@pytest.mark.parametrize("which", [0, 1])
def test_a_change_of_either_version_drops_the_copy(versions, which, django_capture_on_commit_callbacks):
    copies: VersionedCache[str, str] = VersionedCache("test mixed", versions[0], also=(versions[1],))
    assert _loads(copies, "alice") == 1
    assert _loads(copies, "alice") == 0

    _publish_elsewhere(versions[which], django_capture_on_commit_callbacks)
    assert _loads(copies, "alice") == 1
    assert _loads(copies, "alice") == 0

    versions[which].changed()  # in this process: forgotten before the change even commits
    assert _loads(copies, "alice") == 1


def test_a_copy_of_one_kind_ignores_the_other(versions, django_capture_on_commit_callbacks):
    copies: VersionedCache[str, str] = VersionedCache("test single", versions[0])
    assert _loads(copies, "alice") == 1
    versions[1].changed()
    _publish_elsewhere(versions[1], django_capture_on_commit_callbacks)
    assert _loads(copies, "alice") == 0


def test_both_versions_are_read_at_once_or_taken_from_the_round_trip(versions, monkeypatch):
    reads: list[list[str]] = []
    get_many = cache.get_many

    def counted(keys):
        reads.append(list(keys))
        return get_many(keys)

    monkeypatch.setattr(cache, "get_many", counted)

    first = current_versions(versions)
    assert reads == [[versions[0].key, versions[1].key]]
    assert current_versions(versions) == first  # unchanged: the same values

    with round_trip([versions[0]]):
        reads.clear()
        assert current_versions(versions) == first
        assert reads == [[versions[1].key]]  # only the one the round trip did not bring

    with round_trip(versions):
        reads.clear()
        assert current_versions(versions) == first
        assert versions[0].current() == first[0]
        assert reads == []
