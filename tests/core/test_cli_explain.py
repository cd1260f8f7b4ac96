"""`python -m core explain`: one picture of a digit, its saliency and its prediction; bad input, one line and exit 2."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.core.test_cli_predict import drawn_digit, run_cli


@pytest.fixture(scope="module")
def cnn_model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "cnn.keras"
    result = run_cli("train", "--dataset", "digits", "--model", "cnn", "--epochs", "3", "--save-model", str(path))
    assert result.returncode == 0, result.stderr
    return path


def test_explain_writes_the_digit_its_maps_and_its_prediction(cnn_model, digits, tmp_path):
    seven = int(np.flatnonzero(digits.y_test == 7)[0])
    image = drawn_digit(digits.x_test[seven], tmp_path / "seven.png")
    out = tmp_path / "why.png"
    result = run_cli("explain", "--model", str(cnn_model), str(image), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{image}: ") and f"Wrote {out}" in result.stdout
    sheet = Image.open(out)
    # Four panels of 168 pixels for a CNN: the digit, gradient, gradient × input, Grad-CAM.
    assert sheet.width > 4 * 168 and sheet.height > 168
    colours = np.asarray(sheet.convert("RGB"))
    assert len(np.unique(colours.reshape(-1, 3), axis=0)) > 50  # heat maps, not a blank page

    why_not = run_cli("explain", "--model", str(cnn_model), str(image), "--out", str(out), "--class", "9")
    assert why_not.returncode == 0 and "maps for 9" in why_not.stdout


def test_bad_input_gets_one_line_and_exit_status_2(cnn_model, tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("L", (200, 200), 255).save(blank)
    notes = tmp_path / "notes.png"
    notes.write_text("not an image")
    out = str(tmp_path / "why.png")
    cases = {
        "no such file": ("--model", str(tmp_path / "missing.keras"), str(blank), "--out", out),
        "Cannot read the image": ("--model", str(cnn_model), str(tmp_path / "missing.png"), "--out", out),
        "expected a .png or .jpg": ("--model", str(cnn_model), str(blank), "--out", str(tmp_path / "why.txt")),
        "No digit found": ("--model", str(cnn_model), str(blank), "--out", out),
        "not an image this app can read": ("--model", str(cnn_model), str(notes), "--out", out),
        "the model's classes are 0, 1": ("--model", str(cnn_model), str(blank), "--out", out, "--class", "x"),
    }
    for words, args in cases.items():
        result = run_cli("explain", *args)
        assert result.returncode == 2, (words, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], (words, result.stderr)
    assert not Path(out).exists()
