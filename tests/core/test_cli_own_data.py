"""`python -m core train --data-dir my_digits.zip` and `python -m core evaluate`: own images on the command line."""

import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from tests.core.test_cli import run_cli


def digits_zip(path, per_class: int = 8, extra: dict[str, bytes] | None = None):
    """scikit-learn's digits upscaled to 32×32 PNGs, in class folders nested one level down."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    seen: dict[int, int] = {}
    with zipfile.ZipFile(path, "w") as archive:
        for image, label in zip(digits.images, digits.target, strict=True):
            if seen.get(label, 0) >= per_class:
                continue
            seen[label] = seen.get(label, 0) + 1
            buffer = io.BytesIO()
            Image.fromarray(np.kron(image * 255 / 16, np.ones((4, 4))).astype(np.uint8)).save(buffer, format="PNG")
            archive.writestr(f"my_digits/{label}/{seen[label]}.png", buffer.getvalue())
        for name, raw in (extra or {}).items():
            archive.writestr(name, raw)
    return path


def test_train_on_a_zip_of_class_folders_then_evaluate_on_it(tmp_path):
    images, model_path, report_path = digits_zip(tmp_path / "my_digits.zip"), tmp_path / "m.keras", tmp_path / "e.json"
    trained = run_cli("train", "--data-dir", str(images), "--epochs", "2", "--save-model", str(model_path))
    assert trained.returncode == 0, trained.stderr
    assert "Classes (training images): 0 " in trained.stdout and "Keras epoch 2/2" in trained.stdout
    evaluated = run_cli("evaluate", "--model", str(model_path), "--images", str(images), "--json", str(report_path))
    assert evaluated.returncode == 0, evaluated.stderr
    assert "80 images, accuracy" in evaluated.stdout and "confusion (rows: true class" in evaluated.stdout
    report = json.loads(report_path.read_text())
    assert report["images"] == 80 and 0 <= report["accuracy"] <= 1
    assert len(report["per_class"]) == 10 and np.array(report["confusion"]).sum() == 80


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["train", "--data-dir", "{tmp}/missing.zip"], "does not exist"),
        (["train", "--data-dir", "{tmp}/climbs.zip"], "points outside the archive"),
        (["evaluate", "--model", "{tmp}/missing.keras", "--images", "{tmp}/climbs.zip"], "no such file"),
    ],
)
def test_bad_input_gives_one_line_and_exit_status_2(tmp_path, command, message):
    digits_zip(tmp_path / "climbs.zip", per_class=5, extra={"../escape.png": b"x"})
    result = run_cli(*(part.format(tmp=tmp_path) for part in command))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
