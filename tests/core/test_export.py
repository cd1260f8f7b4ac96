"""The exported Keras script: valid Python, compile with keywords, and it trains."""

import ast
import itertools
import os
import re
import subprocess
import sys

import pytest

from core.config import TrainingConfig
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


def test_a_folder_script_never_shows_the_folder_path():
    script = keras_script(TrainingConfig(dataset="folder", data_dir="/home/someone/private-data"))
    ast.parse(script)
    assert "private-data" not in script and "np.load(" in script


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


def test_an_upload_run_reads_its_prepared_npz_and_never_shows_its_key():
    script = keras_script(TrainingConfig(dataset="upload", data_dir="upload-private-key"))
    assert "np.load(" in script and "private-key" not in script
    ast.parse(script)
