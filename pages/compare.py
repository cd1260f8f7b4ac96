"""Compare page: the Keras model against the scikit-learn MLP baseline, on the same data."""

import streamlit as st

from core import charts
from core.results.comparison import comparison_reading, comparison_table
from core.training.baseline import baseline_settings
from pages.live import live
from pages.looks import palette
from pages.session import Keys, current_runs
from pages.streamlit_patches import route_through_app

route_through_app()  # a fresh server's first visitor may land here without app.py: send the run through it

X_AXES = {"epoch": "Epochs", "seconds": "Wall-clock seconds (a race)"}


def draw_comparison(snapshots) -> None:
    """Overlaid curves per metric, then the table and the reading, once both are scored."""
    x_axis = st.session_state.get(Keys.COMPARE_X_AXIS, "epoch")
    metrics = ("loss", *snapshots[0].config.metrics)
    columns = st.columns(2)
    for index, metric in enumerate(metrics):
        with columns[index % 2]:
            figure = charts.training_curves(snapshots, metric, x_axis=x_axis, show_batches=False, palette=palette())
            st.plotly_chart(figure, key=f"compare.chart.{metric}")
    table = comparison_table(snapshots)
    st.dataframe(charts.readable_table(table), hide_index=True, width="stretch")
    scored = table.dropna(subset=["test accuracy"]) if "test accuracy" in table else table.iloc[:0]
    if len(scored) > 1:
        st.altair_chart(charts.comparison_bars(scored, "test accuracy", palette=palette()), width="stretch")
    keras = [snap for snap in snapshots if snap.kind == "keras"]
    baseline = [snap for snap in snapshots if snap.kind == "baseline"]
    if keras and baseline:
        st.info(comparison_reading(keras[0], baseline[0]))


st.title("Keras against a scikit-learn baseline")
st.write(
    "The baseline is scikit-learn's `MLPClassifier` with the Keras model's dense layers, trained on the "
    "same split, scaling and seed, one epoch at a time. Validation scores are measured the same way for both."
)

runs = current_runs()
if not runs:
    st.info("Nothing to compare yet: train on the **Train** page with the baseline switched on.")
    st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")
else:
    notes = baseline_settings(runs[0].config).notes
    for note in notes:
        st.caption(note)
    st.radio("Horizontal axis", list(X_AXES), format_func=X_AXES.get, key=Keys.COMPARE_X_AXIS, horizontal=True)
    live(runs, draw_comparison)
