"""The colours of every chart and export: a standard palette and Okabe–Ito's colour-blind-safe one, light and dark."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

LIGHT, DARK = "light", "dark"
THEMES = (LIGHT, DARK)

# Dark text on light cells and light text on dark ones, in either theme.
INK = "#262730"
PAPER_INK = "#FAFAFA"
# Streamlit's dark page: a picture's blank pixels take it, so a tile or a map does not glare on a dark page.
DARK_PAGE = "#0E1117"
WHITE = "#FFFFFF"
# Between the tiles of a weight or activation picture: a line just off the page's own colour.
LIGHT_GAP = "#E6E9EF"
DARK_GAP = "#31333F"

# A marker of its own for each of ten classes, so a class is told apart by shape as well as colour
# ("x" is left out: it marks a mistake).
CLASS_MARKERS = (
    "circle",
    "square",
    "diamond",
    "triangle-up",
    "triangle-down",
    "star",
    "pentagon",
    "hexagon",
    "triangle-left",
    "triangle-right",
)


@dataclass(frozen=True)
class Palette:
    """The colours of every chart: series (runs, models, marks), classes, a heatmap ramp and a picture's blank."""

    name: str
    title: str
    series: tuple[str, ...]  # 8 colours: Keras first, the baseline second, then runs in the order compared
    ramp: tuple[str, str]  # heatmap colours for the lowest and the highest value
    classes: tuple[str, ...]  # a colour per class on a map of classes; with CLASS_MARKERS each pair is unique
    theme: str = LIGHT
    ramp_text: tuple[str, str] = (INK, WHITE)  # text on the ramp's low end and on its high end
    blank: str = WHITE  # a picture's zero (weights, activations, saliency): the page's own colour
    gap: str = LIGHT_GAP
    ink: str = INK  # text on `blank`

    @property
    def key(self) -> str:
        """Name and theme in one hashable string (a cache key), read back by `palette_for_key`."""
        return f"{self.name}.{self.theme}"

    def colours(self) -> set[str]:
        """Every colour this palette paints, upper-case hex."""
        own = (*self.series, *self.ramp, *self.classes, *self.ramp_text, self.blank, self.gap, self.ink)
        return {colour.upper() for colour in own}

    def class_look(self, k: int) -> tuple[str, str]:
        """(colour, marker) of class k: unique for the first ten classes."""
        return self.classes[k % len(self.classes)], CLASS_MARKERS[k % len(CLASS_MARKERS)]


STANDARD = Palette(
    "standard",
    "Standard",
    ("#4C5FD5", "#E8743B", "#19A979", "#ED4A7B", "#945ECF", "#13A4B4", "#8C6D31", "#BF399E"),
    ("#EEF0FB", "#4C5FD5"),
    ("#4C5FD5", "#E8743B", "#19A979", "#ED4A7B", "#945ECF", "#13A4B4", "#8C6D31", "#BF399E", "#7F7F7F", "#B8B02B"),
)
# Okabe & Ito (2008), "Color Universal Design": told apart with every common kind of colour blindness.
# Their black is a grey here, so the eighth series shows on a dark page too; yellow, the faintest on
# white, comes late. Eight colours for ten classes: the last two reuse the first two, with markers of their own.
OKABE_ITO = Palette(
    "okabe_ito",
    "Colour-blind safe (Okabe–Ito)",
    ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#999999"),
    ("#EAF3FA", "#0072B2"),
    ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#999999", "#0072B2", "#E69F00"),
)
# On a dark page a heatmap runs from near the page's colour to a bright one, so empty cells do not glare.
DARK_RAMPS = {"standard": ("#1C2140", "#8E9BF2"), "okabe_ito": ("#0D2233", "#56B4E9")}

PALETTES = {palette.name: palette for palette in (STANDARD, OKABE_ITO)}
DEFAULT_PALETTE = STANDARD


def on_dark(palette: Palette) -> Palette:
    """The same palette for a dark page: a dark-to-bright ramp, blank pixels in the page's colour, light text."""
    return dataclasses.replace(
        palette,
        theme=DARK,
        ramp=DARK_RAMPS[palette.name],
        ramp_text=(PAPER_INK, INK),
        blank=DARK_PAGE,
        gap=DARK_GAP,
        ink=PAPER_INK,
    )


def palette_for(name: str | None, theme: str | None = LIGHT) -> Palette:
    """The palette called `name` (the default one for an unknown name) for a light or dark page."""
    palette = PALETTES.get(name or "", DEFAULT_PALETTE)
    return on_dark(palette) if theme == DARK else palette


def palette_for_key(key: str) -> Palette:
    """The palette of a Palette.key."""
    name, _, theme = key.partition(".")
    return palette_for(name, theme)
