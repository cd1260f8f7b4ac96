"""The app's digit preparation against the original arrays: what a scan of a digit costs in accuracy.

    python bench/preprocess_fidelity.py                       # 6,000 training digits, 1,000 held out, 5 epochs
    python bench/preprocess_fidelity.py --contrast REV        # also the preparation at another git revision
    python bench/preprocess_fidelity.py --style fonts --test 1000

There is no MNIST offline, so the digits are made in MNIST's format (core.data.handwriting:
fonts and scikit-learn's handwritten digits, bent, fitted into 20×20 anti-aliased and centred by
mass in 28×28). The lesson's network (Dense 128, 5 epochs) trains on a training part. Each held-out
digit is then printed and scanned (core.data.handwriting.scanned: 280 pixels, dark ink on light
paper, margin, offset, tilt, blur, noise), saved as PNG and put back through the app's preparation
(core.data.images.prepare_digit_file). The same model reads the original arrays and the prepared
scans; "points lost" is the difference in accuracy. Rows:

- original arrays: the control, the 28×28 digits themselves;
- this checkout: core.data.images as it is here;
- REV (--contrast): core.data.images as it is at a git revision, loaded from `git show`;
- page shrunk: the scan inverted and shrunk whole to 28×28, no preparation (how much preparing matters).

"mean |diff|" is the mean absolute pixel difference to the original arrays (0..1), "corr" the median
correlation of a prepared scan with its original.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("KERAS_BACKEND", "jax")

from PIL import Image  # noqa: E402

from core.data import images  # noqa: E402
from core.data.handwriting import STYLES, scanned, synthetic_digits  # noqa: E402

TARGET_POINTS = 0.5


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=6000, help="digits to train on")
    parser.add_argument("--test", type=int, default=1000, help="held-out digits, scanned and prepared")
    parser.add_argument("--style", default="mixed", choices=STYLES)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--contrast", default=None, help="a git revision whose preparation is measured too")
    return parser.parse_args(argv)


def train_lesson_model(x_train: np.ndarray, y_train: np.ndarray, epochs: int, seed: int):
    """The lesson's network (core.training.models), trained as the app's defaults say."""
    from core.config import TrainingConfig
    from core.training.models import build_model, compile_model

    config = TrainingConfig(dataset="mnist", epochs=epochs, seed=seed)
    model = build_model(config, x_train.shape[1:], 10)
    compile_model(model, config, 10)
    model.fit(x_train / 255, y_train, epochs=epochs, batch_size=config.batch_size, verbose=0)
    return model


def scan_files(digits: np.ndarray, seed: int) -> list[bytes]:
    """Each digit printed, scanned and saved as a PNG file."""
    files = []
    for index, digit in enumerate(digits):
        buffer = io.BytesIO()
        Image.fromarray(scanned(digit, seed=seed * 1_000_003 + index)).save(buffer, "PNG")
        files.append(buffer.getvalue())
    return files


def preparation_at(revision: str) -> Callable[[bytes], np.ndarray]:
    """prepare_digit_file as core/data/images.py is at a git revision, imported from a temporary copy."""
    source = subprocess.run(
        ["git", "show", f"{revision}:core/data/images.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    folder = Path(tempfile.mkdtemp(prefix="preparation_"))
    path = folder / "images_at_revision.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("images_at_revision", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return lambda data: module.prepare_digit_file(data, "scan.png").model_input


def page_shrunk(data: bytes) -> np.ndarray:
    """No preparation: the whole scan inverted and shrunk to 28×28 by area averaging."""
    grey = images.decode_image(data)
    page = Image.fromarray(1.0 - grey).resize((28, 28), Image.Resampling.BOX)
    return np.clip(np.asarray(page), 0.0, 1.0)


def prepared(files: list[bytes], prepare: Callable[[bytes], np.ndarray]) -> tuple[np.ndarray, float]:
    """Every file prepared (a refused file reads as a blank field), and the seconds it took."""
    started = time.perf_counter()
    inputs = []
    for data in files:
        try:
            inputs.append(prepare(data))
        except ValueError:
            inputs.append(np.zeros((28, 28), dtype=np.float32))
    return np.stack(inputs).astype(np.float32), time.perf_counter() - started


def fidelity(inputs: np.ndarray, originals: np.ndarray) -> tuple[float, float]:
    """Mean absolute pixel difference to the originals, and the median per-digit correlation."""
    flat, reference = inputs.reshape(len(inputs), -1), originals.reshape(len(originals), -1) / 255
    correlations = [np.corrcoef(a, b)[0, 1] if a.std() > 0 else 0.0 for a, b in zip(flat, reference, strict=True)]
    return float(np.abs(flat - reference).mean()), float(np.median(correlations))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    x, y = synthetic_digits(args.train + args.test, args.style, args.seed)
    x_train, y_train, x_test, y_test = x[: args.train], y[: args.train], x[args.train :], y[args.train :]
    made = time.perf_counter()
    model = train_lesson_model(x_train, y_train, args.epochs, args.seed)
    trained = time.perf_counter()
    files = scan_files(x_test, args.seed)
    print(
        f"{args.train:,} training and {args.test:,} held-out {args.style} digits made in {made - started:.1f} s; "
        f"Dense 128, {args.epochs} epochs, trained in {trained - made:.1f} s; {len(files)} scans at "
        f"{images.decode_image(files[0]).shape[0]} px, {np.mean([len(f) for f in files]) / 1024:.0f} KB each"
    )
    rows = {"original arrays": (x_test.astype(np.float32) / 255, 0.0)}
    rows["this checkout"] = prepared(files, lambda data: images.prepare_digit_file(data, "scan.png").model_input)
    if args.contrast:
        rows[args.contrast] = prepared(files, preparation_at(args.contrast))
    rows["page shrunk"] = prepared(files, page_shrunk)
    accuracies = {
        name: float((model.predict(inputs, verbose=0).argmax(axis=1) == y_test).mean()) * 100
        for name, (inputs, _) in rows.items()
    }
    control = accuracies["original arrays"]
    print(f"\n{'inputs':<18} {'accuracy':>9} {'points lost':>12} {'mean |diff|':>12} {'corr':>6} {'ms/scan':>8}")
    for name, (inputs, seconds) in rows.items():
        difference, correlation = fidelity(inputs, x_test)
        print(
            f"{name:<18} {accuracies[name]:>8.1f}% {control - accuracies[name]:>12.1f} {difference:>12.3f} "
            f"{correlation:>6.3f} {seconds / len(files) * 1000:>8.1f}"
        )
    lost = control - accuracies["this checkout"]
    verdict = "within" if lost <= TARGET_POINTS else "OUTSIDE"
    print(f"\nThis checkout's preparation loses {lost:.1f} points: {verdict} the {TARGET_POINTS} point target.")


if __name__ == "__main__":
    main()
