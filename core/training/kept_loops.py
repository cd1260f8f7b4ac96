"""The training loops this process keeps traced, by what their step computes.

Runs of one network share one traced loop on JAX (core.training.jax_fit.TrainingLoop), and the
estimate (core.jobs.budget) asks whether a run's loop is kept, since such a run starts at once.
Keras-free, so the estimate can ask before Keras is loaded.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from core.config import TrainingConfig
from core.training.architecture import network_layers

# Loops kept in the process, most recently used last. Each holds the first model of its network and
# that model's traced programs (a few MB for the lesson's models).
MAX_KEPT_LOOPS = 8

Loop = TypeVar("Loop")
_loops: OrderedDict[tuple, object] = OrderedDict()
_lock = threading.Lock()


def step_signature(config: TrainingConfig, image_shape: tuple[int, int], num_classes: int) -> tuple:
    """What a run's training step is made of: the network's layers (core.training.architecture) and
    what core.training.models.compile_model compiles it with. Not the values that are the step's state
    or data: learning rate, seed, epochs, batch size, the split (tests/core/test_kept_loops.py)."""
    layers = tuple(network_layers(config, image_shape, num_classes))
    return layers, config.optimizer, config.loss, tuple(config.metrics), num_classes


def kept_loop(signature: tuple, make: Callable[[], Loop], fits: Callable[[Loop], bool]) -> Loop:
    """The loop kept for `signature` if `fits` accepts it, else make() (kept, the oldest dropped)."""
    with _lock:
        loop = _loops.get(signature)
        if loop is None or not fits(loop):
            loop = _loops[signature] = make()
            while len(_loops) > MAX_KEPT_LOOPS:
                _loops.popitem(last=False)
        _loops.move_to_end(signature)
        return loop


def is_kept(signature: tuple) -> bool:
    with _lock:
        return signature in _loops


def kept_loops() -> list:
    """The kept loops, the most recently used last."""
    with _lock:
        return list(_loops.values())


def forget_loops() -> None:
    with _lock:
        _loops.clear()
