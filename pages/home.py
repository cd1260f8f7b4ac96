"""Landing page: what Training Studio is and where to start. It never waits for TensorFlow."""

import streamlit as st

from core import libraries
from pages.streamlit_patches import route_through_app

route_through_app()  # a fresh server's first visitor may land here without app.py: send the run through it

st.title("Training Studio")
st.markdown(
    "Watch a neural network learn to read handwritten digits, live, and see why it works. "
    "Pick a dataset and a model, **compile** it with an optimizer, a loss and metrics, "
    "**fit** it for a few epochs, and watch the curves: accuracy climbs fast, then the gains "
    "shrink; the loss keeps falling; the validation curves tell you when to stop."
)

left, middle, right = st.columns(3)
with left:
    st.subheader("1 · Train")
    st.write("Choose the settings (MNIST, Adam, 5 epochs by default) and press **Train**.")
    st.page_link("pages/train.py", label="Open the training page", icon=":material/model_training:")
with middle:
    st.subheader("2 · Compare")
    st.write("A scikit-learn MLP trains on the same data: see who learns faster, and at what cost.")
    st.page_link("pages/compare.py", label="Compare with the baseline", icon=":material/compare_arrows:")
with right:
    st.subheader("3 · Read the curves")
    st.write("Every epoch adds a point; within an epoch the thin line shows the running average.")

# A workshop: the code on the presenter's screen opens their room.
with st.form("home.join_room"):
    code_column, button_column = st.columns([3, 1], vertical_alignment="bottom")
    code = code_column.text_input("In a workshop? Type the room code", max_chars=7, placeholder="K7QXD")
    if button_column.form_submit_button("Join the room", width="stretch"):
        st.switch_page("pages/room.py", query_params={"code": code.strip()})

# The status line reads flags only: this page renders while Keras is still importing.
if libraries.is_loaded("keras"):
    st.caption(f"Ready: {libraries.runs_on()}.")
elif libraries.load_error("keras"):
    st.warning(f"Keras could not be loaded: {libraries.load_error('keras')}")
else:
    st.caption("Keras is loading in the background; the training page will be ready in a few seconds.")
