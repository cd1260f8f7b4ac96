"""The training loops this process keeps traced, by what their step computes.

Runs of one network share one traced loop on JAX (core.training.jax_fit.TrainingLoop), and the
estimate (core.training.estimate) asks whether a run's loop is kept, and whether it has trained a run of
the same shapes (run_shapes): XLA compiles a program per shape, so only such a run starts at once.
Keras-free, so the estimate can ask before Keras is loaded.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from core import libraries
from core.config import TrainingConfig
from core.training.architecture import network_layers

# Loops kept in the process, most recently used last. Each holds the first model of its network and
# that model's traced programs (a few MB for the lesson's models).
MAX_KEPT_LOOPS = 8

Loop = TypeVar("Loop")
_loops: OrderedDict[tuple, object] = OrderedDict()
# The run_shapes each kept loop has trained a whole epoch of: its programs for them are compiled.
_trained_shapes: dict[tuple, set[tuple]] = {}
_lock = threading.Lock()
# In the compiled-program cache's folder (core.libraries), what this app's runs have compiled into it, one
# key a line (programs_on_disk): XLA's own file names are hashes of programs, unknown before tracing.
PROGRAMS_INDEX = "training-studio-programs.txt"


def step_signature(config: TrainingConfig, image_shape: tuple[int, int], num_classes: int) -> tuple:
    """What a run's training step is made of: the network's layers (core.training.architecture) and
    what core.training.models.compile_model compiles it with. Not the values that are the step's state
    or data: learning rate, seed, epochs, batch size, the split (tests/core/test_kept_loops.py)."""
    layers = tuple(network_layers(config, image_shape, num_classes))
    return layers, config.optimizer, config.loss, tuple(config.metrics), num_classes


def run_shapes(train_images: int, validation_images: int, batch_size: int) -> tuple[int, int, int]:
    """What a run's compiled programs depend on beside its step signature: the array shapes it trains and
    validates on. On a kept loop, a run of new shapes compiles programs of its own, which costs far more
    than a whole run of shapes it has trained (bench/estimate_shapes.py measures both)."""
    return train_images, validation_images, batch_size


def chunk_steps(full_steps: int, steps_per_update: int) -> int:
    """The batches in each call of a kept loop (core.training.jax_fit.JaxFit): steps_per_update, at most
    the epoch's full batches, and at least one."""
    return max(1, min(steps_per_update, max(full_steps, 1)))


def loop_programs(shapes: tuple, steps_per_update: int) -> set[tuple]:
    """The programs a kept loop compiles to train a run of these run_shapes, one per shape it is called with
    (core.training.jax_fit.JaxFit): the training images with a chunk of full batches, and with the epoch's
    last, smaller batch if there is one. A new batch size compiles one or two of them, as its last batch is
    new or not; each costs about the same to compile whatever the dataset."""
    train_images, _, batch_size = shapes
    full_steps = train_images // batch_size
    programs = {(train_images, chunk_steps(full_steps, steps_per_update), batch_size)}
    if full_steps * batch_size < train_images:
        programs.add((train_images, 1, train_images - full_steps * batch_size))
    return programs


def kept_loop(signature: tuple, make: Callable[[], Loop], fits: Callable[[Loop], bool]) -> Loop:
    """The loop kept for `signature` if `fits` accepts it, else make() (kept, the oldest dropped)."""
    with _lock:
        loop = _loops.get(signature)
        if loop is None or not fits(loop):
            loop = _loops[signature] = make()
            _trained_shapes.pop(signature, None)
            while len(_loops) > MAX_KEPT_LOOPS:
                dropped, _ = _loops.popitem(last=False)
                _trained_shapes.pop(dropped, None)
        _loops.move_to_end(signature)
        return loop


def note_trained(signature: tuple, shapes: tuple) -> None:
    """A run of these run_shapes has trained a whole epoch on the loop kept for `signature`.

    Its programs are then in the compiled-program cache too: the folder's index says so (programs_on_disk)."""
    with _lock:
        if signature in _loops:
            _trained_shapes.setdefault(signature, set()).add(shapes)
        index = _index_path()
        if index is None:
            return
        key = _program_key(signature, shapes)
        try:
            if not index.exists() or key not in index.read_text(errors="replace").split():
                with index.open("a") as lines:
                    lines.write(f"{key}\n")
        except OSError:  # a read-only or vanished folder: the estimate assumes nothing is on disk
            pass


def programs_on_disk(signature: tuple, shapes: tuple) -> bool:
    """Whether a run of this network and these run_shapes has compiled its programs into the cache folder."""
    index = _index_path()
    try:
        return index is not None and _program_key(signature, shapes) in index.read_text(errors="replace").split()
    except OSError:
        return False


def _program_key(signature: tuple, shapes: tuple) -> str:
    text = repr((signature, shapes))  # dataclasses, strings and numbers: the same in every process
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _index_path() -> Path | None:
    folder = libraries.compile_cache_folder()
    return Path(folder) / PROGRAMS_INDEX if folder else None


def trained_shapes(signature: tuple) -> set[tuple] | None:
    """The run_shapes the loop kept for `signature` has trained; None when no loop is kept for it."""
    with _lock:
        return set(_trained_shapes.get(signature, ())) if signature in _loops else None


def kept_loops() -> list:
    """The kept loops, the most recently used last."""
    with _lock:
        return list(_loops.values())


def forget_loops() -> None:
    with _lock:
        _loops.clear()
        _trained_shapes.clear()
