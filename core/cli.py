"""Command line: `python -m core train …` trains headless with the app's engine; `predict` reads digits; `explain`
draws why."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from core import config as settings
from core.config import ConfigError, TrainingConfig, config_from_settings
from core.training.race import PRESETS
from core.training.run import TrainingRun

POLL_SECONDS = 0.2


class CommandError(Exception):
    """A one-line message for the user; the command exits non-zero without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="Training Studio from the command line.")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a model headless and print one line per epoch")
    add_training_options(train)
    train.add_argument("--baseline", action="store_true", help="also train the scikit-learn MLP baseline")
    train.add_argument("--save-model", help="write the trained model to this .keras file")
    train.add_argument("--json", help="write the run record (JSON) to this file")
    race = commands.add_parser("race", help="train 2-4 variants of one setting side by side, epoch by epoch in turn")
    add_training_options(race)
    choose = race.add_mutually_exclusive_group(required=True)
    choose.add_argument("--vary", help="SETTING=VALUE,VALUE[,…], e.g. optimizer=adam,sgd,rmsprop")
    choose.add_argument("--preset", choices=list(PRESETS), help="a classic question, e.g. optimizers")
    race.add_argument("--target", type=float, help="accuracy whose time to reach is ranked (default: every variant's)")
    race.add_argument("--json", help="write the race record (every variant's history and test scores) here")
    predict = commands.add_parser("predict", help="predict the digit in each image with a saved model")
    predict.add_argument("--model", required=True, help="a .keras file written by `train --save-model`")
    predict.add_argument("images", nargs="+", help="image files: PNG, JPEG, BMP, GIF, WebP")
    explain = commands.add_parser("explain", help="write a digit, its saliency maps and its prediction to one image")
    explain.add_argument("--model", required=True, help="a .keras file written by `train --save-model`")
    explain.add_argument("image", help="an image of one digit: PNG, JPEG, BMP, GIF, WebP or TIFF")
    explain.add_argument("--out", required=True, help="the picture to write (.png or .jpg)")
    explain.add_argument("--class", dest="class_name", help="explain this class instead of the predicted one")
    evaluate = commands.add_parser("evaluate", help="score a saved model on labelled images: one folder per class")
    evaluate.add_argument("--model", required=True, help="a .keras file written by `train --save-model`")
    evaluate.add_argument("--images", required=True, help="a folder or .zip of class folders (0/, 1/, … or names)")
    evaluate.add_argument("--json", help="write the accuracy, per-class scores and confusion matrix to this file")
    return parser


def add_training_options(parser: argparse.ArgumentParser) -> None:
    """The settings of a run, shared by `train` and `race`."""
    defaults = TrainingConfig(dataset="digits")
    parser.add_argument(
        "--dataset",
        choices=list(settings.DATASETS),
        help=f"default: {settings.UPLOAD_DATASET} when --data-dir is a .zip, else {settings.DEFAULT_DATASET}",
    )
    parser.add_argument(
        "--data-dir",
        help="folder of MNIST IDX files or an mnist.npz (any dataset); with upload, a .zip of class folders, "
        "IDX files zipped, an .npz, or a folder of class folders",
    )
    parser.add_argument("--model", default=defaults.model, choices=list(settings.MODELS))
    parser.add_argument("--hidden-layers", default="128", help="units per hidden layer, e.g. 128 or 256,128")
    parser.add_argument("--activation", default=defaults.activation, choices=settings.ACTIVATIONS)
    parser.add_argument("--dropout", type=float, default=defaults.dropout)
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--optimizer", default=defaults.optimizer, choices=list(settings.OPTIMIZERS))
    parser.add_argument("--learning-rate", type=float, help="default: the optimizer's Keras default")
    parser.add_argument("--loss", default=defaults.loss, choices=list(settings.LOSSES))
    parser.add_argument("--metrics", default="accuracy", help="comma-separated: accuracy,precision,recall,f1")
    parser.add_argument("--validation-split", type=float, default=defaults.validation_split)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--early-stopping", type=int, metavar="PATIENCE", help="stop when val_loss stalls")
    parser.add_argument("--subsample", type=int, help="train on this many training images only")


def settings_from_args(args: argparse.Namespace) -> dict[str, object]:
    """The command line's settings by name, in the terms core.config.config_from_settings takes."""
    try:
        hidden = tuple(int(u) for u in args.hidden_layers.split(",") if u.strip()) if args.hidden_layers else ()
    except ValueError as error:
        raise CommandError(
            f"--hidden-layers takes whole numbers separated by commas; got {args.hidden_layers!r}."
        ) from error
    return {
        "dataset": args.dataset or default_dataset(args.data_dir),
        "data_dir": args.data_dir,
        "model": args.model,
        "hidden_layers": hidden,  # the width of each layer in turn
        "activation": args.activation,
        "dropout": args.dropout,
        "optimizer": args.optimizer,
        "learning_rate": args.learning_rate,  # None: the optimizer's Keras default
        "loss": args.loss,
        "metrics": args.metrics,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "validation_split": args.validation_split,
        "seed": args.seed,
        "early_stopping": args.early_stopping is not None,
        "patience": args.early_stopping,
        "subsample": args.subsample,
    }


def config_from_args(args: argparse.Namespace) -> TrainingConfig:
    return config_from_settings(settings_from_args(args))


def default_dataset(data_dir: str | None) -> str:
    """Your own images when --data-dir is a .zip, else the app's default dataset."""
    if data_dir and Path(data_dir).suffix.lower() == ".zip":
        return settings.UPLOAD_DATASET
    return settings.DEFAULT_DATASET


def load_data(config: TrainingConfig):
    """The run's dataset; your own images (a path) go through the same loader as the Train page's uploads."""
    from core.data.datasets import DatasetError, load_dataset
    from core.data.uploads import duplicate_summary, load_own_path

    try:
        if config.dataset != settings.UPLOAD_DATASET:
            return load_dataset(config.dataset, config.data_dir)
        own = load_own_path(config.data_dir)
    except DatasetError as error:
        raise CommandError(str(error)) from error
    for refused in own.card.refused:
        print(f"left out {refused.file}: {refused.reason}", file=sys.stderr)
    counts = ", ".join(
        f"{name} {count}" for name, count in zip(own.card.class_names, own.card.train_counts, strict=True)
    )
    print(f"Classes (training images): {counts}. {duplicate_summary(own.card)}")
    return own.dataset


def train_command(args: argparse.Namespace) -> int:
    from core.jobs.runner import job_runner_from_environment
    from core.jobs.training_job import training_job

    config = config_from_args(args)
    dataset = load_data(config)
    train_size, test_size = len(dataset.pixels_train), len(dataset.pixels_test)
    print(f"{dataset.title}: {train_size:,} training and {test_size:,} test images ({dataset.source})")
    runs = [TrainingRun(config, "keras")]
    if args.baseline:
        runs.append(TrainingRun(config, "baseline"))
    runner = job_runner_from_environment()
    runner.submit(runs, training_job(runs, dataset))
    try:
        for run in runs:
            _follow(run)
    except KeyboardInterrupt:
        for run in runs:
            run.request_stop()
        print("Stopping at the next batch…", file=sys.stderr)
        runner.wait_idle()
    runner.wait_idle()
    for run in runs:
        snap = run.snapshot()
        print(f"{run.label} {snap.status}: {snap.message}")
        if snap.test_metrics:
            print(f"{run.label} test: " + "  ".join(f"{k} {v:.4f}" for k, v in snap.test_metrics.items()))
    record = runs[0].to_record()
    if args.baseline:
        record["baseline"] = runs[1].to_record()
    if args.json:
        Path(args.json).write_text(json.dumps(record, indent=2))
    if args.save_model and runs[0].model is not None:
        from core.training.models import save_model

        save_model(runs[0].model, args.save_model, model_metadata(config, dataset))
        print(f"Saved the model to {args.save_model}")
    return 0 if runs[0].snapshot().status in ("finished", "stopped") else 1


def model_metadata(config: TrainingConfig, dataset) -> dict:
    return {
        "dataset": config.dataset,
        "dataset_title": dataset.title,
        "image_shape": list(dataset.image_shape),
        "class_names": list(dataset.class_names),
        "config": config.to_dict(),
    }


def _follow(run: TrainingRun) -> None:
    """Print each epoch as it ends, like Keras's verbose=2."""
    _follow_all([run])


def _follow_all(runs: list[TrainingRun]) -> None:
    """Print every run's epochs as they end, in the order they end (a race's interleave)."""
    printed = {run.run_id: 0 for run in runs}
    while True:
        active = False
        for run in runs:
            snap = run.snapshot()
            for row in snap.epochs[printed[run.run_id] :]:
                values = "  ".join(
                    f"{k} {v:.4f}"
                    for k, v in row.items()
                    if k not in ("epoch", "seconds", "learning_rate") and v is not None
                )
                print(
                    f"{run.label} epoch {row['epoch']}/{snap.total_epochs}  {values}  ({row['seconds']:.1f} s)",
                    flush=True,
                )
            printed[run.run_id] = len(snap.epochs)
            active = active or snap.status in ("queued", "running")
        if not active:
            return
        time.sleep(POLL_SECONDS)


def race_command(args: argparse.Namespace) -> int:
    from core.jobs.race_job import submit_race
    from core.jobs.runner import job_runner_from_environment
    from core.results.race import race_sentences, ranking_table
    from core.training.race import new_race, parse_vary

    # The race is checked before any data loads: a mistyped --vary costs nothing.
    spec = PRESETS[args.preset].spec if args.preset else parse_vary(args.vary)
    race = new_race(spec, config_from_args(args))
    dataset = load_data(race.base)
    print(f"{dataset.title}: racing {' vs '.join(run.label for run in race.runs)}, one epoch of each in turn")
    runner = job_runner_from_environment()
    submit_race(runner, race, dataset)
    try:
        _follow_all(race.runs)
    except KeyboardInterrupt:
        race.request_stop()
        print("Stopping every variant at its next batch…", file=sys.stderr)
    runner.wait_idle()
    snapshots = race.snapshots()
    for snap in snapshots:
        print(f"{snap.label} {snap.status}: {snap.message}")
    print()
    for row in ranking_table(snapshots, args.target):
        print("  ".join(f"{key} {_shown(value)}" for key, value in row.items()))
    print()
    for sentence in race_sentences(snapshots):
        print(sentence)
    if args.json:
        Path(args.json).write_text(json.dumps(race.to_record(), indent=2))
    return 0 if any(snap.status in ("finished", "stopped") for snap in snapshots) else 1


def _shown(value) -> str:
    if value is None:
        return "–"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def predict_command(args: argparse.Namespace) -> int:
    from core import libraries

    if not Path(args.model).is_file():
        # Said before Keras loads: a mistyped path should not cost the seconds TensorFlow takes to import.
        raise CommandError(
            f"Cannot load the model {args.model}: no such file. Pass a .keras file from `train --save-model`."
        )
    libraries.load("keras")
    from core.data.images import ImageError, prepare_digit_file
    from core.training.models import load_model

    try:
        model, metadata = load_model(args.model)
    except (ValueError, OSError) as error:
        raise CommandError(f"Cannot load the model {args.model}: {error}") from error
    size = tuple(metadata.get("image_shape") or model.input_shape[1:3])
    class_names = metadata.get("class_names") or [str(k) for k in range(model.output_shape[-1])]
    failures = 0
    for path in args.images:
        try:
            digit = prepare_digit_file(Path(path).read_bytes(), Path(path).name, size)
        except (ImageError, OSError) as error:
            # The other images are still read; the exit status says that one failed.
            print(f"{path}: {error}", file=sys.stderr)
            failures += 1
            continue
        probabilities = model.predict(digit.model_input[None], verbose=0)[0]
        best = int(probabilities.argmax())
        print(f"{path}: {class_names[best]} ({probabilities[best]:.1%})")
    return 1 if failures else 0


OUT_SUFFIXES = (".png", ".jpg", ".jpeg")


def explain_command(args: argparse.Namespace) -> int:
    """The digit, its gradient, gradient × input (and Grad-CAM for a CNN) and its prediction, in one picture."""
    from core import libraries

    # Said before Keras loads: a mistyped path should not cost the seconds TensorFlow takes to import.
    if not Path(args.model).is_file():
        raise CommandError(
            f"Cannot load the model {args.model}: no such file. Pass a .keras file from `train --save-model`."
        )
    if not Path(args.image).is_file():
        raise CommandError(f"Cannot read the image {args.image}: no such file.")
    out = Path(args.out)
    if out.suffix.lower() not in OUT_SUFFIXES or not out.parent.is_dir():
        raise CommandError(f"--out {args.out}: expected a .png or .jpg file in an existing folder.")
    libraries.load("keras")
    from core import charts
    from core.data.images import ImageError, prepare_digit_file
    from core.results import saliency
    from core.training.inference import UnsupportedModelError, snapshot_weights
    from core.training.models import load_model

    try:
        model, metadata = load_model(args.model)
        snapshot = snapshot_weights(model)
    except (ValueError, OSError) as error:  # UnsupportedModelError is a ValueError
        raise CommandError(f"Cannot explain with the model {args.model}: {error}") from error
    size = tuple(metadata.get("image_shape") or snapshot.input_shape)
    class_names = [str(name) for name in metadata.get("class_names") or range(model.output_shape[-1])]
    if args.class_name is not None and args.class_name not in class_names:
        raise CommandError(f"--class {args.class_name}: the model's classes are {', '.join(class_names)}.")
    chosen = class_names.index(args.class_name) if args.class_name is not None else None
    try:
        digit = prepare_digit_file(Path(args.image).read_bytes(), Path(args.image).name, size)
        explanation = saliency.explain(snapshot, digit.model_input, chosen)
    except (ImageError, UnsupportedModelError, OSError) as error:
        raise CommandError(f"{args.image}: {error}") from error
    predicted = explanation.predicted
    line = f"{args.image}: {class_names[predicted]} ({explanation.probabilities[predicted]:.1%})"
    if not explanation.asks_about_prediction:
        asked = explanation.class_index
        line += f"; maps for {class_names[asked]} ({explanation.probabilities[asked]:.1%})"
    charts.explanation_sheet(explanation, class_names, line.split(": ", 1)[1]).save(out)
    print(f"{line}. Wrote {out}")
    return 0


def evaluate_command(args: argparse.Namespace) -> int:
    """The model's accuracy, per-class scores and confusion matrix on labelled class folders."""
    from core import libraries
    from core.data.datasets import DatasetError
    from core.data.uploads import read_class_folders
    from core.results.inspection import per_class_table
    from core.training.evaluation import confusion_matrix

    if not Path(args.model).is_file():
        # Said before Keras loads: a mistyped path should not cost the seconds its import takes.
        raise CommandError(
            f"Cannot load the model {args.model}: no such file. Pass a .keras file from `train --save-model`."
        )
    if not Path(args.images).exists():
        raise CommandError(f"--images {args.images}: no such folder or .zip.")
    libraries.load("keras")
    model, class_names, size = _saved_model(args.model)
    try:
        found, refused = read_class_folders(args.images, size)
    except DatasetError as error:
        raise CommandError(str(error)) from error
    unknown = [name for name in found.class_names if name not in class_names]
    if unknown:
        raise CommandError(
            f"--images {args.images}: the folder(s) {', '.join(unknown)} are not among the model's classes "
            f"({', '.join(class_names)}); name each folder after the class its images show."
        )
    if not len(found.labels):
        raise CommandError(f"--images {args.images}: no readable image in a class folder.")
    for item in refused:
        print(f"left out {item.file}: {item.reason}", file=sys.stderr)
    y_true = np.array([class_names.index(found.class_names[label]) for label in found.labels])
    probabilities = model.predict(found.pixels.astype(np.float32) / 255, verbose=0)
    counts = confusion_matrix(y_true, probabilities.argmax(axis=1), len(class_names))
    report = {
        "images": len(y_true),
        "accuracy": float(np.trace(counts) / counts.sum()),
        "per_class": [row for row in per_class_table(counts, class_names) if row["support"]],
        "class_names": class_names,
        "confusion": counts.tolist(),
        "left_out": [{"file": item.file, "reason": item.reason} for item in refused],
    }
    print_evaluation(args.images, report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


def _saved_model(path: str) -> tuple[object, list[str], tuple[int, int]]:
    """A saved model, its class names and its input size (height, width)."""
    from core.training.models import load_model

    try:
        model, metadata = load_model(path)
    except (ValueError, OSError) as error:
        raise CommandError(f"Cannot load the model {path}: {error}") from error
    size = tuple(metadata.get("image_shape") or model.input_shape[1:3])
    class_names = [str(name) for name in metadata.get("class_names") or range(model.output_shape[-1])]
    return model, class_names, size


def print_evaluation(source: str, report: dict) -> None:
    """The accuracy, a per-class table and the confusion matrix (rows: true class, columns: predicted)."""
    print(f"{source}: {report['images']:,} images, accuracy {report['accuracy']:.4f}")
    width = max(5, *(len(name) for name in report["class_names"]))
    print(f"{'class':<{width}}  precision  recall  f1      support")
    for row in report["per_class"]:
        scores = f"{row['precision']:<9.4f}  {row['recall']:<6.4f}  {row['f1']:<6.4f}"
        print(f"{row['class']:<{width}}  {scores}  {row['support']}")
    print("confusion (rows: true class, columns: predicted class)")
    print(" " * width + "".join(f" {name:>{width}}" for name in report["class_names"]))
    for name, row in zip(report["class_names"], report["confusion"], strict=True):
        if sum(row):
            print(f"{name:<{width}}" + "".join(f" {count:>{width}}" for count in row))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            return train_command(args)
        if args.command == "race":
            return race_command(args)
        if args.command == "explain":
            return explain_command(args)
        if args.command == "evaluate":
            return evaluate_command(args)
        return predict_command(args)
    except (CommandError, ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
