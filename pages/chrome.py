"""Streamlit's own chrome, trimmed for a workshop's big screen: no running-man status, a short top margin."""

import streamlit as st
import streamlit.components.v1 as components

# The status widget (the running man and its "Stop") shows during every redraw: on a participant's
# screen it looks like a stop for the presenter's run, and it stops only that screen's redraw.
# The main area starts right under the top bar, so a 720-pixel-high projector keeps its height for the curves.
# A zero-height component frame (open_at_the_top) takes no room. On a phone-wide screen Plotly's toolbar is
# always shown, over the charts' top row of labels (a picture grid's class names): fingers zoom the page
# instead, and Streamlit's own full-screen button stays.
CHROME_CSS = """
<style>
[data-testid="stStatusWidget"] { display: none; }
[data-testid="stMainBlockContainer"] { padding-top: 4.5rem; }
[data-testid="stElementContainer"][height="0px"]:has([data-testid="stIFrame"]) { display: none; }
@media (max-width: 640px) { .js-plotly-plot .modebar-container { display: none; } }
</style>
"""
# The page's scrolling area back to its top. It runs in a component's frame, which shares the app's origin.
SCROLL_TO_TOP_HTML = """<script>
/* {reason} */
const main = window.parent.document.querySelector('[data-testid="stMain"]');
if (main) main.scrollTo({{top: 0}});
</script>"""


def trim_streamlit_chrome() -> None:
    """Every page: the CSS above (a style-only st.html takes no room on the page)."""
    st.html(CHROME_CSS)


def open_at_the_top(reason: str) -> None:
    """Scroll the page to its top whenever `reason` changes (a lesson's step), like a slide that opens.

    Streamlit keeps the scroll position across reruns: a run started from far down a step would
    otherwise show step 5 scrolled, its live curves and Stop above the window. The frame is created
    anew only when its text changes, so the same step redrawn keeps where the person scrolled to;
    it takes no room (a zero-height frame's container is hidden by CHROME_CSS).
    """
    components.html(SCROLL_TO_TOP_HTML.format(reason=reason.replace("*/", "")), height=0)
