"""Drawings for the handwriting tests, made offline: a canvas's image_data and a small digits model."""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np

from core.training.inference import ModelSnapshot, snapshot_mlp

CANVAS = 280


def canvas_of(digit: np.ndarray) -> np.ndarray:
    """A 28×28 digit as streamlit-drawable-canvas's image_data: white strokes on an opaque black square."""
    ink = np.kron(np.asarray(digit, dtype=np.float32) / 255, np.ones((CANVAS // 28, CANVAS // 28)))
    rgba = np.zeros((CANVAS, CANVAS, 4), dtype=np.uint8)
    rgba[..., :3] = np.round(ink * 255).astype(np.uint8)[..., None]
    rgba[..., 3] = 255
    return rgba


@lru_cache(maxsize=1)
def digits_model() -> ModelSnapshot:
    """A small MLP trained on scikit-learn's 8×8 digits, as a numpy snapshot (the app's offline fallback)."""
    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    bundled = load_digits()
    classifier = MLPClassifier(hidden_layer_sizes=(64,), max_iter=200, random_state=0)
    with warnings.catch_warnings():
        # A few hundred passes fit these digits well; the optimiser's own stopping rule is not needed here.
        warnings.simplefilter("ignore", ConvergenceWarning)
        classifier.fit(bundled.images.reshape(len(bundled.images), -1) / 16, bundled.target)
    return snapshot_mlp(classifier, (8, 8))
