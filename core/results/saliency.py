"""Why a model read a digit as it did: saliency maps and Grad-CAM, from the numpy copy of its weights.

Three views of one image and one class, each as large as the image:
- gradient: how much the class's score (its logit) would rise if each pixel got a little brighter;
- gradient × input: that sensitivity where there is ink, which is where the pixels actually pushed;
- Grad-CAM (CNNs only): the last convolution's feature maps weighted by how much each one raises
  the class's score, so regions, not single pixels, light up.
Any class can be asked about ("why 7?" and "why not 9?" are the same question about two classes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from core.data.images import BLANK_MESSAGE, ImageError
from core.training.inference import CONV2D, ModelSnapshot, backward, forward

# Below this peak brightness an image holds no ink, and gradient × input would be blank everywhere.
NO_INK_LEVEL = 0.05


@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth value to compare by
class Explanation:
    """One image, the class asked about, and the maps that say which pixels made its score."""

    image: np.ndarray  # (height, width) in [0, 1], as the model read it
    class_index: int  # the class whose score is explained
    predicted: int  # the class the model chose
    probabilities: np.ndarray  # (classes,)
    gradient: np.ndarray  # ∂ score / ∂ pixel, (height, width)
    gradient_x_input: np.ndarray  # gradient · pixel, (height, width)
    grad_cam: np.ndarray | None  # (height, width) ≥ 0, or None for a model without convolutions
    grad_cam_layer: str | None

    @property
    def asks_about_prediction(self) -> bool:
        return self.class_index == self.predicted


def last_conv_layer(snapshot: ModelSnapshot) -> str | None:
    """The name of the model's last Conv2D layer (Grad-CAM looks there), or None."""
    return next((layer.name for layer in reversed(snapshot.layers) if layer.kind == CONV2D), None)


def check_image(snapshot: ModelSnapshot, image: np.ndarray) -> np.ndarray:
    """The image as float32, or an ImageError that says what is wrong with it."""
    image = np.asarray(image, dtype=np.float32)
    if image.shape != tuple(snapshot.input_shape):
        raise ImageError(
            f"The model reads {'×'.join(map(str, snapshot.input_shape))} images; this one is "
            f"{'×'.join(map(str, image.shape))}. Prepare it first (core.data.images.preprocess_digit)."
        )
    if not np.isfinite(image).all() or float(image.max(initial=0.0)) < NO_INK_LEVEL:
        raise ImageError(BLANK_MESSAGE)
    return image


def explain(snapshot: ModelSnapshot, image: np.ndarray, class_index: int | None = None) -> Explanation:
    """Saliency, gradient × input and (for CNNs) Grad-CAM of one image for one class (default: the predicted one)."""
    image = check_image(snapshot, image)
    probabilities = forward(snapshot, image[None])[-1][1][0]
    predicted = int(probabilities.argmax())
    chosen = predicted if class_index is None else int(class_index)
    classes = len(probabilities)
    if not 0 <= chosen < classes:
        raise ValueError(f"Class {chosen} does not exist: the model has {classes} classes (0 to {classes - 1}).")
    seed = np.zeros((1, classes), dtype=np.float32)
    seed[0, chosen] = 1.0
    gradients = dict(backward(snapshot, image[None], seed))
    gradient = gradients["input"][0]
    conv = last_conv_layer(snapshot)
    grad_cam = None
    if conv is not None:
        feature_maps = dict(forward(snapshot, image[None]))[conv][0]
        grad_cam = _grad_cam(feature_maps, gradients[conv][0], image.shape)
    return Explanation(image, chosen, predicted, probabilities, gradient, gradient * image, grad_cam, conv)


def _grad_cam(feature_maps: np.ndarray, gradient: np.ndarray, image_shape: tuple[int, int]) -> np.ndarray:
    """Selvaraju et al.'s Grad-CAM: ReLU(Σ_k mean(∂score/∂A_k) · A_k), scaled up to the image (bilinear)."""
    weights = gradient.mean(axis=(0, 1))
    cam = np.maximum((feature_maps * weights).sum(axis=-1), 0.0)
    zoom = (image_shape[0] / cam.shape[0], image_shape[1] / cam.shape[1])
    return np.maximum(ndimage.zoom(cam, zoom, order=1, grid_mode=True, mode="nearest"), 0.0).astype(np.float32)


def sentence(explanation: Explanation, class_names) -> str:
    """What the maps show, in words, for a caption."""
    names = list(class_names)
    asked, predicted = names[explanation.class_index], names[explanation.predicted]
    probability = explanation.probabilities[explanation.class_index]
    if explanation.asks_about_prediction:
        opening = f"The model reads {predicted} ({probability:.0%})."
    else:
        opening = f"The model reads {predicted}; it gives {asked} {probability:.1%}."
    return (
        f"{opening} Blue pixels raise the score of {asked}, orange ones lower it: "
        f"more ink on the orange ones would make it less of a {asked}."
    )


def example_index(labels: np.ndarray, wanted: int = 7) -> int:
    """The first image of class `wanted` ("why did it read a 7?"), or the first image if there is none."""
    rows = np.flatnonzero(np.asarray(labels) == wanted)
    return int(rows[0]) if len(rows) else 0
