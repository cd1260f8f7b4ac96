"""The anchor for the lesson run: the lesson's network trained by a hand-written JAX loop.

One jitted `lax.scan` per epoch over the shuffled batches, Adam written out (Keras's defaults:
beta 0.9/0.999, epsilon 1e-7), the byte images on the device and scaled batch by batch, Glorot
uniform kernels and zero biases as Keras initialises them, a validation pass after every epoch
and the test score at the end, like the engine. No live updates, no callbacks, no metrics object:
the least a JAX program does for this training, which the engine is measured against
(bench/train_speed.py --variants jax_loop, bench/lesson_speed.py). Dense networks only.
"""

from __future__ import annotations

import time

# The jitted epoch and test score, by (pixel scale, learning rate, layers): see train_jax_loop.
_jitted_epochs: dict = {}


def train_jax_loop(config, dataset, args) -> dict:
    import jax
    import jax.numpy as jnp
    import numpy as np

    from core.data.splits import prepare_data

    if config.model != "dense":
        raise ValueError("The JAX anchor trains the dense network only.")
    pressed = time.perf_counter()
    data = prepare_data(config, dataset)
    pixels = int(np.prod(data.image_shape))
    scale = float(data.pixel_max_raw)
    batch_size, steps = config.batch_size, len(data.pixels_train) // config.batch_size
    learning_rate, beta_1, beta_2, epsilon = config.learning_rate, 0.9, 0.999, 1e-7

    def glorot(key, fan_in, fan_out):
        limit = np.sqrt(6 / (fan_in + fan_out))
        return jax.random.uniform(key, (fan_in, fan_out), jnp.float32, -limit, limit)

    sizes = [pixels, *config.hidden_layers, data.num_classes]
    keys = jax.random.split(jax.random.PRNGKey(config.seed), len(sizes))
    params = [(glorot(k, a, b), jnp.zeros(b)) for k, a, b in zip(keys[1:], sizes, sizes[1:], strict=False)]

    def logits_of(params, images):
        out = images
        for index, (kernel, bias) in enumerate(params):
            out = out @ kernel + bias
            if index < len(params) - 1:
                out = jax.nn.relu(out)
        return out

    def loss_of(params, images, labels):
        logits = logits_of(params, images)
        return jnp.mean(jax.nn.logsumexp(logits, axis=1) - jnp.take_along_axis(logits, labels[:, None], 1)[:, 0])

    def epoch(state, order, x_train, y_train, x_val, y_val):
        def step(state, indices):
            params, m, v, t = state
            images = x_train[indices].astype(jnp.float32) / scale
            loss, grads = jax.value_and_grad(loss_of)(params, images, y_train[indices])
            t = t + 1
            m = jax.tree.map(lambda m, g: beta_1 * m + (1 - beta_1) * g, m, grads)
            v = jax.tree.map(lambda v, g: beta_2 * v + (1 - beta_2) * g * g, v, grads)
            rate = learning_rate * jnp.sqrt(1 - beta_2**t) / (1 - beta_1**t)
            params = jax.tree.map(lambda p, m, v: p - rate * m / (jnp.sqrt(v) + epsilon), params, m, v)
            return (params, m, v, t), loss

        state, losses = jax.lax.scan(step, state, order)
        val_logits = logits_of(state[0], x_val)
        val_accuracy = jnp.mean(jnp.argmax(val_logits, axis=1) == y_val)
        return state, losses.mean(), val_accuracy

    def test_accuracy(params, images, labels):
        return jnp.mean(jnp.argmax(logits_of(params, images), axis=1) == labels)

    # One jitted epoch and test score per process and constants: a second run (train_speed.py --warm) neither
    # traces nor compiles, as the engine's kept loop does not.
    epoch, test_accuracy = _jitted_epochs.setdefault(
        (scale, learning_rate, len(params)), (jax.jit(epoch), jax.jit(test_accuracy))
    )
    zeros = jax.tree.map(jnp.zeros_like, params)
    state = (params, zeros, jax.tree.map(jnp.zeros_like, params), jnp.float32(0))
    shuffle_key = jax.random.PRNGKey(config.seed + 1)
    # The clock starts where the engine's does: the network built, its images not yet on the device.
    fit_started = time.perf_counter()
    x_train = jnp.asarray(data.pixels_train.reshape(len(data.pixels_train), pixels))
    y_train = jnp.asarray(data.y_train.astype("int32"))
    x_val = jnp.asarray(data.x_val.reshape(len(data.x_val), pixels))
    y_val = jnp.asarray(data.y_val.astype("int32"))
    epoch_seconds, val_accuracies = [], []
    for _ in range(config.epochs):
        started = time.perf_counter()
        shuffle_key, key = jax.random.split(shuffle_key)
        order = jax.random.permutation(key, len(data.pixels_train))[: steps * batch_size].reshape(steps, batch_size)
        state, loss, val_accuracy = epoch(state, order, x_train, y_train, x_val, y_val)
        loss.block_until_ready()
        epoch_seconds.append(time.perf_counter() - started)
        val_accuracies.append(round(float(val_accuracy), 4))
    x_test = jnp.asarray(data.x_test.reshape(len(data.x_test), pixels))
    accuracy = float(test_accuracy(state[0], x_test, jnp.asarray(data.y_test)))
    # Timed with the test score, as the engine's run is (its clock stops once the test images are scored).
    fit_seconds = time.perf_counter() - fit_started
    return {
        "seconds": time.perf_counter() - pressed,
        "fit_seconds": fit_seconds,
        "first_point_seconds": None,
        "test_accuracy": accuracy,
        "updates_per_epoch": None,
        "train_images": len(data.pixels_train),
        "compile": {"epoch_seconds": [round(s, 3) for s in epoch_seconds], "val_accuracy": val_accuracies},
    }
