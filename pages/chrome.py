"""Streamlit's own chrome, trimmed for a workshop's big screen: no running-man status, a short top margin."""

import streamlit as st

# The status widget (the running man and its "Stop") shows during every redraw: on a participant's
# screen it looks like a stop for the presenter's run, and it stops only that screen's redraw.
# The main area starts right under the top bar, so a 720-pixel-high projector keeps its height for the curves.
CHROME_CSS = """
<style>
[data-testid="stStatusWidget"] { display: none; }
[data-testid="stMainBlockContainer"] { padding-top: 4.5rem; }
</style>
"""


def trim_streamlit_chrome() -> None:
    """Every page: the CSS above (a style-only st.html takes no room on the page)."""
    st.html(CHROME_CSS)
