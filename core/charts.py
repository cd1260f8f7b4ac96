"""Charts as pure functions: Plotly for the live training curves, Altair for the static views.

Both share one palette and one font, so a page reads as one piece. Every function that colours series
takes the palette to use (core/palette.py: the page passes the viewer's choice, for a light or a dark page).
Backgrounds are transparent and text takes the page's colour, so each chart reads on either theme.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import altair as alt
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from pandas.io.formats.style import Styler
from plotly.subplots import make_subplots

from core.palette import DEFAULT_PALETTE, INK, Palette
from core.results.race import own_seconds, training_seconds
from core.training.race import SETTINGS
from core.training.run import RunSnapshot

# Grey at a quarter opacity: faint grid lines on a white page and on a dark one alike.
GRID = "rgba(128, 128, 128, 0.25)"
TRANSPARENT = "rgba(0, 0, 0, 0)"
FONT = "Source Sans Pro, sans-serif"

METRIC_TITLES = {
    "loss": "Loss",
    "accuracy": "Accuracy",
    "precision": "Precision (macro)",
    "recall": "Recall (macro)",
    "f1": "F1 (macro)",
}


def run_colour(index: int, palette: Palette = DEFAULT_PALETTE) -> str:
    return palette.series[index % len(palette.series)]


def epoch_table(snapshot: RunSnapshot) -> Styler:
    """The epoch rows as Keras's verbose output prints them, with each metric's gain over the last epoch."""
    frame = pd.DataFrame([dict(row) for row in snapshot.epochs])
    if frame.empty:
        return readable_table(frame)
    frame = frame.set_index("epoch")
    columns = [c for c in frame.columns if c not in ("seconds", "learning_rate")]
    table = frame[columns].copy()
    for metric in ("accuracy", "val_accuracy"):
        if metric in table:
            table[f"{metric} gain"] = table[metric].diff()
    table["seconds"] = frame["seconds"].diff().fillna(frame["seconds"])
    return readable_table(table)


# Columns read as shares of the whole (shown as 97.2%), by a word in their name.
SHARE_WORDS = ("accuracy", "precision", "recall", "f1")


def readable_table(rows: pd.DataFrame | Sequence[dict]) -> Styler:
    """A table as people read it: shares as 97.2%, gains as +1.3 pt, seconds to a tenth, a blank as "—".

    A column of numbers stays numbers (it still sorts by value) and only its display is rounded; a column with
    blanks is written out as text, since a table shows a blank number as "None" whatever its display says.
    """
    frame = pd.DataFrame(rows)
    formats = {}
    for column in frame.columns:
        written = _number_format(str(column))
        if frame[column].isna().any():
            frame[column] = [_written(value, written) for value in frame[column]]
        elif pd.api.types.is_numeric_dtype(frame[column]):
            formats[column] = written
    return frame.style.format(formats)


def _written(value: object, written: Callable[[float], str]) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    return written(value) if isinstance(value, int | float | np.number) and not isinstance(value, bool) else value


def _number_format(column: str) -> Callable[[float], str]:
    name = column.lower()
    if "gain" in name:
        return lambda value: f"{value * 100:+.1f} pt"
    if any(word in name for word in SHARE_WORDS):
        return lambda value: f"{value:.1%}"
    if "seconds" in name:
        return lambda value: f"{value:.1f}"
    if "loss" in name:
        return lambda value: f"{value:.4f}"
    return lambda value: f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"  # 101,770 parameters


def training_curves(
    snapshots: Sequence[RunSnapshot],
    metric: str,
    x_axis: str = "epoch",
    show_batches: bool = True,
    height: int = 320,
    palette: Palette = DEFAULT_PALETTE,
) -> go.Figure:
    """One metric for one or more runs: training solid, validation dashed, one colour per run.

    x_axis is "epoch" (batch points placed at fractional epochs) or "seconds" (wall clock). Batch
    points are the running average within the epoch that Keras reports; they show learning inside
    an epoch long before the epoch ends. With several runs the legend has one entry per run, and
    the subtitle explains the line styles once.

    Redrawn every second for every page watching a run, so built the fast way: points as numpy
    arrays and the layout in the constructor (Python lists and update_* calls make Plotly validate
    every value; bench/page_speed.py measures it).
    """
    overlay = len(snapshots) > 1
    traces = []
    for index, snap in enumerate(snapshots):
        colour = run_colour(index, palette)
        name = snap.label if overlay else ""
        if show_batches:
            traces += _batch_traces(snap, metric, x_axis, colour, name)
        traces += _epoch_traces(snap, metric, x_axis, colour, name)
    layout = _layout(METRIC_TITLES.get(metric, metric), "epoch" if x_axis == "epoch" else "seconds", height)
    if overlay:
        layout["title"]["subtitle"] = {"text": "solid: training · dashed: validation"}
        layout["margin"]["t"] = 60
    if metric == "loss":
        layout["yaxis"]["rangemode"] = "tozero"
    figure = go.Figure(data=traces, layout=layout)
    if x_axis == "epoch":
        _mark_learning_rate_changes(figure, snapshots, palette)
    return figure


def _epoch_traces(snap: RunSnapshot, metric: str, x_axis: str, colour: str, name: str) -> list[go.Scatter]:
    """Training solid and validation dashed; in an overlay (a name given) only the training line is in the legend."""
    traces = []
    for split, key, dash in (("training", metric, "solid"), ("validation", f"val_{metric}", "dash")):
        points = [(_x(row, x_axis), row.get(key)) for row in snap.epochs if row.get(key) is not None]
        if not points:
            continue
        xs, ys = np.array(points, dtype=float).T
        traces.append(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines+markers",
                name=name if name and split == "training" else f"{name} {split}".strip(),
                legendgroup=name or None,
                showlegend=not name or split == "training",
                line={"color": colour, "dash": dash, "width": 2.5},
                marker={"size": 7},
                hovertemplate=f"{split} {metric}: %{{y:.4f}}<extra>%{{x}}</extra>",
            )
        )
    return traces


# A learning-rate label's name among a figure's annotations (presenter_style places them again, larger).
RATE_LABEL = "learning rate"
RATE_LABEL_ROWS = 3
RATE_LABEL_FONT_SIZE = 11
# A phone's plot width in pixels: labels that stand apart there stand apart on any wider plot.
NARROWEST_PLOT_PIXELS = 300


def _mark_learning_rate_changes(figure: go.Figure, snapshots: Sequence[RunSnapshot], palette: Palette) -> None:
    """A dotted line at each change of the learning rate, and its new value written at the plot's top."""
    changes = [
        (change["progress"], change["learning_rate"], index)
        for index, snap in enumerate(snapshots)
        for change in snap.learning_rate_changes
    ]
    # The latest change first: the rate in force now gets the top row.
    for progress, learning_rate, index in sorted(changes, reverse=True):
        colour = run_colour(index, palette)
        figure.add_vline(x=progress, line={"color": colour, "dash": "dot", "width": 1})
        figure.add_annotation(
            x=progress,
            y=1,
            xref="x",
            yref="paper",
            yanchor="top",
            text=f"lr {learning_rate:g}",
            showarrow=False,
            font={"size": RATE_LABEL_FONT_SIZE, "color": colour},
            name=RATE_LABEL,
        )
    _stack_rate_labels(figure)


def _stack_rate_labels(figure: go.Figure) -> None:
    """Each learning-rate label in the first row where it overlaps no other at its font size, written toward the
    plot's middle so it stays inside; past the last row a label hides (its dotted line stays)."""
    labels = [annotation for annotation in figure.layout.annotations if annotation.name == RATE_LABEL]
    if not labels:
        return
    xs = [x for trace in figure.data if trace.x is not None for x in np.asarray(trace.x, dtype=float)]
    xs += [label.x for label in labels]
    low, high = min(xs), max(xs)
    span = max(high - low, 1e-9)
    rows: list[list[tuple[float, float]]] = []
    for label in labels:
        size = label.font.size or RATE_LABEL_FONT_SIZE
        width = len(label.text) * size * 0.6 / NARROWEST_PLOT_PIXELS * span
        left = label.x < low + span / 2
        extent = (label.x, label.x + width) if left else (label.x - width, label.x)
        row = next((r for r, taken in enumerate(rows) if all(extent[1] < a or extent[0] > b for a, b in taken)), None)
        if row is None:
            row = len(rows)
            rows.append([])
        rows[row].append(extent)
        label.update(xanchor="left" if left else "right", yshift=-1.4 * size * row, visible=row < RATE_LABEL_ROWS)


def point_count(figure: go.Figure) -> int:
    """How many points a figure draws (tests and the e2e check that charts grow)."""
    return sum(len(trace.x) for trace in figure.data if trace.x is not None)


def _x(row: dict, x_axis: str) -> float:
    return row["seconds"] if x_axis == "seconds" else row["epoch"]


def _batch_traces(snap: RunSnapshot, metric: str, x_axis: str, colour: str, name: str) -> list[go.Scatter]:
    points = [(p["seconds"] if x_axis == "seconds" else p["progress"], p.get(metric)) for p in snap.batches]
    points = [(x, y) for x, y in points if y is not None]
    if not points:
        return []
    xs, ys = np.array(points, dtype=float).T
    trace = go.Scatter(
        x=xs,
        y=ys,
        mode="lines",
        name=f"{name} training (within epoch)".strip(),
        legendgroup=name or None,
        showlegend=not name,  # in an overlay the run's entry stands for its three lines
        # Until the first epoch ends this line is all there is to watch, so the room sees it plainly; after
        # that it stays faint behind the epochs' points.
        line={"color": colour, "width": 1 if snap.epochs else 2.5},
        opacity=0.35 if snap.epochs else 0.9,
        hovertemplate=f"running {metric}: %{{y:.4f}}<extra>%{{x:.2f}}</extra>",
    )
    return [trace]


def _layout(title: str, x_title: str, height: int) -> dict:
    # No font colour and no background: the page's theme gives both (st.plotly_chart's "streamlit" theme).
    return {
        "title": {"text": title, "font": {"size": 16}},
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "font": {"family": FONT},
        "paper_bgcolor": TRANSPARENT,
        "plot_bgcolor": TRANSPARENT,
        # Under the x-axis title at any width: placed in the figure (container), Plotly makes room for it.
        "legend": {"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0},
        "hovermode": "x unified",
        "xaxis": {"title": {"text": x_title}, "gridcolor": GRID, "zeroline": False},
        "yaxis": {"gridcolor": GRID, "zeroline": False},
    }


def _style(figure: go.Figure, title: str, x_title: str, height: int) -> None:
    figure.update_layout(_layout(title, x_title, height))


# --- Altair: static statistical views --------------------------------------------------------


def _altair_style(chart: alt.Chart) -> alt.Chart:
    # Axis text takes the page's theme colour (st.altair_chart's "streamlit" theme); the background stays clear.
    return (
        chart.configure(font=FONT, background=TRANSPARENT)
        .configure_axis(gridColor=GRID, domainColor=GRID)
        .configure_view(strokeWidth=0)
    )


def class_balance_chart(
    labels: np.ndarray, class_names: Sequence[str], palette: Palette = DEFAULT_PALETTE
) -> alt.Chart:
    """How many images of each class: a balanced dataset has bars of equal height."""
    counts = np.bincount(labels, minlength=len(class_names))
    frame = pd.DataFrame({"class": list(class_names), "images": counts})
    chart = (
        alt.Chart(frame)
        .mark_bar(color=palette.series[0])
        .encode(
            x=alt.X("class:N", sort=list(class_names), title=None),
            y=alt.Y("images:Q", title="images"),
            tooltip=["class", "images"],
        )
        .properties(height=220)
    )
    return _altair_style(chart)


def confusion_matrix_chart(
    counts: np.ndarray, class_names: Sequence[str], normalise: bool = False, palette: Palette = DEFAULT_PALETTE
) -> alt.Chart:
    """Heatmap of true class (rows) against predicted class (columns), counts or row shares."""
    counts = np.asarray(counts, dtype=float)
    values = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) if normalise else counts
    names = list(class_names)
    frame = pd.DataFrame(
        [
            {"true": names[i], "predicted": names[j], "value": values[i, j], "count": int(counts[i, j])}
            for i in range(len(names))
            for j in range(len(names))
        ]
    )
    base = alt.Chart(frame).encode(
        x=alt.X("predicted:N", sort=names, title="predicted"),
        y=alt.Y("true:N", sort=names, title="true"),
    )
    label_format = ".0%" if normalise else "d"
    heat = base.mark_rect().encode(
        color=alt.Color("value:Q", scale=alt.Scale(range=list(palette.ramp)), legend=None),
        tooltip=["true", "predicted", "count", alt.Tooltip("value:Q", format=".3f")],
    )
    text = base.mark_text(fontSize=11).encode(
        text=alt.Text("value:Q", format=label_format),
        color=alt.condition(
            alt.datum.value > values.max() / 2, alt.value(palette.ramp_text[1]), alt.value(palette.ramp_text[0])
        ),
    )
    return _altair_style((heat + text).properties(height=360))


def per_class_heat_strip(
    per_class: Sequence[np.ndarray], class_names: Sequence[str], title: str = "F1", palette: Palette = DEFAULT_PALETTE
) -> alt.Chart:
    """Classes × epochs coloured by a per-class score: which digits are learned when."""
    frame = pd.DataFrame(
        [
            {"epoch": epoch, "class": name, title: float(scores[k])}
            for epoch, scores in enumerate(per_class, start=1)
            for k, name in enumerate(class_names)
        ]
    )
    chart = (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X("epoch:O"),
            y=alt.Y("class:N", sort=list(class_names)),
            color=alt.Color(f"{title}:Q", scale=alt.Scale(range=list(palette.ramp), domain=[0, 1])),
            tooltip=["epoch", "class", alt.Tooltip(f"{title}:Q", format=".3f")],
        )
        .properties(height=260)
    )
    return _altair_style(chart)


def comparison_bars(
    table: pd.DataFrame, value: str, label: str = "model", palette: Palette = DEFAULT_PALETTE
) -> alt.Chart:
    """One bar per model for one measure, in the models' run colours, each bar with its value at its end.

    A fixed step per bar (not a fixed chart height) keeps every bar as tall as its name, so names never overlap.
    """
    models = list(table[label])
    base = alt.Chart(table).encode(
        y=alt.Y(f"{label}:N", title=None, sort=models, axis=alt.Axis(labelLimit=0, labelPadding=8, ticks=False)),
        tooltip=[label, alt.Tooltip(f"{value}:Q", format=".4f")],
    )
    scale = alt.Scale(domain=models, range=[run_colour(i, palette) for i in range(len(models))])
    bars = base.mark_bar(height={"band": 0.7}).encode(
        x=alt.X(
            f"{value}:Q",
            scale=alt.Scale(domain=[0, 1.1], nice=False),
            axis=alt.Axis(format=".0%", values=[0, 0.25, 0.5, 0.75, 1]),
        ),
        color=alt.Color(f"{label}:N", scale=scale, legend=None),
    )
    # The value just past the bar's end, in the bar's colour (the axis runs to 110% to leave it room).
    values = base.mark_text(align="left", dx=6, fontWeight="bold").encode(
        x=alt.X(f"{value}:Q"),
        text=alt.Text(f"{value}:Q", format=".1%"),
        color=alt.Color(f"{label}:N", scale=scale, legend=None),
    )
    return _altair_style((bars + values).properties(height=alt.Step(44)))


# --- Pictures and probabilities for the Evaluate page ----------------------------------------------


def digit_picture(image: np.ndarray, side: int = 112) -> np.ndarray:
    """A [0, 1] greyscale image enlarged to about `side` pixels with square pixels (no blur), as uint8."""
    image = np.nan_to_num(np.asarray(image, dtype=np.float32))
    factor = max(1, round(side / max(image.shape)))
    enlarged = np.kron(np.clip(image, 0.0, 1.0), np.ones((factor, factor), dtype=np.float32))
    return (enlarged * 255).round().astype(np.uint8)


# Screen pixels across one tile of weights or activations: big enough to see a unit's pattern from a seat.
TILE_SIDE = 72


def tile_cell(tiles: np.ndarray, side: int = TILE_SIDE) -> int:
    """Screen pixels per tile pixel (tile_grid_picture's cell) for tiles about `side` pixels wide."""
    return max(2, round(side / max(np.shape(tiles)[1:])))


def tile_grid_picture(
    tiles: np.ndarray,
    columns: int | None = None,
    diverging: bool = True,
    per_tile: bool = True,
    cell: int = 4,
    palette: Palette = DEFAULT_PALETTE,
) -> np.ndarray:
    """Tiles side by side as one RGB picture, each pixel drawn `cell` screen pixels wide.

    diverging: weights, blue for positive and orange for negative, the palette's blank for zero. Otherwise
    activations, blank (zero) to blue (strongest). per_tile scales each tile by its own largest
    magnitude (to see each unit's pattern); otherwise one scale for all (to compare tiles).
    """
    from core.results.inspection import tile_mosaic

    tiles = np.asarray(tiles, dtype=np.float32)
    magnitude = np.abs(tiles)
    if per_tile:
        peak = np.nanmax(magnitude.reshape(len(tiles), -1), axis=1, initial=0.0)[:, None, None]
    else:
        peak = np.nanmax(magnitude, initial=0.0)
    scaled = tiles / np.maximum(peak, 1e-12)
    mosaic = tile_mosaic(scaled, columns)
    picture = _colour(mosaic, diverging, palette)
    return np.kron(picture, np.ones((cell, cell, 1), dtype=np.uint8))


def _colour(values: np.ndarray, diverging: bool, palette: Palette) -> np.ndarray:
    """Values in [-1, 1] (NaN for gaps) to RGB uint8: the palette's blank at zero, toward a palette colour at ±1."""
    blank = np.array(_rgb(palette.blank), dtype=np.float32)
    positive = np.array(_rgb(palette.series[0]), dtype=np.float32)
    negative = np.array(_rgb(palette.series[1]), dtype=np.float32)
    strength = np.clip(np.abs(np.nan_to_num(values)), 0.0, 1.0)[..., None]
    target = np.where((np.nan_to_num(values) < 0)[..., None] & diverging, negative, positive)
    picture = blank + (target - blank) * strength
    picture[np.isnan(values)] = _rgb(palette.gap)
    return picture.round().astype(np.uint8)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))


def probability_bars(
    probabilities: dict[str, np.ndarray], class_names: Sequence[str], palette: Palette = DEFAULT_PALETTE
) -> alt.Chart:
    """One bar per class for each model (grouped, in the run colours): how sure each model is, class by class."""
    names = list(class_names)
    frame = pd.DataFrame(
        [
            {"model": model, "class": names[k], "probability": float(values[k])}
            for model, values in probabilities.items()
            for k in range(len(names))
        ]
    )
    models = list(probabilities)
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("class:N", sort=names, title=None, axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("model:N", sort=models),
            y=alt.Y("probability:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format=".0%")),
            color=alt.Color(
                "model:N",
                sort=models,
                scale=alt.Scale(domain=models, range=[run_colour(i, palette) for i in range(len(models))]),
                legend=alt.Legend(orient="top", title=None),
            ),
            tooltip=["model", "class", alt.Tooltip("probability:Q", format=".1%")],
        )
        .properties(height=220)
    )
    return _altair_style(chart)


# --- Lesson: annotations on the curves, a room-sized look, sample images ----------------------

# Which series colour marks each kind of lesson annotation (the first, the run's own, is left to the curves).
LESSON_MARK_COLOURS = {"diminishing_returns": 1, "plateau": 4, "best_epoch": 2, "overfitting": 3}
LESSON_LEGEND = "lesson"  # the legend group of the lesson's marks


def annotate_lesson(
    figure: go.Figure, annotations: Sequence, metric: str | None = None, palette: Palette = DEFAULT_PALETTE
) -> go.Figure:
    """Mark the lesson's annotations (core.results.lesson.Annotation) on a training_curves figure of `metric`.

    A point annotation gets a ringed marker; a span (overfitting) a shaded band to the last epoch. Their
    words are listed in the legend beside the chart, each with its mark, so no label is clipped at the
    plot's edge or covers another. Only annotations on this metric's training or validation series are drawn.
    """
    for annotation in annotations:
        if metric is not None and annotation.metric.removeprefix("val_") != metric:
            continue
        colour = palette.series[LESSON_MARK_COLOURS.get(annotation.kind, 0)]
        if annotation.end_epoch is not None:
            figure.add_vrect(
                x0=annotation.epoch - 0.5,
                x1=annotation.end_epoch + 0.25,
                fillcolor=colour,
                opacity=0.12,
                line_width=0,
                name=annotation.label,
                showlegend=True,
                legendgroup=LESSON_LEGEND,
            )
            continue
        figure.add_trace(
            go.Scatter(
                x=[annotation.epoch],
                y=[annotation.value],
                mode="markers",
                marker={"size": 18, "color": TRANSPARENT, "line": {"color": colour, "width": 3}},
                name=annotation.label,
                legendgroup=LESSON_LEGEND,
                hovertemplate=f"{annotation.label}<extra></extra>",
            )
        )
    return figure


def presenter_style(figure: go.Figure, scale: float = 1.6) -> go.Figure:
    """Fonts, lines and markers large enough to read from the back of a room."""
    base = 14 * scale
    figure.update_layout(font={"size": base}, title={"font": {"size": base * 1.3}}, legend={"font": {"size": base}})
    figure.update_traces(selector={"mode": "lines+markers"}, line={"width": 2.5 * scale}, marker={"size": 7 * scale})
    figure.update_traces(selector={"mode": "markers+text"}, textfont={"size": base})
    figure.update_xaxes(title_font={"size": base}, tickfont={"size": base * 0.9})
    figure.update_yaxes(tickfont={"size": base * 0.9})
    for annotation in figure.layout.annotations:
        annotation.font.size = base
    _stack_rate_labels(figure)  # larger letters need more room apart
    return figure


def image_grid(images: np.ndarray, titles: Sequence[str], columns: int = 5, row_height: int = 170) -> go.Figure:
    """Greyscale images side by side with a title each, one screen pixel block per image pixel (no blur)."""
    images = np.asarray(images, dtype=float)
    rows = -(-len(images) // columns)
    figure = make_subplots(rows=rows, cols=columns, subplot_titles=list(titles), horizontal_spacing=0.02)
    for index, image in enumerate(images):
        figure.add_trace(
            go.Heatmap(z=image, colorscale="gray_r", zmin=0, zmax=1, showscale=False, hoverinfo="z"),
            row=index // columns + 1,
            col=index % columns + 1,
        )
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    figure.update_layout(
        height=row_height * rows,
        margin={"l": 0, "r": 0, "t": 30, "b": 0},
        font={"family": FONT},
        paper_bgcolor=TRANSPARENT,
        plot_bgcolor=TRANSPARENT,
    )
    return figure


# --- races: several variants of one setting ----------------------------------------------------


def race_curves(
    snapshots: Sequence[RunSnapshot],
    metric: str,
    x_axis: str = "epoch",
    height: int = 360,
    palette: Palette = DEFAULT_PALETTE,
) -> go.Figure:
    """A race's variants overlaid: one colour per variant, training solid, validation dashed.

    On x_axis="seconds" each variant is drawn against its own training time (not the race's wall
    clock, which also counts its rivals' turns; the one-off compile left out, see
    core.results.race.training_seconds), so a faster variant's curve ends further left.
    """
    if x_axis == "seconds":
        snapshots = [
            dataclasses.replace(
                snap,
                epochs=tuple(
                    {**row, "seconds": seconds}
                    for row, seconds in zip(snap.epochs, training_seconds(snap), strict=True)
                ),
            )
            for snap in snapshots
        ]
    figure = training_curves(
        snapshots, metric, x_axis=x_axis, show_batches=x_axis == "epoch", height=height, palette=palette
    )
    if x_axis == "seconds":
        figure.update_xaxes(title="seconds of its own training (compile left out)")
    return figure


def race_parallel_coordinates(
    snapshots: Sequence[RunSnapshot], height: int = 360, palette: Palette = DEFAULT_PALETTE
) -> go.Figure:
    """HParams-style view of finished runs: each line a run, from the settings that differ to its scores.

    Settings (any a race can vary, shown only where the runs differ) are axes of their distinct
    values; then test accuracy, best validation accuracy and fit seconds. Lines are coloured by test
    accuracy.
    """
    scored = [snap for snap in snapshots if snap.test_metrics.get("accuracy") is not None]
    dimensions = []
    for setting in SETTINGS.values():
        values = [setting.read(snap.config) for snap in scored]
        distinct = sorted(set(values), key=lambda v: (isinstance(v, str), v))
        if len(distinct) < 2:
            continue
        dimensions.append(
            {
                "label": setting.title,
                "values": [distinct.index(v) for v in values],
                "tickvals": list(range(len(distinct))),
                "ticktext": [setting.show(v) for v in distinct],
            }
        )
    best_validation = [max((r.get("val_accuracy") or 0.0 for r in snap.epochs), default=0.0) for snap in scored]
    # Ticks rounded as people read them: 97.2%, not 0.972222.
    for label, values, tickformat in (
        ("test accuracy", [snap.test_metrics["accuracy"] for snap in scored], ".1%"),
        ("best validation accuracy", best_validation, ".1%"),
        ("fit seconds", [own_seconds(snap)[-1] if snap.epochs else 0.0 for snap in scored], ".1f"),
    ):
        dimensions.append({"label": label, "values": values, "tickformat": tickformat})
    accuracy = [snap.test_metrics["accuracy"] for snap in scored]
    figure = go.Figure(
        go.Parcoords(
            line={
                "color": accuracy,
                "colorscale": [[0.0, palette.ramp[0]], [1.0, palette.ramp[1]]],
                "showscale": True,
                "colorbar": {"tickformat": ".1%"},
            },
            dimensions=dimensions,
            labelfont={"size": 13},
        )
    )
    figure.update_layout(
        height=height,
        margin={"l": 60, "r": 60, "t": 50, "b": 20},
        font={"family": FONT},  # no colour and no background: the page's light or dark theme gives both
        paper_bgcolor=TRANSPARENT,
        plot_bgcolor=TRANSPARENT,
    )
    return figure


# --- Why a digit was read as it was, and the hidden layer's map ------------------------------------

HOVER_ART_SIDE = 14  # the hover's picture of a digit: at most this many characters a side
HOVER_ART_LEVELS = " .:-=+*#%@"  # faint to full ink


def saliency_picture(
    image: np.ndarray,
    heat: np.ndarray,
    diverging: bool = True,
    side: int = 112,
    palette: Palette = DEFAULT_PALETTE,
) -> np.ndarray:
    """A heat map over a digit, as RGB uint8: the digit in grey under blue (raises the score) and orange (lowers it).

    diverging=False draws a map that is never negative (Grad-CAM) in blue only. Each map is scaled by
    its own largest magnitude: the picture shows where, not how much.
    """
    heat = np.nan_to_num(np.asarray(heat, dtype=np.float32))
    scaled = heat / max(float(np.abs(heat).max()), 1e-12)
    colour = _colour(scaled, diverging, palette).astype(np.float32)
    # The digit shows through as a shadow toward the palette's text colour (dark on a light page, light on a
    # dark one), stronger where there is more ink.
    ink = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)[..., None]
    shadow = np.array(_rgb(palette.ink), dtype=np.float32)
    picture = colour + (shadow - colour) * 0.35 * ink
    factor = max(1, round(side / max(heat.shape)))
    return np.kron(picture.round().astype(np.uint8), np.ones((factor, factor, 1), dtype=np.uint8))


def hover_art(image: np.ndarray, side: int = HOVER_ART_SIDE) -> str:
    """A digit as lines of characters, darker characters for more ink, for a chart's hover label."""
    image = np.clip(np.nan_to_num(np.asarray(image, dtype=np.float32)), 0.0, 1.0)
    factor = max(1, -(-max(image.shape) // side))
    height, width = (image.shape[0] // factor) * factor, (image.shape[1] // factor) * factor
    small = image[:height, :width].reshape(height // factor, factor, width // factor, factor).mean(axis=(1, 3))
    levels = np.minimum((small * len(HOVER_ART_LEVELS)).astype(int), len(HOVER_ART_LEVELS) - 1)
    # Characters are about twice as tall as wide: each pixel is two characters, so the digit keeps its shape.
    return "<br>".join("".join(HOVER_ART_LEVELS[level] * 2 for level in row) for row in levels)


def hidden_map_figure(
    points: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    separation: Sequence[float],
    predictions: np.ndarray | None = None,
    images: np.ndarray | None = None,
    height: int = 520,
    palette: Palette = DEFAULT_PALETTE,
) -> go.Figure:
    """The hidden layer's 2-D map, one frame per epoch, with an epoch slider and a play button.

    points (epochs, images, 2) from one projection; labels colour the points (one trace per true class,
    each with its own colour and marker); predictions (epochs, images), when known, mark each epoch's
    mistakes with a cross; images, when given, are drawn in characters in each point's hover label.
    It opens on the latest epoch.
    """
    points = np.asarray(points, dtype=np.float32)
    labels = np.asarray(labels)
    names = list(class_names)
    epochs = len(points)
    classes = [k for k in range(len(names)) if (labels == k).any()]

    def traces(epoch: int) -> list[go.Scatter]:
        read = predictions[epoch] if predictions is not None else None
        return _hidden_map_traces(points[epoch], labels, classes, read, names, palette)

    def title(epoch: int) -> str:
        return f"After epoch {epoch + 1} of {epochs} · separation {separation[epoch]:.2f}"

    figure = go.Figure(data=traces(epochs - 1))
    art = [hover_art(image) for image in images] if images is not None else None
    _style_class_traces(figure, labels, classes, names, art, palette)
    figure.frames = [go.Frame(data=traces(e), name=str(e + 1), layout={"title.text": title(e)}) for e in range(epochs)]
    _add_epoch_player(figure, epochs)
    _style(figure, title(epochs - 1), "", height)
    # One scale for every frame, so a point's move is the network's change, not the axes'.
    low, high = points.reshape(-1, 2).min(axis=0), points.reshape(-1, 2).max(axis=0)
    margin = (high - low) * 0.05 + 1e-6
    figure.update_xaxes(range=[low[0] - margin[0], high[0] + margin[0]], showticklabels=False, title="")
    figure.update_yaxes(range=[low[1] - margin[1], high[1] + margin[1]], showticklabels=False)
    figure.update_layout(
        hovermode="closest",
        legend={"orientation": "v", "yref": "paper", "yanchor": "top", "y": 1, "x": 1.02, "title": "true class"},
    )
    return figure


def _hidden_map_traces(
    points: np.ndarray,
    labels: np.ndarray,
    classes: Sequence[int],
    read: np.ndarray | None,
    names: Sequence[str],
    palette: Palette,
) -> list[go.Scatter]:
    """One epoch's points, a trace per true class: its marker where read right, a cross where read wrong."""
    shown = []
    for k in classes:
        chosen = np.flatnonzero(labels == k)
        read_as = read[chosen] if read is not None else np.full(len(chosen), k)
        _, symbol = palette.class_look(k)
        shown.append(
            go.Scatter(
                x=points[chosen, 0],
                y=points[chosen, 1],
                marker={"symbol": np.where(read_as == k, symbol, "x").tolist()},
                customdata=[[int(i), names[int(r)]] for i, r in zip(chosen, read_as, strict=True)],
            )
        )
    return shown


def _style_class_traces(
    figure: go.Figure,
    labels: np.ndarray,
    classes: Sequence[int],
    names: Sequence[str],
    art: Sequence[str] | None,
    palette: Palette,
) -> None:
    """Each class's colour, marker, legend name and hover label (the frames change only positions and marks)."""
    for trace, k in zip(figure.data, classes, strict=True):
        colour, symbol = palette.class_look(k)
        trace.update(
            name=names[k],
            mode="markers",
            marker={"color": colour, "symbol": symbol, "size": 8, "opacity": 0.85, "line": {"width": 0}},
            text=[art[i] for i in np.flatnonzero(labels == k)] if art is not None else None,
            hovertemplate=f"<b>{names[k]}</b>, read as %{{customdata[1]}} (sample #%{{customdata[0]}})"
            + ("<br>%{text}" if art is not None else "")
            + "<extra></extra>",
            hoverlabel={"font": {"family": "monospace", "size": 11, "color": palette.ink}, "bgcolor": palette.blank},
        )


def _add_epoch_player(figure: go.Figure, epochs: int) -> None:
    """An epoch slider and play and pause buttons that step through the figure's frames."""
    animate = {"mode": "immediate", "frame": {"duration": 0, "redraw": False}, "transition": {"duration": 300}}
    play = {"frame": {"duration": 800, "redraw": False}, "transition": {"duration": 500}, "fromcurrent": False}
    steps = [{"label": str(e + 1), "method": "animate", "args": [[str(e + 1)], animate]} for e in range(epochs)]
    figure.update_layout(
        sliders=[{"active": epochs - 1, "currentvalue": {"prefix": "epoch "}, "pad": {"t": 30}, "steps": steps}],
        updatemenus=[
            {
                "type": "buttons",
                "bgcolor": TRANSPARENT,  # the page's own colour under the buttons, light or dark
                "active": -1,  # no button lit up (a lit one is near-white on a dark page)
                "bordercolor": GRID,
                "direction": "left",
                "x": 0,
                "y": 0,
                "xanchor": "right",
                "yanchor": "top",
                "pad": {"t": 45, "r": 10},
                "buttons": [
                    {"label": "▶ Play", "method": "animate", "args": [None, play]},
                    {"label": "❚❚", "method": "animate", "args": [[None], animate]},
                ],
            }
        ],
    )


# Up to this many epochs the separation curve labels each one.
EPOCH_TICKS_EACH = 20


def separation_curve(separation: Sequence[float], height: int = 220, palette: Palette = DEFAULT_PALETTE) -> go.Figure:
    """The separation score of the true classes, epoch by epoch."""
    epochs = list(range(1, len(separation) + 1))
    figure = go.Figure(
        go.Scatter(
            x=epochs,
            y=list(separation),
            mode="lines+markers",
            line={"color": run_colour(2, palette), "width": 2.5},
            marker={"size": 7},
            name="separation",
            hovertemplate="epoch %{x}: separation %{y:.3f}<extra></extra>",
        )
    )
    _style(figure, "Separation of the classes (silhouette)", "epoch", height)
    # A tick per epoch while they fit; beyond that Plotly's own spacing (100 ticks overlapped into a smear).
    if len(epochs) <= EPOCH_TICKS_EACH:
        figure.update_xaxes(dtick=1, tick0=1)
    figure.update_xaxes(tickformat="d", rangemode="nonnegative")
    return figure


def explanation_panels(explanation, palette: Palette = DEFAULT_PALETTE) -> list[tuple[str, np.ndarray]]:
    """(title, RGB picture) of each view of a saliency.Explanation: digit, gradient, gradient × input, Grad-CAM."""
    digit = np.repeat(digit_picture(explanation.image, side=168)[..., None], 3, axis=2)
    panels = [
        ("the digit", digit),
        ("gradient", saliency_picture(explanation.image, explanation.gradient, side=168, palette=palette)),
        (
            "gradient × input",
            saliency_picture(explanation.image, explanation.gradient_x_input, side=168, palette=palette),
        ),
    ]
    if explanation.grad_cam is not None:
        grad_cam = saliency_picture(explanation.image, explanation.grad_cam, diverging=False, side=168, palette=palette)
        panels.append((f"Grad-CAM ({explanation.grad_cam_layer})", grad_cam))
    return panels


def explanation_sheet(explanation, class_names: Sequence[str], caption: str):
    """One picture of a digit, its saliency maps side by side, and a line of text (its prediction), as a PIL image."""
    from PIL import Image, ImageDraw, ImageFont

    panels = explanation_panels(explanation)
    side, gap, top, bottom = panels[0][1].shape[0], 12, 28, 44
    sheet = Image.new("RGB", (len(panels) * (side + gap) + gap, top + side + bottom), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=14)
    ink = _rgb(INK)
    for index, (title, picture) in enumerate(panels):
        left = gap + index * (side + gap)
        sheet.paste(Image.fromarray(picture), (left, top))
        draw.text((left, 6), title, fill=ink, font=font)
    draw.text((gap, top + side + 14), caption, fill=ink, font=font)
    return sheet
