"""Shared versions: a process's copy of a fact is dropped as soon as the fact changes anywhere."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from accounts import versions
from accounts.throttle import Limit
from accounts.versions import CONFIGURATION, SharedVersion, VersionedCache, round_trip

pytestmark = pytest.mark.django_db

EXAMPLE = SharedVersion("test-example")


def _loader(values: list[str]):
    def load() -> str:
        values.append("loaded")
        return f"value {len(values)}"

    return load


def test_a_copy_is_kept_while_the_version_is_unchanged():
    copies: VersionedCache[str, str] = VersionedCache("test copies", EXAMPLE)
    loads: list[str] = []
    assert copies.get_or_load("k", _loader(loads)) == "value 1"
    assert copies.get_or_load("k", _loader(loads)) == "value 1"
    assert loads == ["loaded"]


def test_another_process_changing_the_fact_drops_the_copy():
    """Another process's write publishes a new version in the shared cache: this process's
    next look misses its copy (simulated by writing the version as that process would)."""
    copies: VersionedCache[str, str] = VersionedCache("test copies", EXAMPLE)
    loads: list[str] = []
    copies.get_or_load("k", _loader(loads))
    cache.set(EXAMPLE.key, versions._new_value(), timeout=None)
    assert copies.get_or_load("k", _loader(loads)) == "value 2"


def test_a_change_is_published_once_committed_and_forgotten_locally_at_once(
    django_capture_on_commit_callbacks,
):
    copies: VersionedCache[str, str] = VersionedCache("test copies", EXAMPLE)
    loads: list[str] = []
    copies.get_or_load("k", _loader(loads))
    before = EXAMPLE.current()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        EXAMPLE.changed()
        # Not yet committed: other processes keep the old version, this one already forgot.
        assert EXAMPLE.current() == before
        assert copies.get_or_load("k", _loader(loads)) == "value 2"
    for callback in callbacks:
        callback()
    assert EXAMPLE.current() != before


def test_a_flushed_cache_means_a_new_version():
    copies: VersionedCache[str, str] = VersionedCache("test copies", EXAMPLE)
    loads: list[str] = []
    copies.get_or_load("k", _loader(loads))
    cache.delete(EXAMPLE.key)
    assert copies.get_or_load("k", _loader(loads)) == "value 2"


def test_a_request_reads_each_version_once(monkeypatch):
    """Inside a round trip the versions it read are the request's: no further reads."""
    with round_trip([CONFIGURATION, EXAMPLE]):
        monkeypatch.setattr(versions, "read_versions", lambda wanted: pytest.fail(f"read {wanted}"))
        CONFIGURATION.current()
        EXAMPLE.current()


def test_a_saved_model_changes_its_version(timesheets_api, django_capture_on_commit_callbacks):
    before = CONFIGURATION.current()
    with django_capture_on_commit_callbacks(execute=True):
        timesheets_api.name = "Renamed"
        timesheets_api.save()
    assert CONFIGURATION.current() != before


@pytest.mark.parametrize("incr", [True, False])
def test_counters_in_a_round_trip_count_as_the_limit_does(incr, steady_rate_window):
    limit = Limit("test-round-trip", 2, 60)
    counter = limit.counter("subject", incr=incr)
    assert counter is not None
    for _ in range(3):
        if not incr:  # counted elsewhere (a failure), only read here
            limit.hit("subject")
        with round_trip([], [counter]) as counts:
            count = counts[0]
    # Three requests against a limit of two: the third is over it either way.
    assert limit.over(counter, count) is not None
    assert limit.over(limit.counter("subject", incr=incr), 1) is None
    assert Limit("off", 0, 60).counter("subject", incr=True) is None


@pytest.mark.skipif(not versions._shared(), reason="needs Redis (.ci/run's service pass)")
def test_with_redis_a_round_trip_is_one_pipelined_request(monkeypatch):
    client = versions._redis_client()
    assert client is not None
    sent = []
    original = client.pipeline

    def pipeline(*args, **kwargs):
        sent.append("pipeline")
        return original(*args, **kwargs)

    monkeypatch.setattr(client, "pipeline", pipeline)
    monkeypatch.setattr(versions, "read_versions", lambda wanted: pytest.fail(f"read {wanted}"))
    cache.set(CONFIGURATION.key, 42, timeout=None)
    counter = Limit("test-pipeline", 5, 60).counter("a", incr=True)
    assert counter is not None
    with round_trip([CONFIGURATION], [counter]) as counts:
        assert CONFIGURATION.current() == 42
    assert counts == [1]
    assert sent == ["pipeline"]
