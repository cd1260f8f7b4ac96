"""`python -m core train`: one line per epoch, a JSON run record, a saved model; bad arguments exit cleanly."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, timeout: int = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core", *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout
    )


def test_train_prints_epochs_and_writes_the_run_record_and_model(tmp_path):
    record_path, model_path = tmp_path / "run.json", tmp_path / "digits.keras"
    result = run_cli(
        "train",
        "--dataset",
        "digits",
        "--epochs",
        "3",
        "--metrics",
        "accuracy,f1",
        "--baseline",
        "--json",
        str(record_path),
        "--save-model",
        str(model_path),
    )
    assert result.returncode == 0, result.stderr
    epoch_lines = [line for line in result.stdout.splitlines() if line.startswith("Keras epoch")]
    assert len(epoch_lines) == 3 and "val_accuracy" in epoch_lines[0]
    assert sum(line.startswith("scikit-learn MLP epoch") for line in result.stdout.splitlines()) == 3
    record = json.loads(record_path.read_text())
    assert record["config"]["epochs"] == 3 and len(record["history"]) == 3
    assert set(record["test_metrics"]) == {"loss", "accuracy", "f1"} and record["fit_seconds"] > 0
    assert record["baseline"]["kind"] == "baseline" and len(record["baseline"]["history"]) == 3
    assert model_path.stat().st_size > 10_000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--epochs", "0"], "epochs must be between 1 and 100"),
        (["--learning-rate", "-1"], "learning_rate"),
        (["--hidden-layers", "12x"], "--hidden-layers takes whole numbers"),
        (["--metrics", "accuracy,auc"], "Unknown metric 'auc'"),
        (["--dataset", "folder", "--data-dir", "/nonexistent/folder"], "/nonexistent/folder"),
    ],
)
def test_bad_arguments_give_one_line_and_a_nonzero_exit(args, message):
    result = run_cli("train", "--dataset", "digits", *args) if "--dataset" not in args else run_cli("train", *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_command_lines_settings_build_the_config_as_a_link_or_the_form_would():
    from core.cli import build_parser, config_from_args, settings_from_args
    from core.config import TrainingConfig, config_from_settings

    args = build_parser().parse_args(
        ["train", "--dataset", "digits", "--hidden-layers", "256,128", "--early-stopping", "3", "--subsample", "200"]
    )
    assert settings_from_args(args)["hidden_layers"] == (256, 128)
    expected = TrainingConfig(dataset="digits", hidden_layers=(256, 128), early_stopping_patience=3, subsample=200)
    assert config_from_args(args) == config_from_settings(settings_from_args(args)) == expected
    with pytest.raises(ValueError, match="learning_rate must be between"):
        config_from_args(build_parser().parse_args(["train", "--learning-rate", "0"]))
