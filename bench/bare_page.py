"""The control for bench/page_speed.py: a bare Streamlit page with one button, served like the app.

    streamlit run bench/bare_page.py

Same Streamlit, same .streamlit/config.toml, same browser: whatever the Train page takes beyond this
is the Train page's own weight.
"""

import streamlit as st

st.title("A bare page")
clicks = st.session_state.get("clicks", 0) + bool(st.button("Train", type="primary"))
st.session_state["clicks"] = clicks
# bench/first_point.py times a click until this line changes: the script has run again and been drawn.
st.caption(f"{clicks} clicks")
