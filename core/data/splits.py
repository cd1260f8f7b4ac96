"""Which images a run trains, validates and tests on: the seeded split, shared by Keras and the baseline."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.config import TrainingConfig
from core.data.datasets import Dataset, split_indices, subsample_indices, validation_size


@dataclass(frozen=True)
class PreparedData:
    """The arrays one run trains, validates and tests on.

    The training images stay bytes (scaled batch by batch as they are drawn, see training_batches);
    validation and test images are scaled to [0, 1] once, since every epoch predicts all of them.
    """

    pixels_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple[int, int]
    num_classes: int
    pixel_max_raw: int


def run_indices(config: TrainingConfig, train_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Which of the dataset's training images a run trains on and which it validates on (seeded)."""
    chosen = subsample_indices(train_size, config.subsample, config.seed) if config.subsample else np.arange(train_size)
    train, val = split_indices(len(chosen), config.validation_split, config.seed)
    return chosen[train], chosen[val]


def run_sizes(config: TrainingConfig, train_size: int) -> tuple[int, int]:
    """How many images run_indices gives to training and to validation, counted without shuffling."""
    images = min(train_size, config.subsample) if config.subsample else train_size
    validation = validation_size(images, config.validation_split)
    return images - validation, validation


def prepare_data(config: TrainingConfig, dataset: Dataset) -> PreparedData:
    """Seeded train / validation split of the training images (and a subsample, if asked)."""
    train, val = run_indices(config, len(dataset.pixels_train))
    # Taken in the order given: a run without validation or subsample trains on the originals, uncopied.
    whole = len(train) == len(dataset.pixels_train) and np.array_equal(train, np.arange(len(train)))
    pixels_train, y_train = (
        (dataset.pixels_train, dataset.y_train) if whole else (dataset.pixels_train[train], dataset.y_train[train])
    )
    return PreparedData(
        pixels_train,
        y_train,
        dataset.scaled(dataset.pixels_train[val]),
        dataset.y_train[val],
        dataset.x_test,
        dataset.y_test,
        dataset.image_shape,
        dataset.num_classes,
        dataset.pixel_max_raw,
    )


def validation_images(config: TrainingConfig, dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """The images and labels a run with this config validated on, in the order it scored them."""
    _, val = run_indices(config, len(dataset.pixels_train))
    return dataset.scaled(dataset.pixels_train[val]), dataset.y_train[val]
