"""The notebook export: the lesson's steps in the run's own sentences, and code that runs top to bottom in a kernel."""

import importlib.util
import json
import os
import sys
from pathlib import Path

import nbformat
import pytest

from core.config import TrainingConfig
from core.data.datasets import DEBIAN_FASHION_MNIST, FASHION_MNIST_DIR_ENV
from core.results import lesson
from core.results.notebook import notebook_json, run_notebook
from core.training.engine import train
from core.training.run import TrainingRun


@pytest.fixture(scope="module")
def digits_run(digits):
    run = TrainingRun(TrainingConfig(dataset="digits", epochs=3, validation_split=0.1, metrics=("accuracy",)))
    train(run, digits)
    return run.snapshot()


def python_kernel_missing() -> str | None:
    for module in ("nbclient", "ipykernel"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -r requirements-dev.txt)"
    return None


def kernel_of_this_python(folder: Path, monkeypatch) -> str:
    """A Jupyter kernel that runs this very interpreter (sys.executable), found before any other kernel spec.

    The machine's "python3" kernel may belong to another Python (a user-wide spec with its own path): the
    notebook must run against the packages this test runs with.
    """
    name = "training-studio-tests"
    spec = folder / "kernels" / name
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": name, "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(folder))  # searched first (jupyter_core.paths.jupyter_path)
    return name


def test_the_notebook_tells_the_lesson_with_the_runs_own_sentences(digits_run):
    notebook = nbformat.reads(notebook_json(digits_run), as_version=4)
    assert notebook.cells[0].cell_type == "code" and "pip" in notebook.cells[0].source
    assert all(name in notebook.cells[0].source for name in ("keras", "tensorflow", "scikit-learn", "matplotlib"))
    markdown = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    for number in range(1, lesson.STEP_COUNT + 1):
        assert f"Step {number} of {lesson.STEP_COUNT}" in markdown
    for sentence in lesson.reading(digits_run):
        assert sentence in markdown
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "callbacks=[live_plot]" in code and "/usr/" not in code and "/home/" not in code
    assert f"{digits_run.epochs[-1]['loss']:.5f}".rstrip("0") in code  # the recorded curves, as data


def test_a_mnist_notebook_downloads_mnist_and_falls_back_to_the_digits():
    notebook = run_notebook(TrainingRun(TrainingConfig(dataset="mnist")).snapshot())
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "keras.datasets.mnist.load_data()" in code and "except Exception" in code and "load_digits()" in code


def test_a_folder_runs_notebook_trains_on_its_own_data_named_at_the_top():
    notebook = run_notebook(TrainingRun(TrainingConfig(dataset="folder", data_dir="/home/someone/my-data")).snapshot())
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    assert 'DATA_DIR = "/home/someone/my-data"' in code[1]  # the parameters, first after the install cell
    assert "load_data(DATA_DIR)" in "\n".join(code) and "keras.datasets" not in "\n".join(code)
    assert "load_digits" not in "\n".join(code[2:])  # never the digits in its place


def test_a_fashion_mnist_notebook_reads_the_local_files_first(tmp_path, monkeypatch):
    monkeypatch.setenv(FASHION_MNIST_DIR_ENV, str(tmp_path))
    notebook = run_notebook(TrainingRun(TrainingConfig(dataset="fashion_mnist")).snapshot())
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert f"DATA_DIR = {json.dumps(str(DEBIAN_FASHION_MNIST))}" in code  # tmp_path holds no IDX files
    assert code.index("load_data(DATA_DIR)") < code.index("keras.datasets.fashion_mnist.load_data()")


def test_the_digits_notebook_runs_top_to_bottom_in_a_fresh_kernel(digits_run, tmp_path, monkeypatch):
    missing = python_kernel_missing()
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{missing}: CI must execute the notebook (.ci/run installs requirements-dev.txt).")
        pytest.skip(missing)
    from nbclient import NotebookClient

    notebook = nbformat.reads(notebook_json(digits_run), as_version=4)
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")  # the kernel inherits it: no TensorFlow start-up chatter
    resources = {"metadata": {"path": str(tmp_path)}}
    kernel = kernel_of_this_python(tmp_path / "jupyter", monkeypatch)
    NotebookClient(notebook, timeout=300, kernel_name=kernel, resources=resources).execute()
    fit_cell = next(cell for cell in notebook.cells if "callbacks=[live_plot]" in cell.source)
    printed = "".join(output.get("text", "") for output in fit_cell.outputs if output.output_type == "stream")
    accuracy = float(printed.split("Test accuracy:")[1].split()[0])
    assert accuracy > 0.8, printed[-2000:]
    assert any("image/png" in output.get("data", {}) for output in fit_cell.outputs), "the live plot drew nothing"
    recorded = [cell for cell in notebook.cells if cell.cell_type == "code"][-1]  # the recorded curves
    assert any("image/png" in output.get("data", {}) for output in recorded.outputs), recorded.outputs


def test_an_upload_run_never_shows_its_key_and_asks_where_its_data_is():
    config = TrainingConfig(dataset="upload", data_dir="upload-private-key")
    notebook = notebook_json(TrainingRun(config).snapshot())
    assert "private-key" not in notebook and "set `DATA_DIR`" in notebook
