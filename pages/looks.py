"""The viewer's look: which palette every chart uses. Light or dark follows the browser (and Streamlit's menu)."""

import streamlit as st

from core import charts
from pages.session import Keys

PALETTE_KEY = Keys.LOOKS_PALETTE


def palette() -> charts.Palette:
    """The palette this session chose (the standard one until it chooses)."""
    return charts.PALETTES.get(st.session_state.get(PALETTE_KEY), charts.DEFAULT_PALETTE)


def palette_setting() -> None:
    """The sidebar choice, on every page (app.py draws it before the page)."""
    with st.sidebar:
        st.selectbox(
            "Chart colours",
            list(charts.PALETTES),
            format_func=lambda name: charts.PALETTES[name].title,
            key=PALETTE_KEY,
            help="Okabe–Ito's colours stay apart for every common kind of colour blindness, "
            "in every chart and overlay. Light or dark: Streamlit's menu (⋮ → Settings), or your system's.",
        )
