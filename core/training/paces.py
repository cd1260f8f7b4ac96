"""Seconds per epoch this process has measured, by network and array shapes, for the next estimate.

The estimate before a run (core.jobs.budget) counts FLOPs at numpy's speed on this machine, plus
overheads fitted in one session. A shared machine's speed moves by more than that between sessions:
Fashion-MNIST's lesson run, estimated the same, took 2.7–4.4 s in one session and 1.8–2.3 s in the
next (+60–75 % said). A run that has trained here says how fast its network goes here now, so each
finished run notes its pace (core.training.engine.train), and the estimate uses it: the same network
and shapes at that pace, the same network at other shapes scaled by it. Keras-free.
"""

from __future__ import annotations

import threading

# Measured seconds per epoch, by (backend, step signature) and then run_shapes (core.training.kept_loops).
_paces: dict[tuple, dict[tuple, float]] = {}
_lock = threading.Lock()
# Networks whose paces are kept, the most recently noted last; each holds a few shapes.
MAX_NETWORKS = 32


def epoch_pace(epochs: list[dict]) -> float | None:
    """Seconds per epoch from a run's epoch records ({"epoch", "seconds"}), between the ends of its first
    and latest epochs: the first epoch's own time also counts compiling. None below two epochs."""
    if len(epochs) < 2 or epochs[-1]["epoch"] <= epochs[0]["epoch"]:
        return None
    return (epochs[-1]["seconds"] - epochs[0]["seconds"]) / (epochs[-1]["epoch"] - epochs[0]["epoch"])


def note_pace(backend: str, signature: tuple, shapes: tuple, seconds_per_epoch: float) -> None:
    """A run of this network and these shapes trained its epochs at `seconds_per_epoch` (the latest counts)."""
    if not seconds_per_epoch > 0:
        return
    with _lock:
        network = (backend, signature)
        known = _paces.pop(network, {})
        known[shapes] = seconds_per_epoch
        _paces[network] = known  # the most recently noted last
        while len(_paces) > MAX_NETWORKS:
            del _paces[next(iter(_paces))]


def paces_of(backend: str, signature: tuple) -> dict[tuple, float]:
    """The measured seconds per epoch of this network on `backend`, by run_shapes (empty: none measured)."""
    with _lock:
        return dict(_paces.get((backend, signature), {}))


def forget_paces() -> None:
    with _lock:
        _paces.clear()
