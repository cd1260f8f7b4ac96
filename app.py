"""The entry point. It starts the library preload, loads Plotly in the browser, and routes to the pages."""

import streamlit as st

from core import libraries
from core.jobs.runner import TRAINING_NICENESS, training_niceness_from_environment
from pages.chrome import trim_streamlit_chrome
from pages.looks import palette_setting
from pages.plotly_preload import load_plotly_in_the_browser
from pages.streamlit_patches import keep_keras_state_between_reruns

st.set_page_config(page_title="Training Studio", page_icon=":material/neurology:", layout="wide")

# The Keras backend is KERAS_BACKEND's, or keras_backend in .streamlit/secrets.toml ("tensorflow");
# it must be chosen before the background load imports Keras. JAX is the default.
try:
    libraries.choose_backend(st.secrets.get("keras_backend"))
except FileNotFoundError:  # no secrets.toml: KERAS_BACKEND or the default decides
    pass
except ValueError as error:
    st.error(str(error))
keep_keras_state_between_reruns()


def warm_up_default_run() -> None:
    from core.jobs.start import warm_up_default_run as warm_up  # numpy and scipy: not on the script thread

    warm_up()


# Keras and its backend take seconds to import: start them in the background so no page waits for
# them unless it needs them, and the landing page is interactive at once. Then compile the default
# run's programs, at the training threads' priority, so the first Train of the day starts without
# compiling (JAX only).
try:
    warm_up_niceness = training_niceness_from_environment()
except ValueError:  # the Train page says what is wrong with the setting (pages.resources)
    warm_up_niceness = TRAINING_NICENESS
libraries.start_background_load(then=warm_up_default_run, then_niceness=warm_up_niceness)
# The chart colours, chosen once for every page.
palette_setting()
trim_streamlit_chrome()

pages = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/compare.py", title="Compare with baseline", icon=":material/compare_arrows:"),
    st.Page("pages/lesson.py", title="Lesson", icon=":material/school:"),
    st.Page("pages/room.py", title="Room", icon=":material/groups:"),
    st.Page("pages/evaluate.py", title="Evaluate", icon=":material/fact_check:"),
    st.Page("pages/experiments.py", title="Experiments", icon=":material/science:"),
]
# Navigation sits in the top bar. Streamlit runs a fresh server's very first script run in its
# legacy "pages/ folder" mode (until st.navigation has been called once), which would list raw file
# names in the sidebar; .streamlit/config.toml hides that sidebar list, and the top bar is ours.
st.navigation(pages, position="top").run()
# Then, under every page, Plotly's code loads in the browser while the visitor reads (pages/plotly_preload.py).
load_plotly_in_the_browser()
