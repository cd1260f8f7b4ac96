"""Every chart draws in the palette it is given and keeps a clear background, so it reads in light and dark themes."""

import ast
import inspect
import itertools
import json
import re
from pathlib import Path

import altair as alt
import numpy as np
import plotly.graph_objects as go
import pytest

from core import charts
from core.config import TrainingConfig
from core.palette import DARK, PALETTES, Palette, on_dark
from core.results.lesson import Annotation
from core.training.run import FINISHED, TrainingRun

OKABE_ITO = PALETTES["okabe_ito"]
STANDARD = PALETTES["standard"]
EVERY_LOOK = [OKABE_ITO, STANDARD, on_dark(OKABE_ITO), on_dark(STANDARD)]
# Pictures of digits are grey by nature; presenter_style only enlarges what another function coloured.
GREY_OR_STYLE_ONLY = {"digit_picture", "image_grid", "presenter_style"}
HEX = re.compile(r"#[0-9A-Fa-f]{6}\b")


def snapshot(label: str, metrics=("accuracy",)):
    run = TrainingRun(TrainingConfig(dataset="digits", epochs=3, metrics=metrics, validation_split=0.1), label=label)
    run.mark_running(3, 4)
    for epoch in range(1, 4):
        run.record_batch(epoch, 2, {"loss": 1.0 / epoch, "accuracy": 0.5 + 0.1 * epoch})
        run.record_epoch(epoch, {"loss": 1 / epoch, "accuracy": 0.6 + 0.1 * epoch, "val_loss": 1.1 / epoch})
    run.record_learning_rate_change(2, 1, 0.0005)
    run.mark_finished(FINISHED, "Finished.")
    return run.snapshot()


def scored_variants():
    """Three finished variants that differ in their optimizer, each with a test accuracy."""
    snaps = []
    for optimizer, accuracy in (("adam", 0.9), ("sgd", 0.8), ("rmsprop", 0.85)):
        run = TrainingRun(TrainingConfig(dataset="digits", optimizer=optimizer))
        run.record_epoch(1, {"loss": 0.5, "accuracy": accuracy, "val_accuracy": accuracy})
        run.set_test_metrics({"accuracy": accuracy})
        snaps.append(run.snapshot())
    return snaps


def explanation():
    """A saliency explanation of a blank-ish digit, with every map filled (Grad-CAM too)."""
    from types import SimpleNamespace

    heat = np.linspace(-1, 1, 16).reshape(4, 4)
    return SimpleNamespace(image=np.zeros((4, 4)), gradient=heat, gradient_x_input=heat, grad_cam=np.abs(heat),
                           grad_cam_layer="conv")  # fmt: skip


def drawn_by_every_chart_function(palette: Palette) -> dict[str, object]:
    """What each palette-taking chart function draws with `palette` (the table below must cover them all)."""
    names = [str(k) for k in range(10)]
    counts = np.arange(100).reshape(10, 10)
    marks = [
        Annotation("diminishing_returns", 2, "accuracy", 0.8, "gain", "…"),
        Annotation("plateau", 3, "accuracy", 0.9, "plateau", "…"),
        Annotation("best_epoch", 2, "val_loss", 0.5, "best", "…"),
        Annotation("overfitting", 2, "val_loss", 0.5, "over", "…", end_epoch=3),
    ]
    import pandas as pd

    table = pd.DataFrame({"model": ["Keras", "scikit-learn MLP"], "test accuracy": [0.9, 0.8]})
    tiles = np.linspace(-1, 1, 4 * 9).reshape(4, 3, 3)
    return {
        "training_curves": charts.training_curves([snapshot(f"run {i}") for i in range(8)], "loss", palette=palette),
        "class_balance_chart": charts.class_balance_chart(np.arange(100) % 10, names, palette=palette),
        "confusion_matrix_chart": charts.confusion_matrix_chart(counts, names, palette=palette),
        "per_class_heat_strip": charts.per_class_heat_strip([np.linspace(0, 1, 10)] * 3, names, palette=palette),
        "comparison_bars": charts.comparison_bars(table, "test accuracy", palette=palette),
        "tile_grid_picture": charts.tile_grid_picture(tiles, palette=palette, cell=1),
        "probability_bars": charts.probability_bars({"a": np.full(10, 0.1), "b": np.full(10, 0.1)}, names, palette),
        "race_curves": charts.race_curves([snapshot(f"variant {i}") for i in range(3)], "loss", palette=palette),
        "race_parallel_coordinates": charts.race_parallel_coordinates(scored_variants(), palette=palette),
        # No ink under the map: the digit's grey shadow would darken the palette's colours.
        "saliency_picture": charts.saliency_picture(
            np.zeros((4, 4)), np.linspace(-1, 1, 16).reshape(4, 4), palette=palette
        ),
        "hidden_map_figure": charts.hidden_map_figure(
            np.random.default_rng(0).normal(size=(2, 20, 2)), np.arange(20) % 10, names, [0.1, 0.2], palette=palette
        ),
        "separation_curve": charts.separation_curve([0.1, 0.2, 0.3], palette=palette),
        "explanation_panels": charts.explanation_panels(explanation(), palette=palette)[1][1],
        "annotate_lesson": charts.annotate_lesson(
            charts.training_curves([snapshot("one")], "accuracy", palette=palette), marks, palette=palette
        ),
    }


def colours_of(drawn) -> set[str]:
    if isinstance(drawn, np.ndarray):  # an RGB picture: its most saturated pixels are the palette's ends
        pixels = drawn.reshape(-1, 3).astype(int)
        ends = pixels[np.argsort(pixels.max(axis=1) - pixels.min(axis=1))[-1:]]
        corners = {tuple(drawn[0, 0]), tuple(drawn[-1, -1])}
        return {"#{:02X}{:02X}{:02X}".format(*p) for p in [*ends, *corners]}
    if isinstance(drawn, go.Figure):  # the figure's own colours: st.plotly_chart swaps plotly's template for its own
        spec = drawn.to_plotly_json()
        spec["layout"].pop("template", None)
        text = json.dumps(spec, default=str)
    else:
        text = drawn.to_json()
    return {colour.upper() for colour in HEX.findall(text)}


def test_the_table_covers_every_chart_function_that_colours_anything():
    public = {
        name
        for name, function in inspect.getmembers(charts, inspect.isfunction)
        if function.__module__ == charts.__name__ and not name.startswith("_")
    }
    with_palette = {name for name in public if "palette" in inspect.signature(getattr(charts, name)).parameters}
    drawn = set(drawn_by_every_chart_function(STANDARD))
    assert with_palette - {"run_colour"} == drawn
    figures = {name for name in public if inspect.signature(getattr(charts, name)).return_annotation in
               ("go.Figure", "alt.Chart", "np.ndarray")}  # fmt: skip
    assert figures - with_palette == GREY_OR_STYLE_ONLY


@pytest.mark.parametrize("palette", EVERY_LOOK, ids=lambda p: p.key)
def test_every_chart_function_draws_in_the_chosen_palette(palette):
    other = PALETTES["standard" if palette.name == "okabe_ito" else "okabe_ito"]
    own = palette.colours()
    foreign = {c.upper() for c in (*other.series, *other.ramp)} - own
    for name, drawn in drawn_by_every_chart_function(palette).items():
        colours = colours_of(drawn)
        assert colours & own, f"{name} uses none of the {palette.name} colours: {colours}"
        assert not colours & foreign, f"{name} uses another palette's colours: {colours & foreign}"
        assert colours <= own, f"{name} uses colours outside the palette: {colours - own}"


def test_an_overlay_of_eight_runs_gives_each_its_own_colour_blind_safe_colour():
    figure = charts.training_curves(
        [snapshot(f"run {i}") for i in range(8)], "loss", show_batches=False, palette=OKABE_ITO
    )
    colours = [trace.line.color for trace in figure.data if trace.showlegend is not False]
    assert colours == list(OKABE_ITO.series)


def test_no_chart_paints_a_background_of_its_own():
    for name, drawn in drawn_by_every_chart_function(OKABE_ITO).items():
        if isinstance(drawn, go.Figure):
            assert drawn.layout.paper_bgcolor == drawn.layout.plot_bgcolor == charts.TRANSPARENT, name
            assert drawn.layout.font.color is None, f"{name} fixes its text colour: it would vanish on one theme"
        elif isinstance(drawn, alt.TopLevelMixin):
            spec = drawn.to_dict()
            assert spec["config"]["background"] == charts.TRANSPARENT, name
            assert "labelColor" not in spec["config"].get("axis", {}), name
    grid = charts.image_grid(np.zeros((2, 4, 4)), ["a", "b"])
    assert grid.layout.paper_bgcolor == grid.layout.plot_bgcolor == charts.TRANSPARENT


def luminance(colour: str) -> float:
    red, green, blue = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


@pytest.mark.parametrize("palette", EVERY_LOOK, ids=lambda p: p.key)
def test_the_hidden_map_tells_ten_classes_apart_by_colour_and_marker(palette):
    looks = [palette.class_look(k) for k in range(10)]
    assert len(set(looks)) == 10, looks
    assert len({marker for _, marker in looks}) == 10 and "x" not in {marker for _, marker in looks}
    if palette.name == "standard":
        assert len({colour for colour, _ in looks}) == 10
    names = [str(k) for k in range(10)]
    figure = charts.hidden_map_figure(
        np.random.default_rng(0).normal(size=(2, 40, 2)), np.arange(40) % 10, names, [0.1, 0.2], palette=palette
    )
    drawn = [(trace.marker.color, trace.marker.symbol) for trace in figure.data]
    assert drawn == looks


def test_lesson_marks_are_listed_beside_the_chart_not_written_over_it():
    marks = [
        Annotation("diminishing_returns", 3, "accuracy", 0.8, "gain < 1 pt", "…"),
        Annotation("plateau", 3, "accuracy", 0.81, "plateau from here", "…"),
        Annotation("best_epoch", 3, "val_loss", 0.5, "best validation loss", "…"),
        Annotation("overfitting", 2, "val_loss", 0.5, "overfitting from epoch 2", "…", end_epoch=3),
    ]
    for metric in ("accuracy", "loss"):
        figure = charts.annotate_lesson(charts.training_curves([snapshot("one")], metric), marks, metric)
        figure = charts.presenter_style(figure)  # room-sized letters must not bring the overlap back
        assert not any(trace.text for trace in figure.data), "a label written on the plot can clip or overlap"
        assert all(a.name == charts.RATE_LABEL for a in figure.layout.annotations), "only the lr labels are words"
        wanted = {m.label for m in marks if m.metric.removeprefix("val_") == metric}
        lesson = [*figure.data, *figure.layout.shapes]
        assert {item.name for item in lesson if item.legendgroup == charts.LESSON_LEGEND} == wanted
        for trace in figure.data:
            if trace.legendgroup == charts.LESSON_LEGEND:
                assert 1 <= trace.x[0] <= 3  # on the curve, inside the plot


def rate_labels_apart(figure) -> list:
    """The shown learning-rate labels, checked to stay inside the plot and apart at their font size."""
    labels = [a for a in figure.layout.annotations if a.name == charts.RATE_LABEL and a.visible is not False]
    xs = [x for trace in figure.data for x in trace.x]
    low, high = min(xs + [a.x for a in labels]), max(xs + [a.x for a in labels])
    span = high - low

    def extent(label):
        width = len(label.text) * label.font.size * 0.6 / charts.NARROWEST_PLOT_PIXELS * span
        return (label.x, label.x + width) if label.xanchor == "left" else (label.x - width, label.x)

    for label in labels:
        assert label.y == 1 and label.yref == "paper" and label.yanchor == "top"
        assert low - 1e-9 <= extent(label)[0] and extent(label)[1] <= high + span / 2  # written toward the middle
        assert (label.xanchor == "left") == (label.x < low + span / 2)
    for first, second in itertools.combinations(labels, 2):
        (a0, a1), (b0, b1) = extent(first), extent(second)
        assert first.yshift != second.yshift or a1 < b0 or b1 < a0, (first.text, second.text)
    return labels


def test_learning_rate_labels_stay_inside_the_plot_and_apart():
    run = TrainingRun(TrainingConfig(dataset="digits", epochs=10, validation_split=0.1))
    run.mark_running(10, 4)
    for epoch in range(1, 11):
        run.record_epoch(epoch, {"loss": 1 / epoch, "val_loss": 1.1 / epoch})
    for step, rate in enumerate((0.01, 0.005, 0.002, 0.001, 0.0005, 0.0002, 0.0001, 0.00005)):
        run.record_learning_rate_change(1 + step, step % 4, rate)
    figure = charts.training_curves([run.snapshot()], "loss")
    assert len(figure.layout.shapes) == 8  # every change keeps its dotted line
    shown = rate_labels_apart(figure)
    assert shown[0].text == "lr 5e-05"  # the rate in force now is always written
    assert len(rate_labels_apart(charts.presenter_style(figure))) <= len(shown)


def test_altair_charts_on_a_dark_page_have_no_glare():
    counts = np.diag(np.full(10, 50)) + 1
    names = [str(k) for k in range(10)]
    for palette in (on_dark(STANDARD), on_dark(OKABE_ITO)):
        assert palette.theme == DARK
        spec = charts.confusion_matrix_chart(counts, names, palette=palette).to_dict()
        ramp = next(
            layer["encoding"]["color"]["scale"]["range"] for layer in spec["layer"] if layer["mark"]["type"] == "rect"
        )
        assert luminance(ramp[0]) < 0.2, "the empty cells (most of a matrix) would glare on a dark page"
        strip = charts.per_class_heat_strip([np.zeros(10)], names, palette=palette).to_dict()
        assert luminance(strip["encoding"]["color"]["scale"]["range"][0]) < 0.2
        tiles = charts.tile_grid_picture(np.zeros((4, 3, 3)), diverging=False, palette=palette, cell=1)
        assert tiles.mean() < 60, "a blank activation tile is the dark page's colour"


def test_numbers_are_rounded_where_people_read_them():
    [coordinates] = charts.race_parallel_coordinates(scored_variants()).data
    formats = {dimension.label: dimension.tickformat for dimension in coordinates.dimensions}
    assert formats["test accuracy"] == formats["best validation accuracy"] == ".1%"
    assert formats["fit seconds"] == ".1f"
    table = charts.epoch_table(snapshot("one"))
    assert not table.data.isna().any().any(), "st.dataframe shows a blank number as None"
    assert table.data["accuracy gain"].iloc[0] == "—"
    html = table.to_html()
    assert "None" not in html and "nan" not in html and "—" in html  # the first epoch has no gain yet
    assert "+10.0 pt" in html and "80.0%" in html
    board = charts.readable_table([{"who": "Ann", "test accuracy": 0.972222, "fit seconds": 3.14159},
                                   {"who": "Bo", "test accuracy": 0.98, "fit seconds": 12.0}]).to_html()  # fmt: skip
    assert "97.2%" in board and "98.0%" in board and "3.1" in board and "0.972222" not in board
    compared = charts.readable_table([{"model": "Keras", "parameters": 101770, "seconds per epoch": None}]).data
    assert list(compared.iloc[0]) == ["Keras", 101770, "—"]


def test_an_overlay_has_one_legend_entry_per_run_and_explains_the_line_styles_once():
    figure = charts.race_curves([snapshot(f"variant {i}") for i in range(3)], "loss")
    listed = [trace.name for trace in figure.data if trace.showlegend is not False]
    assert listed == ["variant 0", "variant 1", "variant 2"]
    assert "dashed: validation" in figure.layout.title.subtitle.text
    single = charts.training_curves([snapshot("one")], "loss")
    assert {trace.name for trace in single.data} >= {"training", "validation"}


def test_activation_tiles_are_big_enough_to_read():
    for side in (3, 8, 13, 26, 28):
        picture = charts.tile_grid_picture(np.ones((1, side, side)), cell=charts.tile_cell(np.ones((1, side, side))))
        assert picture.shape[1] >= 60, side


def test_no_chart_function_is_over_sixty_lines():
    long = {
        name: len(inspect.getsource(function).splitlines())
        for name, function in inspect.getmembers(charts, inspect.isfunction)
        if function.__module__ == charts.__name__
    }
    assert {name: lines for name, lines in long.items() if lines > 60} == {}


def test_the_palette_sits_below_everything_that_colours():
    """core/palette.py imports nothing of the app; results (notebook, TensorBoard) take colours from it, not charts."""
    root = Path(charts.__file__).resolve().parent  # core/
    imported = {
        str(path.relative_to(root.parent)): {
            node.module for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.ImportFrom)
        }
        for path in root.rglob("*.py")
    }
    assert not {module for module in imported["core/palette.py"] if module and module.startswith("core")}
    below_charts = [name for name in imported if name.startswith(("core/results/", "core/training/", "core/data/"))]
    assert [name for name in below_charts if "core.charts" in imported[name]] == []
    assert "core.palette" in imported["core/results/notebook.py"] | imported["core/results/tensorboard_export.py"]
