"""The overview's SVG geometry: each number lands in its own bar, at its own height."""

from __future__ import annotations

import pytest

from timesheets.overview_charts import (
    BOTTOM,
    HEIGHT,
    TOP,
    WIDTH,
    Series,
    column_chart,
    nice_ceiling,
    row_chart,
)

BASE = HEIGHT - BOTTOM
PLOT = HEIGHT - BOTTOM - TOP


@pytest.mark.parametrize(
    ("value", "ceiling"), [(0, 1), (1, 1), (3, 5), (7, 10), (10, 10), (11, 20), (48, 50), (2.5, 5)]
)
def test_the_scale_ends_on_a_round_number(value, ceiling):
    assert nice_ceiling(value) == ceiling


def test_stacked_columns_sit_on_each_other_and_scale_to_the_largest_total():
    chart = column_chart(
        labels=["Mon", "Tue", "Wed"], series=[Series("a", [2, 0, 1]), Series("b", [3, 0, 0])], stacked=True
    )
    # Totals 5, 0, 1: the scale ends at 5, the empty day has no bar at all.
    assert [tick.text for tick in chart.ticks][-1] == "5"
    assert [(bar.title, bar.series) for bar in chart.bars] == [
        ("Mon: 2 a", 0),
        ("Mon: 3 b", 1),
        ("Wed: 1 a", 0),
    ]
    monday_a, monday_b, wednesday = chart.bars
    assert monday_a.height == pytest.approx(PLOT * 2 / 5)
    assert monday_a.y + monday_a.height == pytest.approx(BASE)
    assert monday_b.y + monday_b.height == pytest.approx(monday_a.y)  # on top of a
    assert monday_b.y == pytest.approx(TOP)  # the largest total reaches the top
    assert monday_a.x == monday_b.x < wednesday.x
    assert all(bar.x >= 0 and bar.x + bar.width <= WIDTH for bar in chart.bars)


def test_grouped_columns_stand_side_by_side_with_markers_above_their_bucket():
    chart = column_chart(
        labels=["09:00", "10:00"],
        series=[Series("ok", [5, 0]), Series("failed", [1, 2])],
        stacked=False,
        markers=[1, 3],
        marker_names=("lockout", "lockouts"),
    )
    ok, failed_9, failed_10 = chart.bars
    assert (ok.title, failed_9.title, failed_10.title) == (
        "09:00: 5 ok",
        "09:00: 1 failed",
        "10:00: 2 failed",
    )
    assert failed_9.x == pytest.approx(ok.x + ok.width)
    assert ok.y == pytest.approx(TOP) and failed_10.height == pytest.approx(PLOT * 2 / 5)
    assert [marker.title for marker in chart.markers] == ["09:00: 1 lockout", "10:00: 3 lockouts"]
    bucket_10 = chart.labels[1]
    # Centred on its bucket, between that bucket's two columns.
    assert chart.markers[1].x == bucket_10.x == pytest.approx(failed_10.x)


def test_many_buckets_are_labelled_sparsely():
    chart = column_chart(labels=[str(day) for day in range(30)], series=[Series("n", [1] * 30)], stacked=True)
    assert 1 < len(chart.labels) <= 7
    assert len(chart.bars) == 30


def test_rows_are_as_long_as_their_share_of_the_largest():
    chart = row_chart(rows=[("batch", 8), ("mobile", 2), ("none", 0)])
    batch, mobile, none = chart.bars
    assert mobile.width == pytest.approx(batch.width / 4)
    assert none.width == 0
    assert batch.title == "batch: 8"
    assert [label.text for label in chart.labels] == ["batch", "mobile", "none"]
    assert [value.text for value in chart.values] == ["8", "2", "0"]
    assert chart.height == 3 * (mobile.y - batch.y)
    assert batch.x + batch.width < chart.values[0].x < chart.width
