"""Plotly's browser code, loaded while the visitor reads: before any chart is drawn, not before the page is usable.

Streamlit's frontend fetches and runs an element's code the first time such an element is drawn.
Plotly's is one 4.7 MB chunk: fetching and running it took the browser 1.5–3 s here. A visitor who pressed
Train before any chart was on the page waited for it at the first point (bench/first_point.py).
So every page ends with a script that imports that chunk as soon as the page has been drawn. The
frontend's own import of it later finds the module already run (the browser keeps one module per
URL), and the first chart costs only its drawing.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import streamlit as st

STREAMLIT_JS = Path(st.__file__).parent / "static" / "static" / "js"
CHUNK_GLOB = "PlotlyChart.*.js"  # the frontend's lazily loaded Plotly element (plotly.js inside)
# Resolved against the frontend's own entry script, as its lazy imports are, so the URL (and the
# module) is the same whatever the server's base path. The mark is for bench/page_speed.py.
IMPORT_HTML = """<script>(() => {{
  if (window.__plotlyPreload) return;
  const entry = document.querySelector('script[type="module"][src*="/static/js/index."]');
  if (!entry) return;
  window.__plotlyPreload = import(new URL("./{chunk}", entry.src).href)
    .then(() => performance.mark("{mark}"))
    .catch(() => {{}});  // a chunk that cannot load now cannot load for a chart either: the chart says so
}})();</script>"""
LOADED_MARK = "plotly-loaded"


@cache
def plotly_chunk() -> str | None:
    """The file name of the frontend's Plotly chunk, or None if this Streamlit has not exactly one."""
    names = [path.name for path in STREAMLIT_JS.glob(CHUNK_GLOB)]
    return names[0] if len(names) == 1 else None


def load_plotly_in_the_browser() -> None:
    """The page's last element: a script that loads Plotly's code (nothing, if the chunk is not found)."""
    chunk = plotly_chunk()
    if chunk is not None:
        st.html(IMPORT_HTML.format(chunk=chunk, mark=LOADED_MARK), unsafe_allow_javascript=True)
