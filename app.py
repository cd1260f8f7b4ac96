"""Training Studio: the entry point. It only starts the library preload and routes to the pages."""

import streamlit as st

from core import libraries

st.set_page_config(page_title="Training Studio", page_icon=":material/neurology:", layout="wide")

# TensorFlow takes seconds to import: start it in the background so no page waits for it unless
# it needs it, and the landing page is interactive at once.
libraries.start_background_load()

pages = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/compare.py", title="Compare with baseline", icon=":material/compare_arrows:"),
]
st.navigation(pages).run()
