"""Runs as TensorBoard event files in a zip: scalars per epoch and live update, HParams, the confusion matrix.

Written with TensorBoard's own record writer and protobufs, none of which imports TensorFlow, so a page can
build the zip at once. Layout, as Keras's TensorBoard callback writes it (so `tensorboard --logdir` overlays
training and validation in one chart, as the app draws them):

    <run>/train/        epoch_<metric> (step = epoch), batch_<metric> (step = weight updates so far)
    <run>/validation/   epoch_<metric> (step = epoch)
    <run>/              the HParams of the run, test_<metric>, and the test confusion matrix as an image
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.hparams import summary_v2 as hparams
from tensorboard.summary.writer.record_writer import RecordWriter

from core.palette import DEFAULT_PALETTE, Palette, palette_for
from core.training.run import RunSnapshot

CONFUSION_TAG = "test_confusion_matrix"
CONFUSION_DETAIL = "test_confusion_matrix"  # the run detail core.training.evaluation sets
SKIPPED_KEYS = ("epoch", "step", "seconds", "progress")
FILE_NAME = "events.out.tfevents.{time}.training-studio"


class EventFile:
    """One TensorBoard event file, written into memory: scalars, images and HParams at steps and wall times."""

    def __init__(self, start_time: float):
        self.start_time = start_time
        self.buffer = io.BytesIO()
        self._records = RecordWriter(self.buffer)
        self._write(event_pb2.Event(wall_time=start_time, file_version="brain.Event:2"))

    def scalar(self, tag: str, value: float, step: int, seconds: float = 0.0) -> None:
        self._summary(summary_pb2.Summary.Value(tag=tag, simple_value=float(value)), step, seconds)

    def image(self, tag: str, png: bytes, height: int, width: int, step: int) -> None:
        picture = summary_pb2.Summary.Image(height=height, width=width, colorspace=3, encoded_image_string=png)
        self._summary(summary_pb2.Summary.Value(tag=tag, image=picture), step)

    def summary(self, summary: summary_pb2.Summary, step: int = 0) -> None:
        self._write(event_pb2.Event(wall_time=self.start_time, step=step, summary=summary))

    def _summary(self, value: summary_pb2.Summary.Value, step: int, seconds: float = 0.0) -> None:
        summary = summary_pb2.Summary(value=[value])
        self._write(event_pb2.Event(wall_time=self.start_time + seconds, step=step, summary=summary))

    def _write(self, event: event_pb2.Event) -> None:
        self._records.write(event.SerializeToString())

    def getvalue(self) -> bytes:
        return self.buffer.getvalue()


def tensorboard_zip(
    snapshots: Sequence[RunSnapshot], class_names: Sequence[str] | None = None, palette: Palette = DEFAULT_PALETTE
) -> bytes:
    """Every run in its own folder of event files, zipped: unzip and run `tensorboard --logdir <folder>`."""
    start_time = time.time()
    names = run_folders(snapshots)
    files: dict[str, EventFile] = {}
    for snap, name in zip(snapshots, names, strict=True):
        files.update(run_files(snap, name, start_time, class_names, palette))
    root = EventFile(start_time)
    root.summary(experiment_config(snapshots))
    files[""] = root
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for folder, events in files.items():
            path = f"{folder}/" if folder else ""
            archive.writestr(path + FILE_NAME.format(time=int(start_time)), events.getvalue())
    return buffer.getvalue()


def run_folders(snapshots: Sequence[RunSnapshot]) -> list[str]:
    """A folder name per run: its label and id, in characters every file system takes."""
    return [re.sub(r"[^A-Za-z0-9._-]+", "_", f"{snap.label}_{snap.run_id}").strip("_") for snap in snapshots]


def run_files(
    snap: RunSnapshot,
    folder: str,
    start_time: float,
    class_names: Sequence[str] | None = None,
    palette: Palette = DEFAULT_PALETTE,
) -> dict[str, EventFile]:
    """The event files of one run, by folder inside the zip."""
    train, validation, run = EventFile(start_time), EventFile(start_time), EventFile(start_time)
    for row in snap.epochs:
        for key, value in row.items():
            if key in SKIPPED_KEYS or value is None:
                continue
            target = validation if key.startswith("val_") else train
            target.scalar(f"epoch_{key.removeprefix('val_')}", value, row["epoch"], row.get("seconds", 0.0))
    for point in snap.batches:
        for key, value in point.items():
            if key not in SKIPPED_KEYS and value is not None:
                train.scalar(f"batch_{key}", value, update_step(snap, point), point.get("seconds", 0.0))
    run.summary(hparams.hparams_pb(hparam_values(snap), trial_id=folder, start_time_secs=start_time))
    last_epoch = len(snap.epochs)
    for key, value in snap.test_metrics.items():
        if value is not None:
            run.scalar(f"test_{key}", value, last_epoch, snap.fit_seconds or 0.0)
    counts = snap.details.get(CONFUSION_DETAIL)
    if counts is not None:
        counts = np.asarray(counts)
        names = list(class_names) if class_names is not None else [str(k) for k in range(len(counts))]
        png, (width, height) = confusion_png(counts, names, palette)
        run.image(CONFUSION_TAG, png, height, width, last_epoch)
    return {f"{folder}/train": train, f"{folder}/validation": validation, folder: run}


def update_step(snap: RunSnapshot, point: dict) -> int:
    """Weight updates done when a live point was recorded (its epoch's steps before it, then its own step)."""
    steps = snap.steps_per_epoch or point.get("step", 0)
    return int((point["epoch"] - 1) * steps + point.get("step", 0))


def hparam_values(snap: RunSnapshot) -> dict[str, bool | int | float | str]:
    """The run's settings as HParams values: numbers and words as they are, lists as comma-separated text."""
    values = {}
    for name, value in snap.config.to_dict().items():
        if name == "data_dir":
            continue  # a folder path says nothing about learning, and may be private
        if isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value) or "none"
        if value is None:
            value = "none"
        values[name] = value
    values["kind"] = snap.kind
    return values


def experiment_config(snapshots: Sequence[RunSnapshot]) -> summary_pb2.Summary:
    """The HParams table's columns: every setting, and the test scores and final losses as its metrics."""
    names = list(dict.fromkeys(name for snap in snapshots for name in hparam_values(snap)))
    test_keys = list(dict.fromkeys(key for snap in snapshots for key in snap.test_metrics))
    metrics = [hparams.Metric(f"test_{key}", display_name=f"test {key}") for key in test_keys]
    metrics += [
        hparams.Metric("epoch_loss", group="train", display_name="training loss"),
        hparams.Metric("epoch_loss", group="validation", display_name="validation loss"),
    ]
    return hparams.hparams_config_pb([hparams.HParam(name) for name in names], metrics)


def confusion_png(
    counts: np.ndarray, class_names: Sequence[str], palette: Palette = DEFAULT_PALETTE, cell: int = 36
) -> tuple[bytes, tuple[int, int]]:
    """The confusion matrix as a PNG: true class down, predicted across, each cell shaded by its share of the row."""
    # The picture has a white ground of its own: the light look, whatever the page's theme.
    palette = palette_for(palette.name)
    counts = np.asarray(counts, dtype=float)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    margin, size = 60, len(class_names)
    width = height = margin + cell * size + 10
    picture = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default()
    low, high = (np.array(_rgb(colour), dtype=float) for colour in palette.ramp)
    for i in range(size):
        for j in range(size):
            colour = tuple(round(c) for c in low + (high - low) * shares[i, j])
            left, top = margin + j * cell, margin + i * cell
            draw.rectangle([left, top, left + cell - 1, top + cell - 1], fill=colour)
            ink = "white" if shares[i, j] > 0.5 else "black"
            draw.text((left + cell / 2, top + cell / 2), f"{int(counts[i, j])}", fill=ink, font=font, anchor="mm")
        draw.text((margin - 6, margin + i * cell + cell / 2), class_names[i][:6], fill="black", font=font, anchor="rm")
        draw.text((margin + i * cell + cell / 2, margin - 6), class_names[i][:6], fill="black", font=font, anchor="mb")
    draw.text((4, 4), "rows: true class", fill="black", font=font)
    draw.text((4, 18), "columns: predicted", fill="black", font=font)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue(), (width, height)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
