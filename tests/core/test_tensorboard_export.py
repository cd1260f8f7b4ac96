"""The TensorBoard export, read back with TensorBoard's own event reader: the same curves, settings and matrix."""

import io
import zipfile

import numpy as np
import pytest
from PIL import Image
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.hparams import metadata as hparams_metadata

from core.results.tensorboard_export import CONFUSION_TAG, run_folders, tensorboard_zip
from core.training.engine import train
from core.training.run import TrainingRun


@pytest.fixture(scope="module")
def two_runs(digits):
    from core.config import TrainingConfig

    runs = []
    for optimizer in ("adam", "sgd"):
        config = TrainingConfig(dataset="digits", epochs=2, optimizer=optimizer, validation_split=0.1)
        run = TrainingRun(config, "keras", label=f"Keras {optimizer}")
        train(run, digits)
        runs.append(run.snapshot())
    return runs


def read_back(tmp_path, data: bytes) -> dict[str, event_accumulator.EventAccumulator]:
    """Unzip as a user would, and load every folder of event files with TensorBoard's reader."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(tmp_path)
    folders = {path.parent for path in tmp_path.rglob("events.out.tfevents.*")}
    readers = {}
    for folder in folders:
        reader = event_accumulator.EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0})
        readers[folder.relative_to(tmp_path).as_posix()] = reader.Reload()
    return readers


def values(reader, tag: str) -> list[tuple[int, float]]:
    return [(event.step, pytest.approx(event.value, rel=1e-6)) for event in reader.Scalars(tag)]


def test_every_run_reads_back_with_the_same_epoch_and_live_curves(tmp_path, two_runs):
    readers = read_back(tmp_path, tensorboard_zip(two_runs))
    for snap, folder in zip(two_runs, run_folders(two_runs), strict=True):
        train_reader, validation_reader = readers[f"{folder}/train"], readers[f"{folder}/validation"]
        for key in ("loss", "accuracy"):
            assert values(train_reader, f"epoch_{key}") == [(row["epoch"], row[key]) for row in snap.epochs]
            assert values(validation_reader, f"epoch_{key}") == [
                (row["epoch"], row[f"val_{key}"]) for row in snap.epochs
            ]
        live = train_reader.Scalars("batch_loss")
        assert len(live) == len(snap.batches) > 2
        assert [event.value for event in live] == pytest.approx([point["loss"] for point in snap.batches])
        steps = [event.step for event in live]
        assert steps == sorted(steps) and steps[-1] == len(snap.epochs) * snap.steps_per_epoch


def test_the_settings_are_hparams_and_the_confusion_matrix_an_image(tmp_path, two_runs, digits):
    readers = read_back(tmp_path, tensorboard_zip(two_runs, digits.class_names))
    for snap, folder in zip(two_runs, run_folders(two_runs), strict=True):
        reader = readers[folder]
        content = reader.PluginTagToContent(hparams_metadata.PLUGIN_NAME)
        start = hparams_metadata.parse_session_start_info_plugin_data(content[hparams_metadata.SESSION_START_INFO_TAG])
        assert start.hparams["optimizer"].string_value == snap.config.optimizer
        assert start.hparams["learning_rate"].number_value == pytest.approx(snap.config.learning_rate)
        assert start.hparams["hidden_layers"].string_value == "128"
        assert "data_dir" not in start.hparams
        assert values(reader, "test_accuracy") == [(len(snap.epochs), snap.test_metrics["accuracy"])]
        (image,) = reader.Images(CONFUSION_TAG)
        picture = Image.open(io.BytesIO(image.encoded_image_string))
        assert picture.size == (image.width, image.height) and picture.width > 10 * 30
    experiment = readers["."].PluginTagToContent(hparams_metadata.PLUGIN_NAME)
    config = hparams_metadata.parse_experiment_plugin_data(experiment[hparams_metadata.EXPERIMENT_TAG])
    assert {"optimizer", "epochs", "batch_size"} <= {h.name for h in config.hparam_infos}
    assert "test_accuracy" in {m.name.tag for m in config.metric_infos}


def test_the_matrix_image_is_shaded_by_each_rows_share(two_runs):
    from core.results.tensorboard_export import confusion_png

    counts = np.diag([5, 5]) + np.array([[0, 0], [5, 0]])
    png, _ = confusion_png(counts, ["a", "b"], cell=40)
    picture = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    top_left, bottom_left = picture[60 + 3, 60 + 3], picture[60 + 43, 60 + 3]  # a cell corner, clear of its number
    assert top_left.sum() < bottom_left.sum() < 3 * 255  # a full row share is darker than half a row's
