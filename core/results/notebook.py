"""A run as a Jupyter notebook: the lesson's six steps in words, with the run's own numbers, and code to train it again.

The code cells are the standalone script's sections (core/results/export.py), so they load the data the run
trained on as the script does (the files at DATA_DIR, else Keras's download, else scikit-learn's digits), with
one change for a notebook: fit draws the curves live. The last cells draw the curves the run recorded, so a
reader sees what to expect before running anything.
"""

from __future__ import annotations

import json

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from core import config as settings
from core.config import TrainingConfig
from core.palette import DEFAULT_PALETTE
from core.results import export, lesson
from core.results import lesson_texts as texts
from core.training.architecture import describe_model, total_parameters
from core.training.run import RunSnapshot

# What each dataset gives the notebook: its image size, raw pixel maximum and training images.
SHAPES = {"digits": ((8, 8), 16, 1437), "mnist": ((28, 28), 255, 60000), "fashion_mnist": ((28, 28), 255, 60000)}
# The packages the notebook imports (pip name, module name); Colab has them all.
PACKAGES = (("keras>=3.6", "keras"), ("tensorflow>=2.16", "tensorflow"), ("scikit-learn>=1.4", "sklearn"))
PACKAGES += (("matplotlib>=3.8", "matplotlib"),)

INSTALL_CODE = """\
# What this notebook needs: {names}. Colab has them all; elsewhere, the missing ones are installed here.
import importlib.util
import subprocess
import sys

packages = {packages}
missing = [name for name, module in packages.items() if importlib.util.find_spec(module) is None]
if missing:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", *missing])
"""

PLOT_CODE = '''\
# Pictures inside the notebook, whatever MPLBACKEND the kernel was started with (Agg draws nothing here).
%matplotlib inline
import matplotlib.pyplot as plt
from IPython.display import display


def plot_history(epochs, batches=(), title=""):
    """Loss and accuracy per epoch: training solid, validation dashed, the running average within epochs thin."""
    metrics = [m for m in ("loss", "accuracy") if any(m in row for row in epochs) or any(m in p for p in batches)]
    figure, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.2), squeeze=False)
    for axis, metric in zip(axes[0], metrics):
        points = [(p["progress"], p[metric]) for p in batches if p.get(metric) is not None]
        if points:
            axis.plot(*zip(*points), color="{colour}", linewidth=1, alpha=0.35, label="training (within epoch)")
        for key, style, label in ((metric, "-", "training"), ("val_" + metric, "--", "validation")):
            rows = [(row["epoch"], row[key]) for row in epochs if row.get(key) is not None]
            if rows:
                axis.plot(*zip(*rows), style, marker="o", color="{colour}", label=label)
        axis.set_title(metric.capitalize())
        axis.set_xlabel("epoch")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


class LivePlot(keras.callbacks.Callback):
    """Redraws the curves every few batches and after every epoch, as Training Studio does."""

    def __init__(self, updates_per_epoch=10):
        super().__init__()
        self.updates_per_epoch = updates_per_epoch

    def on_train_begin(self, logs=None):
        self.epochs, self.batches, self.epoch = [], [], 0
        self.handle = display("Training starts…", display_id=True)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        steps = self.params.get("steps") or 1
        if (batch + 1) % max(1, steps // self.updates_per_epoch) == 0:
            self.batches.append({"progress": self.epoch + (batch + 1) / steps, **(logs or {})})
            self.draw()

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append({"epoch": epoch + 1, **(logs or {})})
        self.draw()

    def draw(self):
        figure = plot_history(self.epochs, self.batches, "Live: this notebook's run")
        self.handle.update(figure)
        plt.close(figure)


live_plot = LivePlot()
'''


def run_notebook(snapshot: RunSnapshot) -> nbformat.NotebookNode:
    """The notebook of a run: a markdown cell per lesson step, the code that trains it, the curves it recorded."""
    config = snapshot.config
    epochs = max(config.epochs, len(snapshot.epochs))
    cells = [
        new_code_cell(install_code()),
        new_markdown_cell(title_text(snapshot)),
        new_code_cell(export.imports_code(config, digits=True) + "\n" + export.parameters_code(config, epochs)),
        new_markdown_cell(_step(1) + data_text(config)),
        new_code_cell(notebook_data_code(config) + export.split_code(config)),
        new_markdown_cell(_step(2) + model_text(config, snapshot.parameter_count)),
    ]
    if export.macro_metrics(config):
        cells.append(new_code_cell(export.macro_score_source().strip() + "\n"))
    cells += [
        new_code_cell(export.model_code(config, shape_from_data=True).strip() + "\n"),
        new_markdown_cell(_step(3) + compile_text(config)),
        new_code_cell(export.compile_code(config).strip() + "\n"),
        new_markdown_cell(_step(4) + fit_text(config, epochs)),
        new_code_cell(PLOT_CODE.replace("{colour}", DEFAULT_PALETTE.series[0])),
        new_code_cell(export.fit_code(config, callbacks=["live_plot"]).strip() + "\n"),
        new_markdown_cell(_step(5) + watch_text(snapshot)),
        new_code_cell(recorded_code(snapshot)),
        new_markdown_cell(_step(6) + reading_text(snapshot)),
        new_markdown_cell(_step(7) + texts.HANDWRITING_STEP_INTRO + " " + texts.HANDWRITING_NOTEBOOK),
    ]
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def notebook_json(snapshot: RunSnapshot) -> str:
    """The notebook as .ipynb text, checked against the notebook format's schema."""
    notebook = run_notebook(snapshot)
    nbformat.validate(notebook)
    return nbformat.writes(notebook)


def install_code() -> str:
    packages = dict(PACKAGES)
    return INSTALL_CODE.format(names=", ".join(packages), packages=json.dumps(packages, indent=4))


def notebook_data_code(config: TrainingConfig) -> str:
    """The data as the script loads it: the run's own files, its dataset's local copy or download, or the digits."""
    return export.data_code(config)


# --- the words: the lesson's texts, with this run's numbers ---------------------------------------


def title_text(snapshot: RunSnapshot) -> str:
    config = snapshot.config
    lines = [
        f"# {texts.TITLE}",
        "",
        f"Exported from Training Studio: a {'small CNN' if config.model == 'cnn' else 'dense network'} on "
        f"{settings.DATASETS.get(config.dataset, config.dataset)}, {config.optimizer}, {len(snapshot.epochs)} epochs "
        f"recorded. Run the cells from the top: the same data, model, compile and fit settings train again.",
    ]
    if config.dataset in ("folder", settings.UPLOAD_DATASET):
        lines += [
            "",
            "The run trained on data of your own, which does not travel inside a notebook: set `DATA_DIR` in the "
            "third cell to where your copy is (a folder of MNIST IDX files, an .npz, or a .zip of class folders).",
        ]
    return "\n".join(lines)


def data_text(config: TrainingConfig) -> str:
    _, pixel_max, _ = SHAPES.get(config.dataset, SHAPES["mnist"])
    text = texts.DATA_PIXELS.format(pixel_max=pixel_max)
    if config.dataset in export.DATA_TITLES:
        text += (
            " The next cell reads the files at `DATA_DIR` when this machine has them, else Keras downloads them;"
            " without a network it trains on scikit-learn's 8×8 digits instead (pixels 0 to 16)."
        )
    return text


def model_text(config: TrainingConfig, parameter_count: int | None) -> str:
    (height, width), _, _ = SHAPES.get(config.dataset, SHAPES["mnist"])
    layers = describe_model(config, (height, width), 10)
    parameters = parameter_count or total_parameters(layers)
    if config.model == "dense":
        return texts.MODEL_INTRO.format(
            classes=10, height=height, width=width, pixels=height * width, parameters=parameters
        )
    return f"A small convolutional network: it learns {parameters:,} numbers (weights and biases)."


def compile_text(config: TrainingConfig) -> str:
    return (
        f"{texts.COMPILE_INTRO}\n\nHere: optimizer `{config.optimizer}` (learning rate {config.learning_rate:g}), "
        f"loss `{config.loss}`, metrics {', '.join(f'`{m}`' for m in config.metrics)}."
    )


def fit_text(config: TrainingConfig, epochs: int) -> str:
    (_, _, training_images) = SHAPES.get(config.dataset, SHAPES["mnist"])
    numbers = lesson.fit_numbers(config.replace(epochs=epochs), training_images)
    counts = texts.FIT_NUMBERS.format(
        train=numbers.train,
        batch_size=config.batch_size,
        steps=numbers.steps,
        updates=numbers.updates,
        epochs=epochs,
        validation=numbers.validation,
    )
    return f"{texts.FIT_INTRO}\n\n{counts}\n\n{texts.WATCH_INTRO}"


def watch_text(snapshot: RunSnapshot) -> str:
    sentences = [annotation.sentence for annotation in lesson.annotations(snapshot.epochs)] or [texts.NOTHING_YET]
    intro = "What the curves of the recorded run say (the cell below draws them; yours will differ a little):"
    return intro + "\n\n" + _bullets(sentences)


def reading_text(snapshot: RunSnapshot) -> str:
    return _bullets(lesson.reading(snapshot)) + "\n\n" + lesson.early_stopping_advice(snapshot)


def recorded_code(snapshot: RunSnapshot) -> str:
    """The run's recorded history as data, drawn by the notebook's own plotting function."""
    keep = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy")
    history = [{key: row[key] for key in keep if row.get(key) is not None} for row in snapshot.epochs]
    batches = [
        {key: point[key] for key in ("progress", "loss", "accuracy") if point.get(key) is not None}
        for point in snapshot.batches
    ]
    return (
        "# The curves the run recorded in Training Studio, to compare with the live ones above.\n"
        f"recorded_epochs = {_literal(history)}\n"
        f"recorded_batches = {_literal(batches)}\n"
        'plot_history(recorded_epochs, recorded_batches, "Recorded in Training Studio")\n'
        "plt.show()\n"
    )


def _literal(rows: list[dict]) -> str:
    rounded = [
        {key: round(value, 5) if isinstance(value, float) else value for key, value in row.items()} for row in rows
    ]
    if not rounded:
        return "[]"
    return "[\n" + "".join(f"    {row!r},\n" for row in rounded) + "]"


def _step(number: int) -> str:
    header = texts.STEP_HEADER.format(number=number, count=lesson.STEP_COUNT, title=texts.STEP_TITLES[number - 1])
    return f"## {header}\n\n"


def _bullets(sentences: list[str]) -> str:
    return "\n".join(f"- {sentence}" for sentence in sentences)
