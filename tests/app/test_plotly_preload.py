"""Plotly's browser code is loaded under every page, by a script that names the frontend's own chunk."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from pages import plotly_preload

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE_WITH_THE_PRELOAD_ONLY = "from pages.plotly_preload import load_plotly_in_the_browser\nload_plotly_in_the_browser()"


def test_this_streamlit_has_exactly_one_plotly_chunk_and_it_is_found():
    chunk = plotly_preload.plotly_chunk()
    assert chunk is not None, f"no single PlotlyChart.*.js under {plotly_preload.STREAMLIT_JS} (Streamlit renamed it?)"
    assert (plotly_preload.STREAMLIT_JS / chunk).stat().st_size > 1_000_000  # the whole plotly.js, not a stub


def test_the_app_ends_its_page_with_the_script_that_imports_that_chunk():
    # app.py's own run (the landing page). AppTest runs a page it switches to without app.py after the
    # first time in a process (pages/streamlit_patches.py), so the browser tests check the other pages.
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert list(at.main.children.values())[-1].type == "html"  # the last element of the page
    scripts = [element.proto for element in at.get("html") if "import(" in element.proto.body]
    assert len(scripts) == 1
    assert scripts[0].unsafe_allow_javascript
    assert f'"./{plotly_preload.plotly_chunk()}"' in scripts[0].body


def test_no_script_is_drawn_when_the_chunk_is_not_found(monkeypatch, tmp_path):
    monkeypatch.setattr(plotly_preload, "STREAMLIT_JS", tmp_path)  # a Streamlit whose frontend has no such file
    plotly_preload.plotly_chunk.cache_clear()
    try:
        assert plotly_preload.plotly_chunk() is None
        at = AppTest.from_string(PAGE_WITH_THE_PRELOAD_ONLY)
        at.run()
        assert not at.exception
        assert len(at.get("html")) == 0
    finally:
        plotly_preload.plotly_chunk.cache_clear()
