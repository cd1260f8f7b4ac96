"""Charts as pure functions: Plotly for the live training curves, Altair for the static views.

Both share one palette and one font, so a page reads as one piece.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.training.run import RunSnapshot

# One colour per run (Keras first, the baseline second, then runs in the order compared).
PALETTE = ("#4C5FD5", "#E8743B", "#19A979", "#ED4A7B", "#945ECF", "#13A4B4", "#525DF4", "#BF399E")
INK = "#262730"
GRID = "#E6E9EF"
FONT = "Source Sans Pro, sans-serif"
SEQUENTIAL = "blues"

METRIC_TITLES = {
    "loss": "Loss",
    "accuracy": "Accuracy",
    "precision": "Precision (macro)",
    "recall": "Recall (macro)",
    "f1": "F1 (macro)",
}


def run_colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def epoch_table(snapshot: RunSnapshot) -> pd.DataFrame:
    """The epoch rows as Keras's verbose output prints them, with each metric's gain over the last epoch."""
    frame = pd.DataFrame([dict(row) for row in snapshot.epochs])
    if frame.empty:
        return frame
    frame = frame.set_index("epoch")
    columns = [c for c in frame.columns if c not in ("seconds", "learning_rate")]
    table = frame[columns].copy()
    for metric in ("accuracy", "val_accuracy"):
        if metric in table:
            table[f"{metric} gain"] = table[metric].diff()
    table["seconds"] = frame["seconds"].diff().fillna(frame["seconds"])
    return table


def training_curves(
    snapshots: Sequence[RunSnapshot],
    metric: str,
    x_axis: str = "epoch",
    show_batches: bool = True,
    height: int = 320,
) -> go.Figure:
    """One metric for one or more runs: training solid, validation dashed, one colour per run.

    x_axis is "epoch" (batch points placed at fractional epochs) or "seconds" (wall clock). Batch
    points are the running average within the epoch that Keras reports; they show learning inside
    an epoch long before the epoch ends.
    """
    figure = go.Figure()
    for index, snap in enumerate(snapshots):
        colour = run_colour(index)
        name = snap.label if len(snapshots) > 1 else ""
        if show_batches:
            _add_batch_trace(figure, snap, metric, x_axis, colour, name)
        for split, key, dash in (("training", metric, "solid"), ("validation", f"val_{metric}", "dash")):
            points = [(_x(row, x_axis), row.get(key)) for row in snap.epochs if row.get(key) is not None]
            if not points:
                continue
            xs, ys = zip(*points, strict=True)
            figure.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="lines+markers",
                    name=f"{name} {split}".strip(),
                    line={"color": colour, "dash": dash, "width": 2.5},
                    marker={"size": 7},
                    hovertemplate=f"{split} {metric}: %{{y:.4f}}<extra>%{{x}}</extra>",
                )
            )
        if x_axis == "epoch":
            for change in snap.learning_rate_changes:
                figure.add_vline(
                    x=change["progress"],
                    line={"color": colour, "dash": "dot", "width": 1},
                    annotation_text=f"lr {change['learning_rate']:g}",
                    annotation_font_size=11,
                )
    _style(figure, METRIC_TITLES.get(metric, metric), "epoch" if x_axis == "epoch" else "seconds", height)
    if metric == "loss":
        figure.update_yaxes(rangemode="tozero")
    return figure


def point_count(figure: go.Figure) -> int:
    """How many points a figure draws (tests and the e2e check that charts grow)."""
    return sum(len(trace.x or ()) for trace in figure.data)


def _x(row: dict, x_axis: str) -> float:
    return row["seconds"] if x_axis == "seconds" else row["epoch"]


def _add_batch_trace(figure: go.Figure, snap: RunSnapshot, metric: str, x_axis: str, colour: str, name: str):
    points = [(p["seconds"] if x_axis == "seconds" else p["progress"], p.get(metric)) for p in snap.batches]
    points = [(x, y) for x, y in points if y is not None]
    if not points:
        return
    xs, ys = zip(*points, strict=True)
    figure.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines",
            name=f"{name} training (within epoch)".strip(),
            line={"color": colour, "width": 1},
            opacity=0.35,
            hovertemplate=f"running {metric}: %{{y:.4f}}<extra>%{{x:.2f}}</extra>",
        )
    )


def _style(figure: go.Figure, title: str, x_title: str, height: int) -> None:
    figure.update_layout(
        title={"text": title, "font": {"size": 16, "color": INK}},
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        font={"family": FONT, "color": INK},
        paper_bgcolor="white",
        plot_bgcolor="white",
        legend={"orientation": "h", "y": -0.2},
        hovermode="x unified",
    )
    figure.update_xaxes(title=x_title, gridcolor=GRID, zeroline=False)
    figure.update_yaxes(gridcolor=GRID, zeroline=False)


# --- Altair: static statistical views --------------------------------------------------------


def _altair_style(chart: alt.Chart) -> alt.Chart:
    return (
        chart.configure(font=FONT)
        .configure_axis(labelColor=INK, titleColor=INK, gridColor=GRID)
        .configure_view(strokeWidth=0)
    )


def class_balance_chart(labels: np.ndarray, class_names: Sequence[str]) -> alt.Chart:
    """How many images of each class: a balanced dataset has bars of equal height."""
    counts = np.bincount(labels, minlength=len(class_names))
    frame = pd.DataFrame({"class": list(class_names), "images": counts})
    chart = (
        alt.Chart(frame)
        .mark_bar(color=PALETTE[0])
        .encode(
            x=alt.X("class:N", sort=list(class_names), title=None),
            y=alt.Y("images:Q", title="images"),
            tooltip=["class", "images"],
        )
        .properties(height=220)
    )
    return _altair_style(chart)


def confusion_matrix_chart(counts: np.ndarray, class_names: Sequence[str], normalise: bool = False) -> alt.Chart:
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
        color=alt.Color("value:Q", scale=alt.Scale(scheme=SEQUENTIAL), legend=None),
        tooltip=["true", "predicted", "count", alt.Tooltip("value:Q", format=".3f")],
    )
    text = base.mark_text(fontSize=11).encode(
        text=alt.Text("value:Q", format=label_format),
        color=alt.condition(alt.datum.value > values.max() / 2, alt.value("white"), alt.value(INK)),
    )
    return _altair_style((heat + text).properties(height=360))


def per_class_heat_strip(per_class: Sequence[np.ndarray], class_names: Sequence[str], title: str = "F1") -> alt.Chart:
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
            color=alt.Color(f"{title}:Q", scale=alt.Scale(scheme=SEQUENTIAL, domain=[0, 1])),
            tooltip=["epoch", "class", alt.Tooltip(f"{title}:Q", format=".3f")],
        )
        .properties(height=260)
    )
    return _altair_style(chart)


def comparison_bars(table: pd.DataFrame, value: str, label: str = "model") -> alt.Chart:
    """One bar per model for one measure, in the models' run colours."""
    chart = (
        alt.Chart(table)
        .mark_bar()
        .encode(
            x=alt.X(f"{value}:Q"),
            y=alt.Y(f"{label}:N", title=None, sort=list(table[label])),
            color=alt.Color(f"{label}:N", scale=alt.Scale(range=list(PALETTE)), legend=None),
            tooltip=[label, alt.Tooltip(f"{value}:Q", format=".4f")],
        )
        .properties(height=40 * len(table) + 20)
    )
    return _altair_style(chart)


# --- Pictures and probabilities for the Evaluate page ----------------------------------------------


def digit_picture(image: np.ndarray, side: int = 112) -> np.ndarray:
    """A [0, 1] greyscale image enlarged to about `side` pixels with square pixels (no blur), as uint8."""
    image = np.nan_to_num(np.asarray(image, dtype=np.float32))
    factor = max(1, round(side / max(image.shape)))
    enlarged = np.kron(np.clip(image, 0.0, 1.0), np.ones((factor, factor), dtype=np.float32))
    return (enlarged * 255).round().astype(np.uint8)


def tile_grid_picture(
    tiles: np.ndarray, columns: int | None = None, diverging: bool = True, per_tile: bool = True, cell: int = 4
) -> np.ndarray:
    """Tiles side by side as one RGB picture, each pixel drawn `cell` screen pixels wide.

    diverging: weights, blue for positive and orange for negative, white for zero. Otherwise
    activations, white (zero) to dark blue (strongest). per_tile scales each tile by its own largest
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
    picture = _colour(mosaic, diverging)
    return np.kron(picture, np.ones((cell, cell, 1), dtype=np.uint8))


def _colour(values: np.ndarray, diverging: bool) -> np.ndarray:
    """Values in [-1, 1] (NaN for gaps) to RGB uint8: white at zero, toward a palette colour at ±1."""
    white = np.array([255, 255, 255], dtype=np.float32)
    positive = np.array(_rgb(PALETTE[0]), dtype=np.float32)
    negative = np.array(_rgb(PALETTE[1]), dtype=np.float32)
    strength = np.clip(np.abs(np.nan_to_num(values)), 0.0, 1.0)[..., None]
    target = np.where((np.nan_to_num(values) < 0)[..., None] & diverging, negative, positive)
    picture = white + (target - white) * strength
    picture[np.isnan(values)] = _rgb(GRID)
    return picture.round().astype(np.uint8)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))


def probability_bars(probabilities: dict[str, np.ndarray], class_names: Sequence[str]) -> alt.Chart:
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
                scale=alt.Scale(domain=models, range=list(PALETTE[: len(models)])),
                legend=alt.Legend(orient="top", title=None),
            ),
            tooltip=["model", "class", alt.Tooltip("probability:Q", format=".1%")],
        )
        .properties(height=220)
    )
    return _altair_style(chart)


# --- Lesson: annotations on the curves, a room-sized look, sample images ----------------------

LESSON_MARK_COLOURS = {
    "diminishing_returns": PALETTE[1],
    "plateau": PALETTE[4],
    "best_epoch": PALETTE[2],
    "overfitting": PALETTE[3],
}


def annotate_lesson(figure: go.Figure, annotations: Sequence, metric: str | None = None) -> go.Figure:
    """Mark the lesson's annotations (core.results.lesson.Annotation) on a training_curves figure of `metric`.

    A point annotation gets a ringed marker with its label; a span (overfitting) a shaded band to the
    last epoch. Only annotations on this metric's training or validation series are drawn.
    """
    for annotation in annotations:
        if metric is not None and annotation.metric.removeprefix("val_") != metric:
            continue
        colour = LESSON_MARK_COLOURS.get(annotation.kind, INK)
        if annotation.end_epoch is not None:
            figure.add_vrect(
                x0=annotation.epoch - 0.5,
                x1=annotation.end_epoch + 0.25,
                fillcolor=colour,
                opacity=0.12,
                line_width=0,
                annotation_text=annotation.label,
                annotation_position="top left",
                annotation_font_color=colour,
            )
            continue
        figure.add_trace(
            go.Scatter(
                x=[annotation.epoch],
                y=[annotation.value],
                mode="markers+text",
                marker={"size": 18, "color": "rgba(0,0,0,0)", "line": {"color": colour, "width": 3}},
                text=[annotation.label],
                # Text to the left of the marker: the marks sit late in the run, near the right edge.
                textposition="bottom left" if annotation.epoch > 1 else "bottom right",
                textfont={"color": colour},
                name=annotation.label,
                showlegend=False,
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
        font={"family": FONT, "color": INK},
        paper_bgcolor="white",
        plot_bgcolor="white",
    )
    return figure
