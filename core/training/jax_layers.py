"""Keras's own MaxPooling2D and Conv2D, computed on JAX in forms that XLA runs fast on a CPU.

The layers stay Keras's, with their configs and weights (a saved model is plain Keras); only how
an instance computes changes, and it computes the same function:
- max pooling whose windows tile the image (strides = pool size, 'valid') is a reshape and a max.
  Keras's `ops.max_pool` is XLA's reduce_window, whose gradient (select-and-scatter) XLA's CPU
  backend runs slowly: in a hand-written JAX step of the CNN preset (batch 32) it was 28 of 46 ms.
- a 3×3 'same' convolution with stride 1 is one product of the image's 3×3 patches (im2col) by
  the kernel: 13 ms against 18 ms for the step with XLA's convolution. XLA's convolution inside a
  jitted loop ran several times slower still; products do not.
bench/cnn_speed.py measures the engine's epoch against the FLOP floor (bench/README.md has the figures).
"""

from __future__ import annotations

import keras
from keras import ops


def use_fast_forms(model: keras.Model) -> int:
    """Compute the model's max pooling and 3×3 convolutions in the forms above; how many layers changed."""
    changed = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.MaxPooling2D) and _windows_tile(layer):
            layer.call = _max_over_tiles(tuple(layer.pool_size))
            changed += 1
        elif isinstance(layer, keras.layers.Conv2D) and _is_plain_3x3(layer):
            layer.convolution_op = _patches_by_kernel
            changed += 1
    return changed


def in_fast_form(layer: keras.layers.Layer) -> bool:
    """Whether use_fast_forms changed how this layer computes (it sets the method on the instance)."""
    return "call" in vars(layer) or "convolution_op" in vars(layer)


def _windows_tile(layer: keras.layers.MaxPooling2D) -> bool:
    return (
        tuple(layer.strides) == tuple(layer.pool_size)
        and layer.padding == "valid"
        and layer.data_format == "channels_last"
    )


def _is_plain_3x3(layer: keras.layers.Conv2D) -> bool:
    return (
        tuple(layer.kernel_size) == (3, 3)
        and tuple(layer.strides) == (1, 1)
        and tuple(layer.dilation_rate) == (1, 1)
        and layer.padding == "same"
        and layer.groups == 1
        and layer.data_format == "channels_last"
    )


def _max_over_tiles(pool: tuple[int, int]):
    """MaxPooling2D.call for windows that tile: a row or column that fills no window is dropped, as 'valid' does."""
    pool_rows, pool_columns = pool

    def call(inputs):
        _, height, width, channels = inputs.shape
        rows, columns = height // pool_rows, width // pool_columns
        kept = inputs[:, : rows * pool_rows, : columns * pool_columns, :]
        tiles = ops.reshape(kept, (-1, rows, pool_rows, columns, pool_columns, channels))
        return ops.max(tiles, axis=(2, 4))

    return call


def _patches_by_kernel(inputs, kernel):
    """Conv2D.convolution_op for a 3×3 'same' kernel: each pixel's 3×3 neighbourhood (zeros beyond the
    edge) as one row, times the kernel as a (9·channels × filters) matrix."""
    _, height, width, channels = inputs.shape
    padded = ops.pad(inputs, ((0, 0), (1, 1), (1, 1), (0, 0)))
    shifts = [padded[:, row : row + height, column : column + width, :] for row in range(3) for column in range(3)]
    patches = ops.reshape(ops.concatenate(shifts, axis=-1), (-1, 9 * channels))
    products = ops.matmul(patches, ops.reshape(kernel, (9 * channels, kernel.shape[-1])))
    return ops.reshape(products, (-1, height, width, kernel.shape[-1]))
