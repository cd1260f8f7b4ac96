"""Experiments page: compare runs, export a run's model, record, history and code, import someone's run."""

import json

import streamlit as st

from core import charts
from core.results import experiments as store_lib
from core.results.experiments import IMPORTED, RecordError, RunStore
from core.results.export import keras_script
from core.results.notebook import notebook_json
from core.results.tensorboard_export import tensorboard_zip
from pages import rooms
from pages.looks import palette
from pages.session import Keys
from pages.streamlit_patches import route_through_app

route_through_app()  # a fresh server's first visitor may land here without app.py: send the run through it


def collect_runs(store: RunStore) -> list[tuple[dict, str]]:
    """(record, source) for this session's runs, the saved ones and the imported ones; notes on bad files."""
    session = [run.to_record() for run in st.session_state.get(Keys.RUN_HISTORY, [])]
    stored = store.load()
    # On a shared server strangers' runs stay hidden: yours, and those of your rooms (README: "Whose runs").
    visible = rooms.visible_run_ids() if store_lib.shared_server() else None
    saved = store_lib.visible_records(stored.records, visible)
    if visible is not None:
        st.caption("This server is shared: you see your own runs and those of the workshop rooms you are in.")
    for note in stored.notes if visible is None else ():
        st.warning(note)
    for run in st.session_state.get(Keys.RUN_HISTORY, []):
        save_error = run.snapshot().details.get(store_lib.SAVE_ERROR_DETAIL)
        if save_error:
            st.warning(save_error)
    return store_lib.merge_runs(session, saved, st.session_state.get(Keys.EXPERIMENTS_IMPORTED, []))


def describe(record: dict, source: str) -> str:
    config = store_lib.config_of(record)
    kind = store_lib.KINDS.get(record.get("kind", "keras"), "Keras")
    return f"{record['run_id']} · {kind} · {config.optimizer} · {len(record['history'])} epochs · {source}"


def draw_overlay(chosen: list[dict]) -> None:
    """One chart per metric, every chosen run in its own colour, named by what differs."""
    labels = store_lib.overlay_labels(chosen)
    snapshots = [store_lib.record_to_snapshot(record, label) for record, label in zip(chosen, labels, strict=True)]
    metrics = list(dict.fromkeys(["loss", *(m for snap in snapshots for m in snap.config.metrics)]))
    columns = st.columns(2)
    for index, metric in enumerate(metrics):
        with columns[index % 2]:
            figure = charts.training_curves(snapshots, metric, show_batches=False, palette=palette())
            st.plotly_chart(figure, key=f"experiments.chart.{metric}")


def snapshot_of(record: dict):
    """This session's own snapshot of a run (with its live points and confusion matrix), else the record's."""
    for run in st.session_state.get(Keys.RUN_HISTORY, []):
        if run.run_id == record["run_id"]:
            return run.snapshot()
    return store_lib.record_to_snapshot(record)


def export_run(record: dict, source: str, store: RunStore) -> None:
    """Download buttons for the model, the record and the history; the code that reproduces the run."""
    run_id = record["run_id"]
    model_path = store.model_path(run_id) if source != IMPORTED else None
    columns = st.columns(3)
    if model_path is not None and model_path.is_file():
        columns[0].download_button(
            "Model (.keras)",
            model_path.read_bytes(),
            f"{run_id}.keras",
            "application/zip",
            key=Keys.EXPERIMENTS_GET_MODEL,
        )
    else:
        columns[0].caption("No Keras model for this run (baseline, imported, or still training).")
    columns[1].download_button(
        "Run record (JSON)",
        json.dumps(record, indent=1),
        f"{run_id}.json",
        "application/json",
        key=Keys.EXPERIMENTS_GET_JSON,
    )
    columns[2].download_button(
        "History (CSV)", store_lib.history_csv(record), f"{run_id}.csv", "text/csv", key=Keys.EXPERIMENTS_GET_CSV
    )
    # Made when clicked (Streamlit calls the function then), so the page does not build them on every rerun.
    snapshot = snapshot_of(record)
    more = st.columns(3)
    if record.get("kind", "keras") == "keras":
        more[0].download_button(
            "Notebook (.ipynb)",
            lambda: notebook_json(snapshot),
            f"{run_id}.ipynb",
            "application/x-ipynb+json",
            key="experiments.get_notebook",
            help="The lesson's steps in this run's own words, and the code that trains it again (Jupyter, Colab).",
        )
    more[1].download_button(
        "TensorBoard (zip)",
        lambda: tensorboard_zip([snapshot], palette=palette()),
        f"{run_id}-tensorboard.zip",
        "application/zip",
        key="experiments.get_tensorboard",
        help="Event files: unzip, then `tensorboard --logdir` on the folder.",
    )
    if record.get("kind", "keras") != "keras":
        return
    config = store_lib.config_of(record)
    epochs = max(config.epochs, len(record["history"]))
    script = keras_script(config, epochs, bool(record.get("learning_rate_changes")))
    more[2].download_button(
        "Script (.py)",
        script,
        f"{run_id}.py",
        "text/x-python",
        key="experiments.get_script",
        help="A standalone Keras script that trains this run again on the same data (DATA_DIR at its top).",
    )
    if st.toggle("Show the code", key=Keys.EXPERIMENTS_SHOW_CODE):
        st.code(script, language="python")


def import_record() -> None:
    upload = st.file_uploader("Import a run record (JSON)", type="json", key=Keys.EXPERIMENTS_IMPORT)
    if upload is None:
        return
    try:
        record = store_lib.parse_record(upload.getvalue())
    except RecordError as error:
        st.error(f"{upload.name} was not imported: {error}")
        return
    imported = st.session_state.setdefault(Keys.EXPERIMENTS_IMPORTED, [])
    if all(existing.get("run_id") != record.get("run_id") for existing in imported):
        imported.append(record)
        st.rerun()  # list it at once, above


st.title("Experiments")
st.write(
    "How many epochs, which optimizer, how big a network? Compare runs side by side: pick runs to "
    "overlay their curves (solid training, dashed validation), then take a run away as a Keras model, "
    "its record, its history or a script that trains it again."
)

store = RunStore()
runs = collect_runs(store)
st.caption(
    f"Finished runs are saved in `{store.folder}` and listed here when you come back. At most "
    f"{store.max_runs} runs and {store.max_bytes // 2**20} MB are kept: the oldest are removed first."
)

if not runs:
    st.info("No runs yet: train a model on the **Train** page, or import a run record below.")
    st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")
else:
    records = {record["run_id"]: (record, source) for record, source in runs}
    st.dataframe(store_lib.runs_table(*zip(*runs, strict=True)), hide_index=True, width="stretch")

    st.subheader("Overlay runs")
    drawable = [run_id for run_id, (record, _) in records.items() if record["history"]]
    chosen = st.multiselect(
        "Runs to compare",
        drawable,
        default=drawable[:2],
        format_func=lambda run_id: describe(*records[run_id]),
        key=Keys.EXPERIMENTS_OVERLAY,
    )
    if chosen:
        draw_overlay([records[run_id][0] for run_id in chosen])
        overlaid = [snapshot_of(records[run_id][0]) for run_id in chosen]
        st.download_button(
            "These runs for TensorBoard (zip)",
            lambda: tensorboard_zip(overlaid, palette=palette()),
            "runs-tensorboard.zip",
            "application/zip",
            key="experiments.get_tensorboard_overlay",
        )

    st.subheader("Export a run")
    run_id = st.selectbox(
        "Run", list(records), format_func=lambda run_id: describe(*records[run_id]), key=Keys.EXPERIMENTS_EXPORT
    )
    export_run(*records[run_id], store)
    deletable = [run_id for run_id, (_, source) in records.items() if source != IMPORTED]
    deletable = [run_id for run_id in deletable if store.record_path(run_id).is_file()]
    with st.expander("Delete saved runs"):
        doomed = st.multiselect("Runs to delete from the folder", deletable, key=Keys.EXPERIMENTS_DELETE)
        if st.button("Delete", disabled=not doomed, key=Keys.EXPERIMENTS_DELETE_BUTTON):
            for run_id in doomed:
                store.delete(run_id)
            st.rerun()

st.subheader("Import a run")
st.write("View someone else's curves beside yours: upload a run record they exported here (JSON, at most 1 MB).")
import_record()
