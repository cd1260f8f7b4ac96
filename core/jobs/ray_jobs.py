"""Training jobs on a Ray cluster, behind the same interface as core.jobs.runner.JobRunner.

A job travels as data (the runs' settings and a core.jobs.training_job.TrainingJobSpec). A Ray actor
runs the same engine on run records of its own and follows their updates (core.training.run.RunUpdate);
a thread in the app polls those updates and applies them to the app's runs, so the live charts, Stop,
the learning-rate control, "train more" and the waiting line behave as in-process. The trained model
comes back just before the run's last update. Ray is imported only here, and only when a RayJobRunner is made.
"""

from __future__ import annotations

import copy
import os
import tempfile
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core import libraries
from core.config import TrainingConfig
from core.jobs.runner import DEFAULT_PRIORITY, JobRunner
from core.jobs.training_job import TrainingJobSpec
from core.training.run import ENDED, FAILED, QUEUED, RUNNING, RunUpdate, TrainingRun, replay_updates

# Each job asks Ray for one CPU (Keras trains one model per process) and this much memory
# (TensorFlow plus a 70,000-image dataset), so Ray places it on a node that has both.
CPUS_PER_JOB = 1
DEFAULT_JOB_MEMORY_MB = 1536
# How often the app asks a worker for new events: well under the page's 1 s refresh.
POLL_SECONDS = 0.25
NAMESPACE = "training-studio"
CORE_DIR = Path(__file__).resolve().parents[1]

Event = tuple[
    str, int, Any
]  # ("update", index of the run in its job, RunUpdate) or ("outcome", index, (model, probabilities))


# --- the worker side -------------------------------------------------------------------------


def forward_to(events: list[Event], run: TrainingRun, index: int) -> None:
    """Note every update of `run` (a record inside a Ray worker) as an event for the app.

    The trained model travels as an event of its own just before the run's end, so the app never
    sees a finished run without its model.
    """

    def forward(update: RunUpdate) -> None:
        if update.kind == ENDED:
            events.append(("outcome", index, (encode_model(run.model), run.test_probabilities)))
        events.append(("update", index, update))

    run.follow(forward)


class TrainingWorker:
    """The Ray actor: trains one job at a time with core.training.engine, and answers polls meanwhile.

    Made a threaded actor (max_concurrency > 1) so poll, stop and set_learning_rate are served
    while train runs. One actor lives on per job slot, so TensorFlow is imported once per worker.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._job_id = ""
        self._events: list[Event] = []
        self._runs: list[TrainingRun] = []

    def ready(self) -> dict:
        import ray

        return {"pid": os.getpid(), "node_id": ray.get_runtime_context().get_node_id()}

    def train(self, job_id: str, entries: list[tuple[str, dict]], spec: dict, priors: list[dict | None]) -> None:
        """Train the job's runs in order, exactly as the in-process runner would."""
        from core.data.datasets import load_dataset
        from core.data.uploads import load_own_data
        from core.jobs.training_job import training_job

        with self._lock:
            self._job_id, self._events = job_id, []
            runs = [TrainingRun(TrainingConfig.from_dict(config), kind) for kind, config in entries]
            self._runs = runs
        for index, (run, prior) in enumerate(zip(runs, priors, strict=True)):
            if prior is not None:  # "train more": the epochs so far and the model, before anything is forwarded
                replay_updates(run, prior["updates"])
                run.model = decode_model(prior["model"])
            forward_to(self._events, run, index)
        libraries.load("keras" if any(kind == "keras" for kind, _ in entries) else "sklearn")
        if spec.get("own_images"):
            dataset = load_own_data(spec["own_images"], "your images.npz").dataset
        else:
            dataset = load_dataset(spec["dataset_name"], spec["data_dir"])
        training_job(runs, dataset, spec["extra_epochs"])()

    def poll(self, job_id: str, since: int) -> tuple[list[Event], int]:
        """Events of job_id from index `since` on, and the index to ask from next time."""
        with self._lock:
            if job_id != self._job_id:  # this job's train call has not started yet
                return [], since
            events = self._events[since:]
            return events, since + len(events)

    def stop(self, job_id: str, index: int) -> None:
        with self._lock:
            if job_id == self._job_id:
                self._runs[index].request_stop()

    def set_learning_rate(self, job_id: str, index: int, learning_rate: float) -> None:
        with self._lock:
            if job_id == self._job_id:
                self._runs[index].request_learning_rate(learning_rate)


# --- models across processes -----------------------------------------------------------------

_model_lock = threading.Lock()


def encode_model(model: Any) -> tuple[str, Any] | None:
    """A picklable form of a trained model: a .keras file's bytes (optimizer state included), or the
    scikit-learn estimator itself."""
    if model is None:
        return None
    if type(model).__module__.startswith("sklearn"):
        return ("sklearn", model)
    with _model_lock, tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return ("keras", path.read_bytes())


def decode_model(encoded: tuple[str, Any] | None) -> Any:
    """The model back from encode_model, compiled as it was, ready to predict or train more."""
    if encoded is None:
        return None
    kind, payload = encoded
    if kind == "sklearn":
        return payload
    libraries.load("keras")
    import keras

    from core.training.models import MacroScore

    # One model built at a time: several pump threads may finish together.
    with _model_lock, tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        path.write_bytes(payload)
        return keras.saving.load_model(path, custom_objects={"MacroScore": MacroScore})


# --- the app side ----------------------------------------------------------------------------


def apply_events(runs: Sequence[TrainingRun], events: Sequence[Event]) -> None:
    """Apply a worker's events to the app's runs: the same updates, in the same order."""
    for name, index, payload in events:
        run = runs[index]
        if name == "outcome":
            run.model = decode_model(payload[0])
            run.test_probabilities = payload[1]
        elif name == "update":
            run.apply(payload)
        else:
            raise ValueError(f"Unknown event {name!r} from a Ray worker; expected 'update' or 'outcome'.")


def prior_state(run: TrainingRun) -> dict:
    """What a worker needs to continue `run` for more epochs: its history as updates, and the model."""
    return {"updates": run.history_updates(), "model": encode_model(run.model)}


@dataclass
class _Worker:
    actor: Any
    pid: int
    node_id: str


class _WorkerPool:
    """Long-lived TrainingWorker actors, one per job slot, started when first needed."""

    def __init__(self, job_memory_mb: int) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._job_memory_mb = job_memory_mb

    def acquire(self) -> _Worker:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        import ray

        actor_class = ray.remote(TrainingWorker).options(
            num_cpus=CPUS_PER_JOB, memory=self._job_memory_mb * 1024 * 1024, max_concurrency=4, max_restarts=0
        )
        actor = actor_class.remote()
        found = ray.get(actor.ready.remote())
        return _Worker(actor, found["pid"], found["node_id"])

    def release(self, worker: _Worker, healthy: bool) -> None:
        if healthy:
            with self._lock:
                self._idle.append(worker)
            return
        import ray

        ray.kill(worker.actor)


class RayJobRunner:
    """core.jobs.runner.JobRunner's interface, with each job trained by a Ray actor on the cluster.

    The app keeps its own waiting line (a JobRunner with one slot per CPU of the cluster), so
    queue positions and Cancel work as in-process; each slot's thread drives one remote job.
    """

    def __init__(self, address: str, max_concurrent: int | None = None, job_memory_mb: int = DEFAULT_JOB_MEMORY_MB):
        import logging

        import ray

        ray.init(
            address=address,
            namespace=NAMESPACE,
            # The workers import the engine from this copy of core/, shipped with the job.
            runtime_env={"py_modules": [str(CORE_DIR)], "excludes": ["__pycache__"]},
            ignore_reinit_error=True,
            log_to_driver=False,
            logging_level=logging.ERROR,
        )
        self.address = address
        cpus = int(ray.cluster_resources().get("CPU", 0))
        self.slots = max_concurrent or max(1, cpus // CPUS_PER_JOB)
        self._line = JobRunner(self.slots)
        self._pool = _WorkerPool(job_memory_mb)
        self._active: dict[str, _Worker] = {}
        self._active_lock = threading.Lock()

    def describe(self) -> str:
        return f"a Ray cluster at {self.address} ({self.slots} training slot(s))"

    def submit(
        self, runs: Sequence[TrainingRun], job: Any, preload: str = "keras", priority: int = DEFAULT_PRIORITY
    ) -> None:
        """Queue `job` (a core.jobs.training_job.TrainingJob, or its TrainingJobSpec) to train `runs` on the cluster."""
        spec = getattr(job, "spec", job)
        if not hasattr(spec, "dataset_name"):
            raise TypeError(
                "RayJobRunner needs a job described by data (core.jobs.training_job.training_job(...) or a "
                f"TrainingJobSpec); got {type(job).__name__}. A plain function cannot be sent to another machine."
            )
        runs = list(runs)
        self._line.submit(runs, _in_place_of_training(job, lambda: self._run_remote(runs, spec)), preload, priority)

    def position(self, run: TrainingRun) -> int | None:
        return self._line.position(run)

    def seconds_until_start(self, run: TrainingRun) -> float | None:
        return self._line.seconds_until_start(run)

    def cancel(self, runs: Sequence[TrainingRun]) -> None:
        # Running jobs see the stop request at their next poll and pass it to the worker.
        self._line.cancel(runs)

    def counts(self) -> dict[str, int]:
        return self._line.counts()

    def wait_idle(self, timeout: float | None = None) -> bool:
        return self._line.wait_idle(timeout)

    def worker_of(self, run: TrainingRun) -> _Worker | None:
        """The worker training `run` right now (its actor, process id and node), if any."""
        with self._active_lock:
            return self._active.get(run.run_id)

    def _run_remote(self, runs: list[TrainingRun], spec: Any) -> None:
        import ray

        for run in runs:
            run.set_message("Starting on a Ray worker.")
        worker = self._pool.acquire()
        job_id = uuid.uuid4().hex
        healthy = False
        with self._active_lock:
            self._active.update({run.run_id: worker for run in runs})
        try:
            entries = [(run.kind, run.config.to_dict()) for run in runs]
            priors = [prior_state(run) if spec.extra_epochs else None for run in runs]
            spec_data = {
                "dataset_name": spec.dataset_name,
                "data_dir": spec.data_dir,
                "extra_epochs": spec.extra_epochs,
                "own_images": getattr(spec, "own_images", None),
            }
            done = worker.actor.train.remote(job_id, entries, spec_data, priors)
            _pump(worker.actor, job_id, done, runs)
            healthy = True
        except ray.exceptions.RayTaskError as error:
            healthy = True  # the engine raised; the worker itself is fine
            _fail_active(runs, f"Training failed on a Ray worker: {_cause(error)}")
        except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError, ray.exceptions.ObjectLostError):
            _fail_active(
                runs,
                f"The Ray worker training this run (process {worker.pid}) stopped unexpectedly: its process "
                "died or its machine left the cluster. Press Train to run it again.",
            )
        finally:
            with self._active_lock:
                for run in runs:
                    self._active.pop(run.run_id, None)
            self._pool.release(worker, healthy)


def _in_place_of_training(job: Any, remote: Any) -> Any:
    """`job` with its in-process training swapped for `remote`.

    A wrapper (core.results.experiments.SavingJob) keeps the job it wraps in `.job` and does its own work
    after it, in the slot's thread: it is kept, so that work happens on Ray too.
    """
    inner = getattr(job, "job", None) if not isinstance(job, TrainingJobSpec) else None
    if inner is None or not callable(job):
        return remote
    wrapper = copy.copy(job)
    wrapper.job = _in_place_of_training(inner, remote)
    return wrapper


def _pump(actor: Any, job_id: str, done: Any, runs: list[TrainingRun]) -> None:
    """Replay the worker's events into `runs` until the job ends, passing Stop and learning rates on."""
    import ray

    since = 0
    stops_sent: set[int] = set()
    while True:
        ready, _ = ray.wait([done], timeout=POLL_SECONDS)
        for index, run in enumerate(runs):
            if run.stop_requested and index not in stops_sent:
                stops_sent.add(index)
                actor.stop.remote(job_id, index)
            learning_rate = run.take_learning_rate_request()
            if learning_rate is not None:
                actor.set_learning_rate.remote(job_id, index, learning_rate)
        # Asked after ray.wait, so once the job is done this poll holds its last events.
        events, since = ray.get(actor.poll.remote(job_id, since))
        apply_events(runs, events)
        if ready:
            ray.get(done)  # raises what the worker raised
            return


def _fail_active(runs: list[TrainingRun], message: str) -> None:
    for run in runs:
        if run.status in (QUEUED, RUNNING):
            run.mark_finished(FAILED, message)


def _cause(error: Exception) -> str:
    """The worker's own exception, named and with its message, without Ray's wrapping."""
    cause = getattr(error, "cause", None) or error
    return f"{type(cause).__name__}: {cause}"
