"""`python -m core predict`: reads drawn digits with a saved model; bad images give a message, not a traceback."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, timeout: int = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core", *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout
    )


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "digits.keras"
    result = run_cli("train", "--dataset", "digits", "--epochs", "3", "--save-model", str(path))
    assert result.returncode == 0, result.stderr
    return path


def drawn_digit(image: np.ndarray, path: Path) -> Path:
    """A test image as a person's drawing: dark ink on white paper, 20× larger, off centre."""
    ink = Image.fromarray(((1 - image) * 255).astype(np.uint8)).resize((160, 160), Image.Resampling.BILINEAR)
    paper = Image.new("L", (260, 220), 255)
    paper.paste(ink, (70, 20))
    paper.save(path)
    return path


def bad_images(folder: Path, good: Path) -> dict[str, Path]:
    """Each kind of bad input, by the words its message must contain."""
    bad = {
        "empty (0 bytes)": folder / "empty.png",
        "not an image this app can read": folder / "notes.png",
        "truncated or damaged": folder / "truncated.png",
        "No digit found": folder / "blank.png",
        "No such file": folder / "missing.png",
    }
    bad["empty (0 bytes)"].write_bytes(b"")
    bad["not an image this app can read"].write_text("not an image")
    bad["truncated or damaged"].write_bytes(good.read_bytes()[:200])
    Image.new("L", (300, 300), 255).save(bad["No digit found"])
    return bad


def test_predict_reads_drawn_digits_and_says_what_is_wrong_with_bad_images(digits_model, digits, tmp_path):
    firsts = [int(np.flatnonzero(digits.y_test == k)[0]) for k in range(10)]
    drawn = [drawn_digit(digits.x_test[i], tmp_path / f"digit_{k}.png") for k, i in enumerate(firsts)]
    bad = bad_images(tmp_path, drawn[0])
    # One call for all (each call loads TensorFlow): the good images are read whatever the bad ones do.
    result = run_cli("predict", "--model", str(digits_model), *map(str, [*drawn, *bad.values()]))

    lines = result.stdout.strip().splitlines()
    assert [line.split(": ")[0] for line in lines] == [str(path) for path in drawn]
    read = [line.split(": ")[1].split(" ")[0] for line in lines]
    # Three epochs score about 92 % on the test set; the drawings are made from those same test images.
    assert sum(r == str(k) for k, r in enumerate(read)) >= 9, lines

    assert result.returncode == 1 and "Traceback" not in result.stderr
    # TensorFlow writes its own start-up lines to stderr too; ours name the image.
    errors = [line for line in result.stderr.splitlines() if line.startswith(str(tmp_path))]
    for (words, path), line in zip(bad.items(), errors, strict=True):
        assert line.startswith(f"{path}: ") and words in line


def test_a_missing_model_is_one_line_and_exit_status_2(tmp_path):
    result = run_cli("predict", "--model", str(tmp_path / "none.keras"), str(tmp_path / "x.png"))
    assert result.returncode == 2
    assert "Cannot load the model" in result.stderr and "Traceback" not in result.stderr
