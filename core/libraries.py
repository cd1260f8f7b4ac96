"""Heavy imports done once, in order, under one lock, before any worker thread uses them.

Importing numpy, pandas or Keras for the first time in a worker thread while the script thread
imports plotly was seen here to fail with "partially initialized module" errors. Everything heavy
is therefore imported through this module: in the background at start-up (so the landing page does
not wait for TensorFlow), and again, as a no-op, before any training starts.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import threading
import time
from collections.abc import Callable

# Stages in import order; a page waits only for the stage it needs.
STAGES = {
    "charts": ("numpy", "pandas", "pyarrow", "plotly.graph_objects", "altair"),
    "sklearn": ("scipy", "sklearn.neural_network", "sklearn.metrics", "sklearn.datasets"),
    # The backend first, then Keras on it. TensorFlow only on its own backend: on JAX the engine's
    # training images live on the device (core.training.jax_fit), on TensorFlow they are a tf.data pipeline.
    "keras": ("keras",),
}
# JAX: the lesson run trains in half TensorFlow's time here and a warm digits run in under half a
# second (core.training.jax_fit, bench/lesson_speed.py); TensorFlow stays a choice (choose_backend).
DEFAULT_BACKEND = "jax"
BACKENDS = ("tensorflow", "jax")  # each is also the name of the backend's Python package

_lock = threading.Lock()
_done = {stage: threading.Event() for stage in STAGES}
_errors: dict[str, str] = {}
_seconds: dict[str, float] = {}
_background: threading.Thread | None = None
_warm_up: threading.Thread | None = None  # what start_background_load runs after loading, if anything


def _requested_backend(name: str | None = None) -> str:
    """The backend asked for: `name`, else the KERAS_BACKEND environment variable, else the default."""
    return (name or os.environ.get("KERAS_BACKEND") or DEFAULT_BACKEND).strip().lower()


def _loaded_backend() -> str | None:
    """Keras's backend once Keras is loaded (fixed for the process from then on), else None."""
    if not _done["keras"].is_set():
        return None
    import keras

    return keras.backend.backend()


def backend_in_force() -> str:
    """The Keras backend this process trains on (or will, once Keras is loaded), without loading anything."""
    name = _loaded_backend() or _requested_backend()
    return name if name in BACKENDS else DEFAULT_BACKEND


def choose_backend(name: str | None = None) -> str:
    """Set KERAS_BACKEND (the Keras way) before Keras is imported; return the backend in force.

    The name comes from the argument (the app passes its `keras_backend` secret), else from the
    KERAS_BACKEND environment variable, else DEFAULT_BACKEND. Once Keras is loaded its backend is
    fixed for the process, and this returns the one in force.
    """
    name = _requested_backend(name)
    if name not in BACKENDS:
        raise ValueError(
            f"Unknown Keras backend {name!r}; choose one of: {', '.join(BACKENDS)} "
            "(set KERAS_BACKEND, or keras_backend in .streamlit/secrets.toml)."
        )
    loaded = _loaded_backend()
    if loaded:
        return loaded
    os.environ["KERAS_BACKEND"] = name
    # TensorFlow's start-up chatter is not for the user.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return name


def load(stage: str = "keras") -> None:
    """Import every stage up to and including `stage`; later calls return at once."""
    names = list(STAGES)
    for current in names[: names.index(stage) + 1]:
        if _done[current].is_set():
            continue
        with _lock:
            if _done[current].is_set():
                continue
            started = time.perf_counter()
            try:
                modules = STAGES[current]
                if current == "keras":
                    # An unknown KERAS_BACKEND is reported like a failed import.
                    modules = (choose_backend(), *modules)
                for module in modules:
                    importlib.import_module(module)
                if current == "keras":
                    _quiet_keras()
                    _keep_tensorflow_out()
                    _keep_compiled_programs()
            except Exception as error:  # a missing optional library must not take the app down
                _errors[current] = f"{type(error).__name__}: {error}"
                raise
            finally:
                _seconds[current] = time.perf_counter() - started
            _done[current].set()


def start_background_load(then: Callable[[], object] | None = None, *, then_niceness: int) -> None:
    """Start importing everything in a low-priority daemon thread; returns immediately.

    `then` runs afterwards in a second daemon thread at `then_niceness` (the training threads'), not
    in the importing one: the threads a backend starts at its first computation (XLA's compute pool)
    inherit the niceness of the thread that starts them, for the life of the process, and an
    unprivileged thread can never lower its niceness again. Only the first call starts anything.
    """
    global _background, _warm_up
    with _lock:
        if _background is not None or _done["keras"].is_set():
            return
        _background = threading.Thread(target=_load_quietly, name="preload-libraries", daemon=True)
        _background.start()
        if then is not None:
            _warm_up = threading.Thread(target=_after_loading, args=(then, then_niceness), name="warm-up", daemon=True)
            _warm_up.start()


def wait_for_background_load(timeout: float) -> bool:
    """Wait until start_background_load's threads have ended (True), or `timeout` seconds (False).

    A process that exits while they import or compile can crash in its shutdown (a daemon thread inside
    XLA's C++ when the interpreter finalizes): a test session waits for them first."""
    deadline = time.monotonic() + timeout
    for thread in (_background, _warm_up):
        if thread is not None:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                return False
    return True


def is_loaded(stage: str) -> bool:
    return _done[stage].is_set()


def load_error(stage: str) -> str | None:
    return _errors.get(stage)


def import_seconds() -> dict[str, float]:
    return dict(_seconds)


def versions() -> dict[str, str]:
    """Backend and library versions, for the app's "runs on" line (Keras must be loaded)."""
    import keras
    import sklearn

    found = {"Keras": keras.__version__, "backend": keras.backend.backend(), "scikit-learn": sklearn.__version__}
    if found["backend"] == "tensorflow":
        import tensorflow

        found["TensorFlow"] = tensorflow.__version__
    elif found["backend"] == "jax":
        import jax

        found["JAX"] = jax.__version__
    return found


def runs_on() -> str:
    """One line for the app: "Keras 3.12 on TensorFlow 2.21 · scikit-learn 1.7" (Keras must be loaded)."""
    found = versions()
    backend = {"tensorflow": "TensorFlow", "jax": "JAX"}.get(found["backend"], found["backend"])
    return f"Keras {found['Keras']} on {backend} {found.get(backend, '')}".rstrip() + (
        f" · scikit-learn {found['scikit-learn']}"
    )


def yield_cpu_to_the_server(niceness: int = 10) -> None:
    """Lower this thread's CPU priority, and that of the threads it starts (TensorFlow's pools, XLA's).

    The preload's imports take every core they are given; the server threads that answer page loads
    keep normal priority, so the first pages load at once. Training threads use the host's training
    niceness (core.jobs.runner). Linux sets this per thread, and an unprivileged thread cannot undo
    it; where the system does not allow it, nothing changes.
    """
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)


def _load_quietly() -> None:
    yield_cpu_to_the_server()
    # A failure is recorded in _errors; the page that needs Keras shows it.
    with contextlib.suppress(Exception):
        load("keras")
    freeze_long_lived_objects()


def freeze_long_lived_objects() -> None:
    """Put every object alive now out of the garbage collector's sight (gc.freeze). Called after the
    imports (about 400,000 objects: modules, functions, tables) and again after the warm-up (its
    compiled programs, the pages' modules): what is alive then stays so until the process ends.

    A full collection scans every object it tracks, holding the GIL all along: about 240 ms here with
    the libraries loaded, during which every visitor's script run and every training thread stood
    still (bench/gc_pauses.py). Frozen, they are never scanned again. An object is still freed when
    its last reference goes; only a reference cycle among objects alive now would outlive its use.
    """
    gc.collect()  # what is garbage already is freed first, not frozen
    gc.freeze()


def _after_loading(then: Callable[[], object], niceness: int) -> None:
    yield_cpu_to_the_server(niceness)
    _background.join()
    if _done["keras"].is_set():
        with contextlib.suppress(Exception):  # a warm-up is an optimisation: a failure shows at the next Train
            then()
        freeze_long_lived_objects()


# XLA's compiled programs are kept on disk, keyed by the program and the versions that built it: a run
# of a shape already trained (the default run, another seed, a room's forks) starts without compiling.
# Measured here on the digits: 3.6 s for the first run ever, 1.0 s in a new process, 0.4 s after that.
COMPILE_CACHE_ENV = "TRAINING_STUDIO_COMPILE_CACHE"
DEFAULT_COMPILE_CACHE = os.path.join(os.path.expanduser("~"), ".cache", "training-studio", "xla")


def compile_cache_folder(environ: dict | None = None) -> str | None:
    """Where compiled programs are kept: $TRAINING_STUDIO_COMPILE_CACHE, "off" for nowhere, else the default."""
    chosen = (os.environ if environ is None else environ).get(COMPILE_CACHE_ENV, "").strip()
    if chosen.lower() == "off":
        return None
    return chosen or DEFAULT_COMPILE_CACHE


def compiled_programs_kept() -> bool:
    """Whether the compiled-program cache already holds programs (a run of a known shape compiles little)."""
    folder = compile_cache_folder()
    try:
        return folder is not None and any(os.scandir(folder))
    except OSError:
        return False


def _keep_compiled_programs() -> None:
    import keras

    folder = compile_cache_folder()
    if keras.backend.backend() != "jax" or folder is None:
        return
    import jax

    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return  # a read-only home: every run compiles, as without the cache
    jax.config.update("jax_compilation_cache_dir", folder)
    # Every program, however small: the digits' dozen programs take 0.02–0.9 s each to compile.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def _keep_tensorflow_out() -> None:
    """On JAX, tell Keras that TensorFlow is not there, so that its optional checks do not import it.

    Keras asks whether TensorFlow is installed in set_random_seed (to seed tf.data) and whenever it
    serialises a layer's config (is this a tf.TensorShape?); each answer imports TensorFlow if it can:
    4 s and about 300 MB here, where Community Cloud gives an app 690 MB. Nothing on JAX needs it
    (the engine's images live on the device, core.training.jax_fit). tests/core/test_backends.py
    checks that a JAX run leaves TensorFlow unimported.
    """
    import sys

    import keras
    from keras.src.utils import module_utils

    if keras.backend.backend() != "tensorflow" and "tensorflow" not in sys.modules:
        module_utils.tensorflow._available = False


def _quiet_keras() -> None:
    import keras

    # Progress bars belong to the page, not to the server's terminal.
    keras.config.disable_interactive_logging()
