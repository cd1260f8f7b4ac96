"""The viewer's look: which palette every chart uses. Light or dark follows the browser (and Streamlit's menu)."""

import streamlit as st

from core import palette as palettes
from core.palette import Palette
from pages.session import Keys

PALETTE_KEY = Keys.LOOKS_PALETTE


def theme() -> str:
    """The page's theme, "light" or "dark", as the browser reports it (light until it has)."""
    return palettes.DARK if st.context.theme.type == palettes.DARK else palettes.LIGHT


def palette() -> Palette:
    """The palette this session chose (the standard one until it chooses), for the page's light or dark theme."""
    return palettes.palette_for(st.session_state.get(PALETTE_KEY), theme())


def palette_for_key(key: str) -> Palette:
    """The palette of a Palette.key, for a cached function that takes the key instead of the palette."""
    return palettes.palette_for_key(key)


def palette_setting() -> None:
    """The sidebar choice, on every page (app.py draws it before the page)."""
    with st.sidebar:
        st.selectbox(
            "Chart colours",
            list(palettes.PALETTES),
            format_func=lambda name: palettes.PALETTES[name].title,
            key=PALETTE_KEY,
            help="Okabe–Ito's colours stay apart for every common kind of colour blindness, "
            "in every chart and overlay. Light or dark: Streamlit's menu (⋮ → Settings), or your system's.",
        )
