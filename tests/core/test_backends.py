"""The engine on every Keras backend: train, stop, divergence, CNN, save/load and CLI, one process per backend.

Keras fixes its backend when it is first imported, so each backend's check runs in a fresh Python
process (this file run as a script with KERAS_BACKEND set); the test asserts on what it reports.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from core.libraries import BACKENDS, COMPILE_CACHE_ENV  # noqa: E402


def check_engine() -> dict:
    """Run the engine through its paces on the embedded digits; return what happened, as plain data."""
    from core import libraries

    libraries.load("keras")
    import numpy as np

    from core.cli import main as cli_main
    from core.config import TrainingConfig
    from core.data.datasets import load_dataset
    from core.training.engine import train
    from core.training.models import load_model, save_model
    from core.training.run import TrainingRun

    digits = load_dataset("digits")
    config = TrainingConfig(dataset="digits", epochs=3, batch_size=32, metrics=("accuracy", "f1"))
    report: dict = {"versions": libraries.versions(), "runs_on": libraries.runs_on()}

    runs = [TrainingRun(config), TrainingRun(config)]
    for run in runs:
        train(run, digits)
    snap = runs[0].snapshot()
    report["trained"] = {
        "status": snap.status,
        "losses": [row["loss"] for row in snap.epochs],
        "val_f1": [row["val_f1"] for row in snap.epochs],
        "test_accuracy": snap.test_metrics["accuracy"],
        "first_epoch_updates": sum(1 for point in snap.batches if point["epoch"] == 1),
        "same_seed_losses": [row["loss"] for row in runs[1].snapshot().epochs],
    }

    changed = TrainingRun(config.replace(epochs=2))
    changed.request_learning_rate(0.0005)  # taken at the first batch boundary
    train(changed, digits)
    report["learning_rate"] = [row["learning_rate"] for row in changed.snapshot().epochs]

    stopped = TrainingRun(config.replace(epochs=50))
    stopped.request_stop()  # honoured at the first batch boundary
    train(stopped, digits)
    report["stopped"] = {"status": stopped.snapshot().status, "epochs": len(stopped.snapshot().epochs)}

    diverged = TrainingRun(config.replace(optimizer="sgd", learning_rate=10.0, hidden_layers=(512, 512, 512)))
    train(diverged, digits)
    report["diverged"] = {"status": diverged.snapshot().status, "message": diverged.snapshot().message}

    cnn = TrainingRun(config.replace(model="cnn", loss="categorical_crossentropy", epochs=1))
    train(cnn, digits)
    report["cnn"] = {"status": cnn.snapshot().status, "test_accuracy": cnn.snapshot().test_metrics["accuracy"]}

    if report["versions"]["backend"] == "jax":
        report["device_fit"] = device_fit_against_keras_fit(digits, config)
        # The CNN's pooling and convolutions in core.training.jax_layers' forms, against Keras's own.
        report["device_fit_cnn"] = device_fit_against_keras_fit(digits, config.replace(model="cnn"))

    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "digits.keras")
        save_model(runs[0].model, path, {"dataset": "digits"})
        loaded, metadata = load_model(path)
        images = digits.x_test[:50]
        before = runs[0].model.predict(images, verbose=0)
        after = loaded.predict(images, verbose=0)
        report["saved"] = {"metadata": metadata, "max_difference": float(np.max(np.abs(before - after)))}
        # The CNN as trained (core.training.jax_layers' forms on JAX) saves as Keras's own layers.
        path = str(Path(folder) / "cnn.keras")
        save_model(cnn.model, path, {"dataset": "digits"})
        loaded, _ = load_model(path)
        difference = np.max(np.abs(cnn.model.predict(images, verbose=0) - loaded.predict(images, verbose=0)))
        report["saved_cnn"] = {
            "max_difference": float(difference),
            "layer_modules": sorted({type(layer).__module__.split(".")[0] for layer in loaded.layers}),
        }

        record_path = Path(folder) / "run.json"
        exit_code = cli_main(["train", "--dataset", "digits", "--epochs", "1", "--json", str(record_path)])
        record = json.loads(record_path.read_text())
        report["cli"] = {"exit_code": exit_code, "epochs": len(record["history"]), "status": record["status"]}
    report["tensorflow_imported"] = "tensorflow" in sys.modules
    report["programs_kept"] = libraries.compiled_programs_kept()
    return report


def device_fit_against_keras_fit(digits, config) -> dict:
    """The JAX device loop and Keras's own fit, one epoch over the same batches from the same weights."""
    import keras
    import numpy as np

    from core.training import models
    from core.training.jax_fit import JaxFit
    from core.training.jax_layers import in_fast_form

    images, labels = digits.pixels_train[:1000], digits.y_train[:1000]  # 31 full batches and one of 8
    twins = []
    for _ in range(2):
        model = models.build_model(config, digits.image_shape, digits.num_classes)
        models.compile_model(model, config, digits.num_classes, jit_compile=True, steps_per_execution=1)
        twins.append(model)
    order = np.random.default_rng(0).permutation(len(images))
    fitter = JaxFit(twins[0], images, labels, batch_size=32, steps_per_update=5, pixel_max=digits.pixel_max_raw, seed=0)
    fitter.shuffle = SimpleNamespace(permutation=lambda count: order)  # the order Keras is given below
    fitter.fit(1)
    fast = [any(in_fast_form(layer) for layer in twin.layers) for twin in twins]
    assert fast == [config.model == "cnn", False], "JaxFit's model in core.training.jax_layers' forms; Keras's not"
    scaled = images[order].astype("float32") / digits.pixel_max_raw
    history = twins[1].fit(scaled, labels[order], batch_size=32, epochs=1, shuffle=False, verbose=0)
    difference = max(float(np.max(np.abs(a - b))) for a, b in zip(*(twin.get_weights() for twin in twins), strict=True))
    losses = [float(keras.ops.convert_to_numpy(twins[0].metrics[0].result())), history.history["loss"][-1]]
    return {"max_weight_difference": difference, "losses": losses}


def backend_report(backend: str, compile_cache: Path) -> dict:
    environment = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    environment[COMPILE_CACHE_ENV] = str(compile_cache)
    finished = subprocess.run(
        [sys.executable, __file__], capture_output=True, text=True, env=environment, cwd=ROOT, timeout=300, check=False
    )
    reports = [line for line in finished.stdout.splitlines() if line.startswith("{")]
    assert finished.returncode == 0 and reports, f"The {backend} check failed:\n{finished.stderr[-3000:]}"
    return json.loads(reports[-1])


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_engine_trains_stops_saves_and_runs_the_cli_on_each_backend(backend, tmp_path):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed: `pip install -r requirements-dev.txt` installs it")
    report = backend_report(backend, tmp_path / "compiled")

    assert report["versions"]["backend"] == backend
    assert {"tensorflow": "TensorFlow", "jax": "JAX"}[backend] in report["runs_on"]
    trained = report["trained"]
    assert trained["status"] == "finished" and len(trained["losses"]) == 3
    assert trained["losses"][-1] < trained["losses"][0], "the loss falls while the model learns"
    assert trained["test_accuracy"] > 0.85 and all(0 <= f1 <= 1 for f1 in trained["val_f1"])
    assert trained["first_epoch_updates"] >= 20, "live updates within every epoch"
    assert trained["same_seed_losses"] == pytest.approx(trained["losses"], rel=1e-5), "same seed, same curves"
    assert report["learning_rate"] == pytest.approx([0.0005, 0.0005]), "a learning-rate change is taken mid-run"
    if backend == "jax":  # the device loop (core.training.jax_fit) computes what Keras's fit computes
        assert report["device_fit"]["max_weight_difference"] < 1e-4, report["device_fit"]
        assert report["device_fit"]["losses"][0] == pytest.approx(report["device_fit"]["losses"][1], rel=1e-4)
        cnn = report["device_fit_cnn"]
        assert cnn["max_weight_difference"] < 1e-4 and cnn["losses"][0] == pytest.approx(cnn["losses"][1], rel=1e-4)
    assert report["stopped"] == {"status": "stopped", "epochs": report["stopped"]["epochs"]}
    assert report["stopped"]["epochs"] <= 1
    assert report["diverged"]["status"] == "failed" and "diverged" in report["diverged"]["message"]
    assert report["cnn"]["status"] == "finished" and report["cnn"]["test_accuracy"] > 0.5
    assert report["saved"]["metadata"] == {"dataset": "digits"} and report["saved"]["max_difference"] < 1e-5
    assert report["saved_cnn"] == {"max_difference": report["saved_cnn"]["max_difference"], "layer_modules": ["keras"]}
    assert report["saved_cnn"]["max_difference"] < 1e-5
    assert report["cli"] == {"exit_code": 0, "epochs": 1, "status": "finished"}
    if backend == "jax":
        assert not report["tensorflow_imported"], "a JAX run must not import TensorFlow (core.libraries)"
        assert report["programs_kept"], "XLA's programs are kept in the compile cache"


def test_the_compile_cache_folder_is_chosen_from_the_environment(tmp_path):
    from core import libraries

    assert libraries.compile_cache_folder({}) == libraries.DEFAULT_COMPILE_CACHE
    assert libraries.compile_cache_folder({COMPILE_CACHE_ENV: " off "}) is None
    assert libraries.compile_cache_folder({COMPILE_CACHE_ENV: str(tmp_path)}) == str(tmp_path)


def test_the_backend_is_chosen_the_keras_way(monkeypatch):
    from core import libraries

    with pytest.raises(ValueError, match="tensorflow, jax"):
        libraries.choose_backend("theano")
    if not libraries.is_loaded("keras"):
        monkeypatch.setenv("KERAS_BACKEND", "jax")
        assert libraries.choose_backend() == "jax"
        monkeypatch.delenv("KERAS_BACKEND")
        assert libraries.choose_backend() == libraries.DEFAULT_BACKEND
    else:  # Keras fixed its backend at import: a later choice cannot change it, and says which is in force
        import keras

        assert libraries.choose_backend("jax") == keras.backend.backend()


def test_the_speed_benchmark_runs_and_prints_its_ratio(capsys):
    """bench/ holds scripts run by hand; this only keeps train_speed.py from rotting (digits, 2 epochs)."""
    spec = importlib.util.spec_from_file_location("train_speed", ROOT / "bench" / "train_speed.py")
    train_speed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train_speed)

    assert train_speed.main(["--quick"]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"ratio engine/plain: \d+\.\d\dx wall", printed), printed
    assert "plain" in printed and "engine" in printed


if __name__ == "__main__":
    print(json.dumps(check_engine()))
