"""The geometry of the overview's charts, drawn on the server as SVG (the CSP allows no
script from elsewhere, and a chart that is markup needs none).

Numbers in, shapes out: each function scales the values to a fixed ``viewBox`` and returns
the bars, axis ticks and labels the template draws. Colours come from CSS classes
(``series-0``, ``series-1``…), never from inline styles, which the CSP refuses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

WIDTH = 640
HEIGHT = 240
LEFT = 44  # room for the value axis' labels
RIGHT = 8
TOP = 12
BOTTOM = 28  # room for the bucket labels
GAP = 0.2  # the share of each bucket's width left empty between buckets
ROW_WIDTH = 400  # a horizontal chart's viewBox: narrower, so its text stays legible in a half column
ROW_HEIGHT = 40  # a row of a horizontal chart: its label above, its bar below
ROW_LABEL = 14
MAX_LABELS = 7  # bucket labels drawn at most (every n-th one), so that they never overlap


@dataclass(frozen=True)
class Series:
    """One named sequence of values, one per bucket."""

    name: str
    values: list[float]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int  # which series' colour
    title: str  # what a pointer or a screen reader is told about this bar
    value: float


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Marker:
    """A mark above a bucket (lockouts on the sign-in chart)."""

    x: float
    y: float
    title: str

    @property
    def points(self) -> str:
        """A small downward triangle pointing at the bucket, for ``<polygon points>``."""
        x, y = self.x, self.y
        return f"{x - 5:.1f},{y - 5:.1f} {x + 5:.1f},{y - 5:.1f} {x:.1f},{y + 3:.1f}"


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Label] = field(default_factory=list)  # the value axis
    labels: list[Label] = field(default_factory=list)  # the buckets' (or rows') names
    values: list[Label] = field(default_factory=list)  # a horizontal chart's numbers
    markers: list[Marker] = field(default_factory=list)
    top: float = TOP
    bottom: float = HEIGHT - BOTTOM
    left: float = LEFT
    right: float = WIDTH - RIGHT


def number(value: float) -> str:
    """``3``, ``7.5``: a count or an hour total without trailing zeros."""
    return f"{value:g}"


def nice_ceiling(value: float) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value`` (at least 1), so ticks are round."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def _ticks(top_value: int) -> list[Label]:
    plot = HEIGHT - BOTTOM - TOP
    steps = 4 if top_value % 4 == 0 or top_value >= 10 else (2 if top_value % 2 == 0 else 1)
    ticks = []
    for index in range(steps + 1):
        value = top_value * index / steps
        text = f"{value:g}" if value == int(value) else f"{value:.1f}"
        ticks.append(Label(x=LEFT - 6, y=HEIGHT - BOTTOM - plot * index / steps, text=text))
    return ticks


def column_chart(
    *,
    labels: list[str],
    series: list[Series],
    stacked: bool,
    markers: list[int] | None = None,
    marker_names: tuple[str, str] = ("", ""),
) -> Chart:
    """Vertical bars, one group (or stack) per bucket, scaled so the tallest fills the plot.

    ``markers`` holds a count per bucket: a bucket with one or more gets a marker above it,
    titled with the count and ``marker_names`` (singular, plural).
    """
    totals = [
        sum(one.values[index] for one in series)
        if stacked
        else max((one.values[index] for one in series), default=0)
        for index in range(len(labels))
    ]
    top_value = nice_ceiling(max(totals, default=0))
    plot_height = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    inner = slot * (1 - GAP)
    width = inner if stacked else inner / max(len(series), 1)
    bars: list[Bar] = []
    for index, label in enumerate(labels):
        start = LEFT + slot * index + (slot - inner) / 2
        base: float = HEIGHT - BOTTOM
        for position, one in enumerate(series):
            value = one.values[index]
            height = plot_height * value / top_value
            x = start if stacked else start + width * position
            y = base - height
            if value:
                bars.append(Bar(x, y, width, height, position, f"{label}: {number(value)} {one.name}", value))
            if stacked:
                base = y
    every = max(1, math.ceil(len(labels) / MAX_LABELS))
    bucket_labels = [
        Label(x=LEFT + slot * index + slot / 2, y=HEIGHT - BOTTOM + 16, text=label)
        for index, label in enumerate(labels)
        if index % every == 0
    ]
    marks = [
        Marker(
            x=LEFT + slot * index + slot / 2,
            y=TOP - 4,
            title=f"{labels[index]}: {count} {marker_names[count != 1]}",
        )
        for index, count in enumerate(markers or [])
        if count
    ]
    return Chart(WIDTH, HEIGHT, bars, _ticks(top_value), bucket_labels, markers=marks)


def row_chart(*, rows: list[tuple[str, float]]) -> Chart:
    """Horizontal bars, one per (name, value) row, the longest filling the width.

    Each row's name is written above its bar and its value after it, so long names
    (client ids, API identifiers) never squeeze the bars.
    """
    top_value = max((value for _, value in rows), default=0) or 1
    span = ROW_WIDTH - RIGHT - 48  # room after the longest bar for its number
    bars, labels, values = [], [], []
    for index, (name, value) in enumerate(rows):
        y = index * ROW_HEIGHT
        length = span * value / top_value
        labels.append(Label(x=0, y=y + ROW_LABEL - 2, text=name))
        title = f"{name}: {number(value)}"
        bars.append(Bar(0, y + ROW_LABEL + 2, length, ROW_HEIGHT - ROW_LABEL - 10, 0, title, value))
        values.append(Label(x=length + 6, y=y + ROW_HEIGHT - 12, text=number(value)))
    height = max(len(rows), 1) * ROW_HEIGHT
    return Chart(
        ROW_WIDTH, height, bars, labels=labels, values=values, top=0, bottom=height, left=0, right=ROW_WIDTH
    )
