"""The exported Keras script: valid Python, compile with keywords, loads the run's own data offline, and it trains."""

import ast
import gzip
import io
import itertools
import json
import os
import re
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.config import TrainingConfig
from core.data.datasets import DEBIAN_FASHION_MNIST, FASHION_MNIST_DIR_ENV, IDX_NAMES
from core.results.export import keras_script


def compile_call(script: str) -> ast.Call:
    calls = [node for node in ast.walk(ast.parse(script)) if isinstance(node, ast.Call)]
    return next(c for c in calls if isinstance(c.func, ast.Attribute) and c.func.attr == "compile")


@pytest.mark.parametrize(
    ("dataset", "model", "loss", "metrics"),
    itertools.product(
        ("digits", "mnist", "fashion_mnist"),
        ("dense", "cnn"),
        ("sparse_categorical_crossentropy", "categorical_crossentropy"),
        (("accuracy",), ("f1", "recall")),
    ),
)
def test_every_script_is_python_and_compiles_with_keywords(dataset, model, loss, metrics):
    config = TrainingConfig(dataset=dataset, model=model, loss=loss, metrics=metrics, dropout=0.2, subsample=500)
    script = keras_script(config)
    call = compile_call(script)
    assert call.args == [] and [k.arg for k in call.keywords] == ["optimizer", "loss", "metrics"]
    assert f'loss="{loss}"' in script
    assert ("class MacroScore" in script) == ("f1" in metrics)
    assert ("keras.datasets" in script) == (dataset != "digits")


def test_a_folder_script_names_the_runs_folder_as_a_parameter_at_the_top():
    script = keras_script(TrainingConfig(dataset="folder", data_dir="/home/someone/my-data"))
    ast.parse(script)
    assert 'DATA_DIR = "/home/someone/my-data"' in script
    assert script.index("DATA_DIR =") < script.index("def load_data") < script.index("load_data(DATA_DIR)")
    assert "keras.datasets" not in script and "path/to/your" not in script


def write_idx(path: Path, array: np.ndarray) -> None:
    """An IDX file of bytes (MNIST's format), gzipped when the name ends in .gz."""
    raw = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)


def tiny_arrays(classes: int = 10, side: int = 28) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "x_train": rng.integers(0, 256, (60, side, side), dtype=np.uint8),
        "y_train": (np.arange(60) % classes).astype(np.uint8),
        "x_test": rng.integers(0, 256, (20, side, side), dtype=np.uint8),
        "y_test": (np.arange(20) % classes).astype(np.uint8),
    }


def idx_folder(folder: Path, arrays: dict[str, np.ndarray], suffix: str = ".gz") -> Path:
    folder.mkdir()
    for key, stem in IDX_NAMES.items():
        write_idx(folder / (stem + suffix), arrays[key])
    return folder


def class_folders_zip(path: Path, classes=("cat", "dog", "fish"), each: int = 5) -> Path:
    from PIL import Image

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("pets/README.txt", "not a picture")
        for k, name in enumerate(classes):
            for i in range(each):
                buffer = io.BytesIO()
                Image.new("RGB", (40, 30), (40 * k, 10 * i, 0)).save(buffer, format="PNG")
                archive.writestr(f"pets/{name}/{i}.png", buffer.getvalue())
    return path


def load_part(script: str, where: Path) -> dict:
    """Run the script's data loading (everything before the model is built) and return its variables."""
    part = script[: script.index("# Build the model")]
    scope = {"__name__": "exported"}
    previous = os.getcwd()
    os.chdir(where)  # a script may write nothing, but if it did, it would write here
    try:
        exec(compile(part, "exported_script.py", "exec"), scope)
    finally:
        os.chdir(previous)
    return scope


def test_a_digits_script_loads_the_digits(tmp_path):
    scope = load_part(keras_script(TrainingConfig(dataset="digits")), tmp_path)
    assert scope["x_train"].shape[1:] == (8, 8) and scope["x_train"].max() <= 1.0
    assert "DATA_DIR" not in scope


def test_a_fashion_mnist_script_reads_the_local_idx_files_offline(tmp_path, monkeypatch):
    arrays = tiny_arrays()
    folder = idx_folder(tmp_path / "fashion-mnist", arrays)
    monkeypatch.setenv(FASHION_MNIST_DIR_ENV, str(folder))
    script = keras_script(TrainingConfig(dataset="fashion_mnist", validation_split=0.0))
    assert f"DATA_DIR = {json.dumps(str(folder))}" in script
    scope = load_part(script, tmp_path)
    np.testing.assert_allclose(scope["x_test"], arrays["x_test"] / 255.0, atol=1e-6)
    assert list(scope["y_train"]) == list(arrays["y_train"])


def test_a_fashion_mnist_script_defaults_to_debians_folder(monkeypatch, tmp_path):
    monkeypatch.setenv(FASHION_MNIST_DIR_ENV, str(tmp_path / "nowhere"))
    script = keras_script(TrainingConfig(dataset="fashion_mnist"))
    assert f'DATA_DIR = "{DEBIAN_FASHION_MNIST}"' in script
    assert "keras.datasets.fashion_mnist.load_data()" in script and "load_digits()" in script  # the fallbacks


@pytest.mark.parametrize("form", ["idx folder", "plain idx folder", "npz", "folder with npz", "zip of class folders"])
def test_a_folder_script_loads_the_runs_own_data(tmp_path, form):
    arrays = tiny_arrays(classes=4)
    if form == "idx folder":
        data = idx_folder(tmp_path / "data", arrays)
    elif form == "plain idx folder":
        data = idx_folder(tmp_path / "data", arrays, suffix="")
    elif form == "npz":
        data = tmp_path / "mine.npz"
        np.savez(data, **arrays)
    elif form == "folder with npz":
        data = tmp_path / "data"
        data.mkdir()
        np.savez(data / "mnist.npz", **arrays)
    else:
        data = class_folders_zip(tmp_path / "pets.zip")
    scope = load_part(keras_script(TrainingConfig(dataset="folder", data_dir=str(data))), tmp_path)
    assert scope["x_train"].shape[1:] == (28, 28) and 0.0 <= scope["x_train"].min() <= scope["x_train"].max() <= 1.0
    if form == "zip of class folders":
        assert scope["num_classes"] == 3 and len(scope["x_train"]) + len(scope["x_val"]) + len(scope["x_test"]) == 15
    else:
        assert scope["num_classes"] == 4 and len(scope["x_test"]) == 20


def test_a_folder_script_whose_data_is_elsewhere_says_where_to_point_it(tmp_path):
    script = keras_script(TrainingConfig(dataset="folder", data_dir=str(tmp_path / "gone")))
    with pytest.raises(SystemExit, match="set DATA_DIR at the top"):
        load_part(script, tmp_path)


def test_the_digits_script_trains(tmp_path):
    config = TrainingConfig(dataset="digits", epochs=4, optimizer="adam", metrics=("accuracy", "f1"))
    path = tmp_path / "train_digits.py"
    path.write_text(keras_script(config))
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True, timeout=240, env=environment
    )
    assert result.returncode == 0, result.stderr[-2000:]
    accuracy = float(re.search(r"Test accuracy: ([0-9.]+)", result.stdout).group(1))
    assert accuracy > 0.8, result.stdout[-2000:]
    assert "Epoch 4/4" in result.stdout


def test_an_upload_run_reads_its_prepared_npz_and_never_shows_its_key(tmp_path):
    from core.data.uploads import load_own_data, npz_bytes
    from tests.core.test_cli_own_data import digits_zip

    script = keras_script(TrainingConfig(dataset="upload", data_dir="upload-private-key"))
    assert "private-key" not in script and 'DATA_DIR = ""' in script  # a key is no path: the person says where
    own = load_own_data(digits_zip(tmp_path / "mine.zip", per_class=5).read_bytes(), "mine.zip")
    prepared = tmp_path / "mine-prepared.npz"
    prepared.write_bytes(npz_bytes(own.dataset))
    scope = load_part(script.replace('DATA_DIR = ""', f"DATA_DIR = {json.dumps(str(prepared))}"), tmp_path)
    assert scope["num_classes"] == 10 and len(scope["x_test"]) == len(own.dataset.y_test)
