"""The Experiments page and the Train page's link settings, through AppTest, with the run folder in tmp_path."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.results.experiments import RUNS_DIR_ENV
from tests.polling import rerun_until

TIMEOUT = 120
APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture(autouse=True)
def runs_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "runs"
    monkeypatch.setenv(RUNS_DIR_ENV, str(folder))
    return folder


def open_page(page: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    at.switch_page(page).run()
    return at


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def train(at: AppTest, optimizer: str, models: str) -> None:
    """One run on the digits, waited for until it has finished (and the worker has saved it)."""
    at.selectbox(key="train.optimizer").set_value(optimizer).run()
    at.radio(key="train.models_to_train").set_value(models).run()
    button(at, "Train").click().run()
    rerun_until(
        at, lambda at: "Finished" in " ".join(p.proto.text for p in at.get("progress")), TIMEOUT, "the run has finished"
    )


def legend_names(at: AppTest) -> set[str]:
    return {trace["name"] for trace in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]}


def test_experiments_page_without_runs_says_what_to_do():
    at = open_page("pages/experiments.py")
    assert not at.exception
    assert "No runs yet" in at.info[0].value
    assert "oldest are removed first" in at.caption[0].value


def test_two_runs_overlay_export_and_survive_a_new_session(runs_dir):
    at = open_page("pages/train.py", {"dataset": "digits", "epochs": "2", "batch_size": "256"})
    train(at, "adam", "keras")
    train(at, "sgd", "baseline")  # the baseline is quick: no Keras compile
    assert not at.exception
    assert len(list(runs_dir.glob("*.json"))) == 2 and len(list(runs_dir.glob("*.keras"))) == 1

    at.switch_page("pages/experiments.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["optimizer"]) == ["adam", "sgd"] and set(table["source"]) == {"this session"}
    # One chart per metric (loss, accuracy); the legend names what differs between the runs.
    assert len(at.get("plotly_chart")) == 2
    names = legend_names(at)
    assert "Keras, optimizer=adam, learning_rate=0.001" in names
    assert "scikit-learn MLP, optimizer=sgd, learning_rate=0.01" in names
    labels = {b.label for b in at.get("download_button")}
    assert {"Model (.keras)", "Run record (JSON)", "History (CSV)"} <= labels
    assert {"Notebook (.ipynb)", "Script (.py)", "TensorBoard (zip)", "These runs for TensorBoard (zip)"} <= labels
    at.toggle(key="experiments.show_code").set_value(True).run()
    assert "model.compile(" in at.code[0].value and "load_digits" in at.code[0].value

    # A reload is a new session: the finished runs come back from the folder.
    fresh = open_page("pages/experiments.py")
    assert not fresh.exception
    table = fresh.dataframe[0].value
    assert len(table) == 2 and set(table["source"]) == {"saved"}
    assert len(fresh.get("plotly_chart")) == 2

    fresh.expander[0].multiselect(key="experiments.delete").set_value([table["run"][0]]).run()
    button(fresh, "Delete").click().run()
    assert len(fresh.dataframe[0].value) == 1 and len(list(runs_dir.glob("*.json"))) == 1


def test_a_corrupt_file_in_the_folder_is_skipped_with_a_note(runs_dir):
    runs_dir.mkdir(parents=True)
    (runs_dir / "broken.json").write_text("{not json")
    at = open_page("pages/experiments.py")
    assert not at.exception
    assert "Skipped broken.json" in " ".join(w.value for w in at.warning)


def test_import_a_run_record_and_refuse_anything_else():
    at = open_page("pages/experiments.py")
    record = {
        "version": 1,
        "run_id": "abc123",
        "kind": "keras",
        "config": {"dataset": "digits", "epochs": 3, "optimizer": "sgd", "learning_rate": 0.1},
        "history": [{"epoch": e, "loss": 1.0 / e, "accuracy": 0.5 + e / 10} for e in (1, 2, 3)],
        "test_metrics": {"accuracy": 0.8},
    }
    at.file_uploader(key="experiments.import").upload("theirs.json", json.dumps(record).encode()).run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert list(table["source"]) == ["imported"] and list(table["test accuracy"]) == [0.8]
    assert len(at.get("plotly_chart")) == 2

    at.file_uploader(key="experiments.import").set_value(("evil.json", b'{"version": 1, "exec": "rm"}', "x")).run()
    assert "evil.json was not imported" in at.error[0].value and "lacks config, history" in at.error[0].value


def test_a_link_sets_the_sidebar_and_bad_values_are_clamped_with_a_note():
    query = {"dataset": "folder", "data_dir": "/etc", "epochs": "500", "optimizer": "sgd", "learning_rate": "0.05"}
    at = open_page("pages/train.py", {**query, "units": "100", "utm_source": "mail"})
    assert not at.exception
    assert at.slider(key="train.epochs").value == 100
    assert at.select_slider(key="train.units").value == 128
    assert at.selectbox(key="train.optimizer").value == "sgd"
    assert at.number_input(key="train.learning_rate.sgd").value == pytest.approx(0.05)
    # The dataset stays the default: a link cannot point the server at a folder.
    assert at.selectbox(key="train.dataset").value == "mnist"
    notes = " ".join(w.value for w in at.warning)
    assert "cannot choose a folder" in notes and "outside 1–100" in notes and "units 100" in notes
    assert "utm_source" not in notes
    # The URL now holds the corrected settings, ready to share, and no folder.
    assert at.query_params["epochs"] == "100" and "data_dir" not in at.query_params
    at.slider(key="train.epochs").set_value(7).run()
    assert at.query_params["epochs"] == "7"
