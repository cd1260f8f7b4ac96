"""The control for bench/page_speed.py: a bare Streamlit page with one button, served like the app.

    streamlit run bench/bare_page.py

Same Streamlit, same .streamlit/config.toml, same browser: whatever the Train page takes beyond this
is the Train page's own weight.
"""

import streamlit as st

st.title("A bare page")
st.button("Train", type="primary")
