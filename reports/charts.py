"""Small inline SVG charts for evidence attachments in compliance.html (no scripts, no external resources).

:func:`chart_for` draws an attachment as the chart kind its record declares (fixtures/chart_evidence.py
``ChartKind``), or, for a record without one, recognises four shapes of ``evidence.attach(name, obj)`` content (the
shapes are documented in ``reports/compliance.py``'s docstring); it returns the SVG, or ``None`` for anything else:

- a pod/event timeline (``fixtures.timeline.Timeline.entries``): lanes per ``kind``;
- named events relative to an origin (preStop / TERM / KILL after deletion): one marker per event, documented
  times as dashed lines;
- attempts (an image pull back-off schedule): a dot per attempt with the gap since the previous one, and the
  documented schedule underneath when given;
- intervals (pull overlap): a bar per ``{start, end}`` in a lane per node, overlapping bars stacked, with the
  maximum concurrency per lane.

Times are seconds (numbers) or ISO-8601 timestamps (then taken relative to the earliest one). The layout is
computed here as :class:`Shape` s; ``templates/chart.svg.j2`` writes them out, autoescaped like the rest of the page.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

import jinja2

from k8s_doc_conformance.fixtures.chart_evidence import ChartKind
from k8s_doc_conformance.reports import templating

PALETTE = ("#1f6fb2", "#d84315", "#2e7d32", "#6a1b9a", "#b0892c", "#00838f", "#ad1457", "#546e7a")
CHAR_W = 5.6  # average glyph width of the 10 px labels, for collision checks
LABEL_W, PLOT_W = 96, 620


@dataclass(frozen=True)
class Shape:
    """One SVG element as laid out here: its attributes (numbers already formatted), a hover ``title``, its text
    and child elements; templates/chart.svg.j2 draws it, escaping every value."""

    tag: str
    attrs: tuple[tuple[str, str], ...]
    title: str | None = None
    text: str = ""
    children: tuple[Shape, ...] = ()

    @property
    def empty(self) -> bool:
        return self.title is None and not self.text and not self.children


def el(
    tag: str, attrs: Mapping[str, object], *, title: str | None = None, text: str = "", children: Sequence[Shape] = ()
) -> Shape:
    """A :class:`Shape`: ``el("line", {"x1": "10.0", ...})``; attribute values are written as given."""
    return Shape(tag, tuple((k, str(v)) for k, v in attrs.items()), title, text, tuple(children))


@functools.cache
def _chart_template() -> jinja2.Template:
    return templating.environment().get_template("chart.svg.j2")


def _num(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _compact(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _seconds(values: Sequence[Any]) -> list[float | None] | None:
    """Numbers as they are; ISO timestamps as seconds after the earliest; None stays None; else not times."""
    if all(v is None or _num(v) for v in values):
        return [None if v is None else float(v) for v in values]
    stamps: list[dt.datetime | None] = []
    for v in values:
        if v is None:
            stamps.append(None)
            continue
        if not isinstance(v, str):
            return None
        try:
            stamp = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            return None
        stamps.append(stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC))
    known = [s for s in stamps if s is not None]
    if not known:
        return None
    zero = min(known)
    return [None if s is None else (s - zero).total_seconds() for s in stamps]


def _fmt(t: float) -> str:
    return f"{t:.3g}" if abs(t) < 100 else f"{t:.0f}"


class _Axis:
    """A seconds axis mapping [t_min, t_max] onto the plot area, with round tick steps."""

    def __init__(self, t_min: float, t_max: float, x0: float = LABEL_W, width: float = PLOT_W) -> None:
        span = t_max - t_min
        if span <= 0:
            span = max(abs(t_max), 1.0)
        self.t_min, self.t_max, self.x0, self.width = t_min, t_min + span, x0, width

    def x(self, t: float) -> float:
        return self.x0 + (t - self.t_min) / (self.t_max - self.t_min) * self.width

    def ticks(self) -> list[float]:
        span = self.t_max - self.t_min
        raw = span / 6
        magnitude = 10 ** math.floor(math.log10(raw))
        step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
        first = math.ceil(self.t_min / step) * step
        count = int((self.t_max - first) / step + 1e-9) + 1
        return [first + i * step for i in range(count)]

    def draw(self, y: float) -> list[Shape]:
        out = [el("line", {"x1": self.x0, "y1": f"{y:.1f}", "x2": self.x0 + self.width, "y2": f"{y:.1f}", **AXIS})]
        for t in self.ticks():
            x = self.x(t)
            out.append(el("line", {"x1": f"{x:.1f}", "y1": f"{y:.1f}", "x2": f"{x:.1f}", "y2": f"{y + 4:.1f}", **AXIS}))
            out.append(el("text", {"x": f"{x:.1f}", "y": f"{y + 15:.1f}", **TICK}, text=f"{_fmt(t)} s"))
        return out


AXIS = {"stroke": "#9aa5b1"}
TICK = {"font-size": "10", "text-anchor": "middle", "fill": "#52606d"}
GRID = {"stroke": "#e3e8ed"}


def svg(label: str, width: float, height: float, shapes: Sequence[Shape], css_class: str | None = "chart") -> str:
    """The shapes as one inline ``<svg>`` (templates/chart.svg.j2), labelled for screen readers."""
    size = {"width": f"{width:.0f}", "height": f"{height:.0f}"}
    return str(_chart_template().render(label=label, shapes=list(shapes), css_class=css_class, **size))


def _lane_label(y: float, text: str, sub: str = "") -> list[Shape]:
    short = text if len(text) <= 15 else text[:14] + "…"
    attrs = {"x": LABEL_W - 6, "y": f"{y + 4:.1f}", "font-size": "10.5", "text-anchor": "end", "fill": "#3e4c59"}
    out = [el("text", attrs, title=text, text=short)]
    if sub:
        attrs = {"x": LABEL_W - 6, "y": f"{y + 15:.1f}", "font-size": "9", "text-anchor": "end", "fill": "#7b8794"}
        out.append(el("text", attrs, text=sub))
    return out


def _origin_line(axis: _Axis, top: float, bottom: float, origin: str) -> list[Shape]:
    """A solid line at t = 0 and, under the axis (``bottom``), what t = 0 is."""
    if not origin or not axis.t_min <= 0 <= axis.t_max:
        return []
    x = axis.x(0)
    line = {"x1": f"{x:.1f}", "y1": f"{top:.1f}", "x2": f"{x:.1f}", "y2": f"{bottom:.1f}", "stroke": "#1d232a"}
    caption = {"x": axis.x0, "y": f"{bottom + 28:.1f}", "font-size": "9.5", "fill": "#1d232a"}
    return [el("line", line | {"stroke-width": "1.2"}), el("text", caption, text=f"t = 0: {origin[:60]}")]


def _height(axis_y: float, origin: str) -> float:
    return axis_y + (34 if origin else 22)


# --------------------------------------------------------------------------- pod/event timelines


def is_timeline(content: Any) -> TypeGuard[list[dict[str, Any]]]:
    """A pod/event timeline: a non-empty list of objects with a numeric ``t`` and a ``kind`` (or no ``name``)."""
    return _timeline_entries(content) and not all("name" in e and "kind" not in e for e in content)


def _timeline_label(ev: Mapping[str, Any]) -> str:
    for key in ("reason", "state", "signal", "phase", "event", "what", "name", "message"):
        if ev.get(key) not in (None, ""):
            return str(ev[key])
    return str(ev.get("kind", ""))


def _timeline_colour(ev: Mapping[str, Any]) -> str:
    if ev.get("type") == "Warning":
        return "#d84315"
    if ev.get("kind") == "pod" or ev.get("source") == "API watch":
        return "#2e7d32"
    return "#1f6fb2"


def _lane_of(ev: Mapping[str, Any]) -> str:
    return str(ev.get("kind") or ev.get("source") or ev.get("lane") or "?")


def timeline_chart(events: Sequence[Mapping[str, Any]]) -> str:
    """Events over time: one lane per ``kind`` (or ``source``, or ``lane``), a dot per event (hover: details), a
    seconds axis, a line at t = 0 when times start before it. Labels go above or below their dot where they fit;
    a label repeating the previous one of its lane (heartbeats) is left to the hover text."""
    lanes = list(dict.fromkeys(_lane_of(ev) for ev in events))
    lane_h, top, axis_h = 36, 6, 22
    width, height = LABEL_W + PLOT_W + 20, top + lane_h * len(lanes) + axis_h
    times = [float(e["t"]) for e in events]
    axis = _Axis(min(0.0, *times), max(times))
    axis_y = top + lane_h * len(lanes)
    out: list[Shape] = []
    for i, lane in enumerate(lanes):
        y = top + i * lane_h + lane_h / 2
        out.append(el("line", {"x1": LABEL_W, "y1": f"{y:.1f}", "x2": LABEL_W + PLOT_W, "y2": f"{y:.1f}", **GRID}))
        out += _lane_label(y, lane)
    if axis.t_min < 0:
        x0 = axis.x(0)
        zero = {"x1": f"{x0:.1f}", "y1": top, "x2": f"{x0:.1f}", "y2": axis_y, "stroke": "#1d232a", "stroke-width": 1}
        out.append(el("line", zero))
    out += axis.draw(axis_y)
    rows_end: dict[tuple[str, int], float] = {}  # (lane, 0 above | 1 below) -> right end of its last label
    last_text: dict[str, str] = {}
    for ev in sorted(events, key=lambda e: float(e["t"])):
        lane = _lane_of(ev)
        x, y = axis.x(float(ev["t"])), top + lanes.index(lane) * lane_h + lane_h / 2
        detail = ", ".join(f"{k}={_compact(v)}" for k, v in ev.items() if k not in ("t", "kind", "source", "at"))
        dot = {"cx": f"{x:.1f}", "cy": f"{y:.1f}", "r": 4, "fill": _timeline_colour(ev), "fill-opacity": "0.8"}
        out.append(el("circle", dot, title=f"t={float(ev['t']):.3f} s {lane}: {detail}"))
        label = _timeline_label(ev)[:26]
        if last_text.get(lane) == label:
            continue
        w = len(label) * CHAR_W
        right = x + 5 + w > LABEL_W + PLOT_W + 18  # near the right edge: the label goes left of the dot
        left_x = x - 5 - w if right else x + 3
        row = next((r for r in (0, 1) if rows_end.get((lane, r), -1e9) + 4 <= left_x), None)
        if row is None:
            continue
        rows_end[(lane, row)] = left_x + w + 2
        last_text[lane] = label
        anchor = {"x": f"{x - 5:.1f}", "text-anchor": "end"} if right else {"x": f"{x + 3:.1f}"}
        place = {"y": f"{y - 6 if row == 0 else y + 14:.1f}", "font-size": "9.5", "fill": "#52606d"}
        out.append(el("text", anchor | place, text=label))
    return svg("timeline", width, height, out)


# --------------------------------------------------------------------------- named events


def named_events(content: Any) -> dict[str, Any] | None:
    """``{"events": [{"name", "t"}...], "origin"?, "expected"?: [{"name", "t"}...]}`` or a bare list of
    ``{"name", "t"}``, normalised; None if ``content`` is neither."""
    spec = {"events": content} if isinstance(content, list) else content
    if not isinstance(spec, dict) or not isinstance(spec.get("events"), list) or not spec["events"]:
        return None
    events = spec["events"]
    if not all(isinstance(e, dict) and "name" in e and "kind" not in e for e in events):
        return None
    times = _seconds([e.get("t") for e in events])
    if times is None or any(t is None for t in times):
        return None
    expected = spec.get("expected")
    marks = [e for e in expected if isinstance(e, dict) and _num(e.get("t"))] if isinstance(expected, list) else []
    return {
        "events": [dict(e, t=t) for e, t in zip(events, times, strict=True)],
        "origin": str(spec.get("origin") or ""),
        "expected": marks,
    }


def events_chart(spec: Mapping[str, Any]) -> str:
    """Named events on one lane per ``lane`` (default one), labels stacked so none overlap; documented times
    (``expected``) as dashed lines labelled along the top."""
    events: list[dict[str, Any]] = sorted(spec["events"], key=lambda e: e["t"])
    marks: list[dict[str, Any]] = list(spec["expected"])
    lanes = list(dict.fromkeys(str(e.get("lane") or "") for e in events))
    times = [float(e["t"]) for e in events] + [float(m["t"]) for m in marks]
    axis = _Axis(min(0.0, *times), max(times))
    # Documented times: labels along the top, right-aligned on their line, in rows so none overlap.
    mark_rows: list[float] = []
    mark_row: list[int] = []
    for mark in sorted(marks, key=lambda m: float(m["t"])):
        x = axis.x(float(mark["t"]))
        w = len(str(mark.get("name", ""))[:30]) * CHAR_W + 6
        row = next((i for i, end in enumerate(mark_rows) if end <= x - w), None)
        if row is None:
            mark_rows.append(x)
            row = len(mark_rows) - 1
        else:
            mark_rows[row] = x
        mark_row.append(row)
    marks = sorted(marks, key=lambda m: float(m["t"]))
    top = 8 + 12 * len(mark_rows)
    out: list[Shape] = []
    y = float(top)
    placed: list[tuple[float, dict[str, Any], float]] = []  # (y of the lane's dots, event, y of its label)
    for lane in lanes:
        rows_end: list[float] = []
        dot_y = y + 8
        for ev in (e for e in events if str(e.get("lane") or "") == lane):
            x = axis.x(float(ev["t"]))
            w = len(f"{str(ev['name'])[:40]} {_fmt(float(ev['t']))} s") * CHAR_W + 8
            start = min(x - 3, LABEL_W + PLOT_W + 60 - w)
            row = next((i for i, end in enumerate(rows_end) if end <= start), None)
            if row is None:
                rows_end.append(start + w)
                row = len(rows_end) - 1
            else:
                rows_end[row] = start + w
            placed.append((dot_y, ev, dot_y + 16 + 12 * row))
        out += _lane_label(dot_y, lane or "events")
        out.append(
            el("line", {"x1": LABEL_W, "y1": f"{dot_y:.1f}", "x2": LABEL_W + PLOT_W, "y2": f"{dot_y:.1f}", **GRID})
        )
        y += 22 + 12 * max(len(rows_end), 1)
    axis_y = y + 4
    for mark, row in zip(marks, mark_row, strict=True):
        x = axis.x(float(mark["t"]))
        name = str(mark.get("name", ""))
        line = {"x1": f"{x:.1f}", "y1": 10 + 12 * row - 8, "x2": f"{x:.1f}", "y2": f"{axis_y:.1f}"}
        caption = {"x": f"{x - 3:.1f}", "y": f"{10 + 12 * row:.1f}", "font-size": "9.5", "text-anchor": "end"}
        out.append(
            el(
                "line",
                line | {"stroke": "#b0892c", "stroke-dasharray": "4 3"},
                title=f"documented: {name} at {_fmt(float(mark['t']))} s",
            )
        )
        out.append(el("text", caption | {"fill": "#8a6d1f"}, text=name[:30]))
    out += _origin_line(axis, top, axis_y, spec["origin"])
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(dict.fromkeys(e["name"] for e in events))}
    for dot_y, ev, label_y in placed:
        x = axis.x(float(ev["t"]))
        detail = ", ".join(f"{k}={_compact(v)}" for k, v in ev.items() if k not in ("t", "name", "lane"))
        colour = colours[ev["name"]]
        stem = {"x1": f"{x:.1f}", "y1": f"{dot_y:.1f}", "x2": f"{x:.1f}", "y2": f"{label_y - 9:.1f}"}
        out.append(el("line", stem | {"stroke": colour, "stroke-opacity": "0.35"}))
        hover = f"{ev['name']}: t={float(ev['t']):.3f} s{' · ' + detail if detail else ''}"
        out.append(el("circle", {"cx": f"{x:.1f}", "cy": f"{dot_y:.1f}", "r": "4.5", "fill": colour}, title=hover))
        when = el("tspan", {"fill": "#52606d"}, text=f"{_fmt(float(ev['t']))} s")
        caption = {"x": f"{x - 2:.1f}", "y": f"{label_y:.1f}", "font-size": "10", "fill": colour}
        out.append(el("text", caption, text=f"{str(ev['name'])[:40]} ", children=[when]))
    out += axis.draw(axis_y)
    return svg("events", LABEL_W + PLOT_W + 70, _height(axis_y, spec["origin"]), out)


# --------------------------------------------------------------------------- attempts (back-off schedule)


def attempts(name: str, content: Any) -> dict[str, Any] | None:
    """``{"attempts": [t | {"t", ...}...], "origin"?, "expected_delays"?: [s...], "cap"?: s}``, or (for an
    attachment whose name contains "attempt") a bare list of times; normalised, or None."""
    if isinstance(content, dict) and isinstance(content.get("attempts"), list):
        spec = content
    elif isinstance(content, list) and "attempt" in name.lower():
        spec = {"attempts": content}
    else:
        return None
    raw = spec["attempts"]
    if len(raw) < 1:
        return None
    items = [a if isinstance(a, dict) else {"t": a} for a in raw]
    times = _seconds([a.get("t") for a in items])
    if times is None or any(t is None for t in times):
        return None
    delays = spec.get("expected_delays")
    delays = [float(d) for d in delays if _num(d)] if isinstance(delays, list) else []
    cap = float(spec["cap"]) if _num(spec.get("cap")) else None
    order = sorted(range(len(items)), key=lambda i: times[i] or 0.0)
    return {
        "attempts": [dict(items[i], t=times[i]) for i in order],
        "origin": str(spec.get("origin") or ""),
        "expected_delays": delays,
        "cap": cap,
    }


def attempts_chart(spec: Mapping[str, Any]) -> str:
    """Attempts on a time line, the gap since the previous attempt written above each; the documented schedule
    (the first attempt, then the cumulative ``expected_delays``) as hollow dots on a second lane."""
    tries: list[dict[str, Any]] = list(spec["attempts"])
    t0 = float(tries[0]["t"])
    expected = [t0]
    for d in spec["expected_delays"]:
        expected.append(expected[-1] + d)
    times = [float(a["t"]) for a in tries] + (expected if spec["expected_delays"] else [])
    axis = _Axis(min(0.0, *times), max(times))
    observed_y, expected_y = 36.0, 66.0
    lanes = [("observed", observed_y, f"{len(tries)} attempts")]
    if spec["expected_delays"]:
        lanes.append(("documented", expected_y, "schedule"))
    out: list[Shape] = []
    for text, y, sub in lanes:
        out.append(el("line", {"x1": LABEL_W, "y1": y, "x2": LABEL_W + PLOT_W, "y2": y, **GRID}))
        out += _lane_label(y, text, sub)
    axis_y = (expected_y if spec["expected_delays"] else observed_y) + 18
    out += _origin_line(axis, 4, axis_y, spec["origin"])
    rows_end: list[float] = []  # gap labels: up to three rows above the dots, so short gaps stay readable
    for i, attempt in enumerate(tries):
        t = float(attempt["t"])
        x = axis.x(t)
        gap = t - float(tries[i - 1]["t"]) if i else None
        detail = ", ".join(f"{k}={_compact(v)}" for k, v in attempt.items() if k != "t")
        hover = f"attempt {i + 1}: t={t:.3f} s{f' (+{gap:.3f} s)' if gap is not None else ''}"
        hover += f" · {detail}" if detail else ""
        out.append(el("circle", {"cx": f"{x:.1f}", "cy": observed_y, "r": "4.5", "fill": "#d84315"}, title=hover))
        if gap is None:
            continue
        text = f"+{_fmt(gap)}"
        mid = axis.x(t - gap / 2)
        left, right = mid - len(text) * CHAR_W / 2, mid + len(text) * CHAR_W / 2
        row = next((r for r, end in enumerate(rows_end) if end + 3 <= left), None)
        if row is None and len(rows_end) < 3:
            rows_end.append(right)
            row = len(rows_end) - 1
        elif row is not None:
            rows_end[row] = right
        if row is not None:
            out.append(el("text", {"x": f"{mid:.1f}", "y": observed_y - 8 - 10 * row, **TICK}, text=text))
    for i, t in enumerate(expected if spec["expected_delays"] else []):
        x = axis.x(t)
        hollow = {
            "cx": f"{x:.1f}",
            "cy": expected_y,
            "r": 4,
            "fill": "#fff",
            "stroke": "#b0892c",
            "stroke-width": "1.5",
        }
        out.append(el("circle", hollow, title=f"documented attempt {i + 1}: t={t:.3f} s"))
    if spec["cap"] is not None:
        cap = {"x": LABEL_W + PLOT_W, "y": 12, "font-size": "9.5", "text-anchor": "end", "fill": "#8a6d1f"}
        out.append(el("text", cap, text=f"documented cap {_fmt(spec['cap'])} s"))
    out += axis.draw(axis_y)
    return svg("attempts", LABEL_W + PLOT_W + 20, _height(axis_y, spec["origin"]), out)


# --------------------------------------------------------------------------- intervals (pull overlap)


def intervals(content: Any) -> dict[str, Any] | None:
    """``[{"start", "end", "node"?, "image"?, "lane"?, "label"?}...]`` or ``{"intervals": [...], "origin"?}``;
    normalised (lane = lane or node, label = label or image), or None."""
    spec = {"intervals": content} if isinstance(content, list) else content
    if not isinstance(spec, dict) or not isinstance(spec.get("intervals"), list) or not spec["intervals"]:
        return None
    items = spec["intervals"]
    if not all(isinstance(i, dict) and "start" in i and "end" in i for i in items):
        return None
    values = _seconds([v for i in items for v in (i["start"], i["end"])])
    if values is None:
        return None
    bars = []
    for n, item in enumerate(items):
        start, end = values[2 * n], values[2 * n + 1]
        if start is None:
            return None
        lane = item.get("lane") or item.get("node") or ""
        label = item.get("label") or item.get("image") or ""
        bars.append(dict(item, start=start, end=end, lane=str(lane), label=str(label)))
    return {"intervals": bars, "origin": str(spec.get("origin") or "")}


def _stack(bars: Sequence[dict[str, Any]], open_end: float) -> tuple[list[int], int]:
    """Sub-row per bar so overlapping bars sit one under the other; also the most bars open at one time."""
    rows_end: list[float] = []
    rows: list[int] = []
    for bar in bars:
        end = bar["end"] if bar["end"] is not None else open_end
        row = next((i for i, e in enumerate(rows_end) if e <= bar["start"]), None)
        if row is None:
            rows_end.append(end)
            row = len(rows_end) - 1
        else:
            rows_end[row] = end
        rows.append(row)
    points = sorted(
        [(b["start"], 1) for b in bars] + [(b["end"] if b["end"] is not None else open_end, -1) for b in bars],
        key=lambda p: (p[0], p[1]),
    )
    level = peak = 0
    for _, delta in points:
        level += delta
        peak = max(peak, level)
    return rows, peak


def intervals_chart(spec: Mapping[str, Any]) -> str:
    """A bar per interval in a lane per node, overlapping bars stacked; each lane notes its peak concurrency."""
    bars: list[dict[str, Any]] = sorted(spec["intervals"], key=lambda b: (b["start"], b["end"] or 0))
    ends = [b["end"] for b in bars if b["end"] is not None]
    t_max = max([*ends, *(b["start"] for b in bars)])
    axis = _Axis(min(0.0, *(b["start"] for b in bars)), t_max)
    colours = {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(dict.fromkeys(b["label"] for b in bars))}
    bar_h, gap, top = 14, 3, 6
    out: list[Shape] = []
    y = float(top)
    for lane in dict.fromkeys(b["lane"] for b in bars):
        lane_bars = [b for b in bars if b["lane"] == lane]
        rows, peak = _stack(lane_bars, t_max)
        n_rows = max(rows) + 1
        lane_h = n_rows * (bar_h + gap) + 8
        band = {"x": LABEL_W, "y": f"{y:.1f}", "width": PLOT_W, "height": lane_h - 4, "fill": "#f7f9fb", **GRID}
        out.append(el("rect", band))
        out += _lane_label(y + 10, lane or "—", f"max {peak} at once")
        for bar, row in zip(lane_bars, rows, strict=True):
            x1 = axis.x(bar["start"])
            x2 = axis.x(bar["end"] if bar["end"] is not None else t_max)
            by = y + 2 + row * (bar_h + gap)
            colour = colours[bar["label"]]
            dash = {"stroke-dasharray": "3 2", "stroke": "#1d232a"} if bar["end"] is None else {}
            duration = f"{bar['end'] - bar['start']:.3f} s" if bar["end"] is not None else "not finished"
            extra = ", ".join(
                f"{k}={_compact(v)}" for k, v in bar.items() if k not in ("start", "end", "lane", "label", "node")
            )
            box = {"x": f"{x1:.1f}", "y": f"{by:.1f}", "width": f"{max(x2 - x1, 1.5):.1f}", "height": bar_h, "rx": 2}
            ended = _fmt(bar["end"]) + " s" if bar["end"] is not None else "…"
            hover = f"{bar['label']} on {lane}: {bar['start']:.3f} s → {ended} ({duration})"
            hover += f" · {extra}" if extra else ""
            out.append(el("rect", box | {"fill": colour, "fill-opacity": "0.75"} | dash, title=hover))
            short = bar["label"].rsplit("/", 1)[-1]
            if (x2 - x1) > len(short) * CHAR_W + 6:
                inside = {"x": f"{x1 + 4:.1f}", "y": f"{by + 10.5:.1f}", "font-size": "9.5", "fill": "#fff"}
                out.append(el("text", inside, text=short))
        y += lane_h
    out += _origin_line(axis, top, y, spec["origin"])
    out += axis.draw(y)
    return svg("intervals", LABEL_W + PLOT_W + 20, _height(y, spec["origin"]), out)


# --------------------------------------------------------------------------- dispatch


def _declared(kind: ChartKind, name: str, content: Any) -> str | None:
    """The SVG of ``content`` drawn as the declared ``kind``; None when the content does not hold that kind's data."""
    if kind is ChartKind.ATTEMPTS:
        spec = attempts(name, {"attempts": content} if isinstance(content, list) else content)
        return attempts_chart(spec) if spec is not None else None
    if kind is ChartKind.INTERVALS:
        spec = intervals(content)
        return intervals_chart(spec) if spec is not None else None
    if kind is ChartKind.EVENTS:
        spec = named_events(content)
        return events_chart(spec) if spec is not None else None
    if _timeline_entries(content):
        return timeline_chart(content)
    return None


def _timeline_entries(content: Any) -> TypeGuard[list[dict[str, Any]]]:
    return (
        isinstance(content, list) and bool(content) and all(isinstance(e, dict) and _num(e.get("t")) for e in content)
    )


def chart_for(name: str, content: Any, declared: ChartKind | str | None = None) -> tuple[str, str] | None:
    """``(kind, svg)`` for an attachment: drawn as its ``declared`` chart kind (the record's ``"chart"``, see
    fixtures/chart_evidence.py) when it has one, else by the shape of its content (runs recorded before kinds were
    declared); None for anything else, or for content that does not hold the declared kind's data."""
    try:
        if declared is not None:
            try:
                kind = declared if isinstance(declared, ChartKind) else ChartKind(declared)
            except ValueError:
                return None
            svg = _declared(kind, name, content)
            return (kind.value, svg) if svg is not None else None
        if (spec := attempts(name, content)) is not None:
            return "attempts", attempts_chart(spec)
        if (spec := intervals(content)) is not None:
            return "intervals", intervals_chart(spec)
        if (spec := named_events(content)) is not None:
            return "events", events_chart(spec)
        if is_timeline(content):
            return "timeline", timeline_chart(content)
    except (TypeError, ValueError, KeyError, ZeroDivisionError, OverflowError):
        return None  # a shape that looked right but was not: show the raw data only
    return None
