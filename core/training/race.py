"""Races: one setting varied over 2–4 values, the variants trained side by side, one epoch each in turn.

A RaceSpec names the setting and its values; race_configs turns it into one TrainingConfig per variant,
everything else shared (data, split, seed). new_race makes the runs, ordinary TrainingRuns labelled by
their value; train_race trains them interleaved in this thread, which is one job for the JobRunner.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core import config as settings
from core.config import ConfigError, TrainingConfig
from core.data.datasets import Dataset
from core.training.engine import RunTrainer
from core.training.run import FAILED, STOPPED, TrainingRun

MIN_VARIANTS, MAX_VARIANTS = 2, 4
# Details each variant's run carries (run.snapshot().details): which race, which value, and its own
# fitting time at the end of each epoch (its epoch rows' "seconds" are the race's wall clock, which
# also counts the other variants' turns).
RACE_DETAIL = "race"
OWN_SECONDS_DETAIL = "race_seconds"
INITIAL_WEIGHTS_DETAIL = "race_initial_weights_from"


class RaceError(ConfigError):
    """A race that cannot be run as asked; the one-line message says why and what is accepted."""


@dataclass(frozen=True)
class RaceSetting:
    """A setting a race may vary: how a value is read from text, applied to a config, and shown."""

    name: str
    title: str
    parse: Callable[[str], object]
    apply: Callable[[TrainingConfig, object], TrainingConfig]
    show: Callable[[object], str]
    read: Callable[[TrainingConfig], object]
    choices: tuple[str, ...] = ()


def _number(kind: type, name: str) -> Callable[[str], object]:
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            noun = "whole numbers" if kind is int else "numbers"
            raise RaceError(f"{name} takes {noun}; got {text!r}.") from None
        return value

    return parse


def _choice(name: str, choices) -> Callable[[str], object]:
    def parse(text: str):
        if text not in choices:
            raise RaceError(f"Unknown {name} {text!r}; choose from: {', '.join(choices)}.")
        return text

    return parse


def _with_optimizer(config: TrainingConfig, optimizer: str) -> TrainingConfig:
    # A learning rate left at its optimizer's Keras default follows the optimizer (SGD at Adam's 0.001
    # would lose for the wrong reason); one chosen on purpose is shared by every variant.
    at_default = config.learning_rate == settings.DEFAULT_LEARNING_RATES[config.optimizer]
    rate = settings.DEFAULT_LEARNING_RATES[optimizer] if at_default else config.learning_rate
    return config.replace(optimizer=optimizer, learning_rate=rate)


def _with_units(config: TrainingConfig, units: int) -> TrainingConfig:
    # Every hidden layer gets the units; a network without hidden layers gets one.
    return config.replace(hidden_layers=(units,) * max(1, len(config.hidden_layers)))


def _with_layers(config: TrainingConfig, layers: int) -> TrainingConfig:
    units = config.hidden_layers[0] if config.hidden_layers else TrainingConfig().hidden_layers[0]
    return config.replace(hidden_layers=(units,) * layers)


SETTINGS: dict[str, RaceSetting] = {
    setting.name: setting
    for setting in (
        RaceSetting(
            "optimizer",
            "optimizer",
            _choice("optimizer", settings.OPTIMIZERS),
            _with_optimizer,
            lambda v: settings.OPTIMIZERS[v],
            lambda c: c.optimizer,
            tuple(settings.OPTIMIZERS),
        ),
        RaceSetting(
            "learning_rate",
            "learning rate",
            _number(float, "learning_rate"),
            lambda c, v: c.replace(learning_rate=v),
            lambda v: f"{v:g}",
            lambda c: c.learning_rate,
        ),
        RaceSetting(
            "batch_size",
            "batch size",
            _number(int, "batch_size"),
            lambda c, v: c.replace(batch_size=v),
            str,
            lambda c: c.batch_size,
        ),
        RaceSetting(
            "units",
            "units",
            _number(int, "units"),
            _with_units,
            str,
            lambda c: c.hidden_layers[0] if c.hidden_layers else 0,
        ),
        RaceSetting(
            "hidden_layers",
            "hidden layers",
            _number(int, "hidden_layers"),
            _with_layers,
            str,
            lambda c: len(c.hidden_layers),
        ),
        RaceSetting(
            "dropout",
            "dropout",
            _number(float, "dropout"),
            lambda c, v: c.replace(dropout=v),
            lambda v: f"{v:g}",
            lambda c: c.dropout,
        ),
        RaceSetting(
            "activation",
            "activation",
            _choice("activation", settings.ACTIVATIONS),
            lambda c, v: c.replace(activation=v),
            str,
            lambda c: c.activation,
            settings.ACTIVATIONS,
        ),
        RaceSetting(
            "model",
            "model",
            _choice("model", settings.MODELS),
            lambda c, v: c.replace(model=v),
            lambda v: {"dense": "dense", "cnn": "CNN"}.get(v, v),
            lambda c: c.model,
            tuple(settings.MODELS),
        ),
    )
}


@dataclass(frozen=True)
class RaceSpec:
    """Which setting a race varies and its 2–4 values (already parsed: "sgd", 0.01, 64, …)."""

    setting: str
    values: tuple

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(self.values))
        if self.setting not in SETTINGS:
            raise RaceError(f"A race cannot vary {self.setting!r}; choose one of: {', '.join(SETTINGS)}.")
        if not MIN_VARIANTS <= len(self.values) <= MAX_VARIANTS:
            raise RaceError(
                f"A race needs {MIN_VARIANTS} to {MAX_VARIANTS} values of {self.setting}; got {len(self.values)}."
            )
        if len(set(self.values)) != len(self.values):
            repeated = next(v for v in self.values if self.values.count(v) > 1)
            raise RaceError(f"Each value of {self.setting} may be raced once; {repeated!r} appears twice.")

    @property
    def title(self) -> str:
        return SETTINGS[self.setting].title

    def label(self, value) -> str:
        """A variant's name, e.g. "optimizer SGD", "learning rate 0.01", "batch size 64"."""
        return f"{self.title} {SETTINGS[self.setting].show(value)}"

    def to_dict(self) -> dict:
        return {"setting": self.setting, "values": list(self.values)}


def parse_vary(text: str) -> RaceSpec:
    """A spec from "setting=value,value[,…]" (the command line's --vary); RaceError says what is wrong."""
    name, equals, values = text.partition("=")
    name = name.strip().replace("-", "_")
    if not equals or not name:
        raise RaceError(f"--vary takes SETTING=VALUE,VALUE (e.g. optimizer=adam,sgd); got {text!r}.")
    if name not in SETTINGS:
        raise RaceError(f"A race cannot vary {name!r}; choose one of: {', '.join(SETTINGS)}.")
    parse = SETTINGS[name].parse
    return RaceSpec(name, tuple(parse(part.strip()) for part in values.split(",") if part.strip()))


def race_configs(spec: RaceSpec, base: TrainingConfig) -> list[TrainingConfig]:
    """One config per value: `base` with the one setting changed; a value out of bounds raises RaceError."""
    apply = SETTINGS[spec.setting].apply
    configs = []
    for value in spec.values:
        try:
            configs.append(apply(base, value))
        except ConfigError as error:
            raise RaceError(f"{spec.label(value)} cannot be raced: {error}") from None
    return configs


@dataclass(frozen=True)
class RacePreset:
    """A classic question, ready to race."""

    key: str
    title: str
    question: str
    spec: RaceSpec


PRESETS: dict[str, RacePreset] = {
    preset.key: preset
    for preset in (
        RacePreset(
            "optimizers",
            "Adam vs SGD vs RMSprop",
            "Which optimizer learns fastest, each at its own default learning rate?",
            RaceSpec("optimizer", ("adam", "sgd", "rmsprop")),
        ),
        RacePreset(
            "learning_rates",
            "Learning rate 0.1 / 0.01 / 0.001",
            "Too big a step overshoots, too small a step crawls: which is right?",
            RaceSpec("learning_rate", (0.1, 0.01, 0.001)),
        ),
        RacePreset(
            "batch_sizes",
            "Batch size 16 / 64 / 256",
            "Many small noisy steps or few large precise ones: per epoch, and per second?",
            RaceSpec("batch_size", (16, 64, 256)),
        ),
        RacePreset(
            "units",
            "16 / 64 / 256 units",
            "Does a wider layer learn more, and what does it cost?",
            RaceSpec("units", (16, 64, 256)),
        ),
        RacePreset(
            "depth",
            "0 / 1 / 2 hidden layers",
            "What does a hidden layer add over a plain linear classifier?",
            RaceSpec("hidden_layers", (0, 1, 2)),
        ),
        RacePreset(
            "dropout",
            "Dropout 0 / 0.2 / 0.5",
            "Does switching off neurons at random help the model on images it has not seen?",
            RaceSpec("dropout", (0.0, 0.2, 0.5)),
        ),
        RacePreset(
            "activations",
            "ReLU vs tanh vs sigmoid",
            "Does the shape of the activation function matter?",
            RaceSpec("activation", ("relu", "tanh", "sigmoid")),
        ),
        RacePreset(
            "models",
            "Dense network vs CNN",
            "Do convolutions, which look at neighbouring pixels together, beat a dense network?",
            RaceSpec("model", ("dense", "cnn")),
        ),
    )
}


class Race:
    """One race: its spec, the shared settings, and one ordinary TrainingRun per variant."""

    def __init__(self, spec: RaceSpec, base: TrainingConfig) -> None:
        self.race_id = uuid.uuid4().hex[:10]
        self.spec = spec
        self.base = base
        self.runs = [
            TrainingRun(config, "keras", spec.label(value))
            for config, value in zip(race_configs(spec, base), spec.values, strict=True)
        ]
        for index, (run, value) in enumerate(zip(self.runs, spec.values, strict=True)):
            run.set_detail(
                RACE_DETAIL, {"race_id": self.race_id, "setting": spec.setting, "value": value, "index": index}
            )

    def request_stop(self) -> None:
        """Stop every variant at its next batch; each keeps what it learned (and is tested)."""
        for run in self.runs:
            run.request_stop()

    @property
    def is_active(self) -> bool:
        return any(run.snapshot().is_active for run in self.runs)

    def snapshots(self) -> list:
        return [run.snapshot() for run in self.runs]

    def to_record(self) -> dict:
        """The JSON race record: the spec, the shared settings and every variant's run record."""
        variants = []
        for run in self.runs:
            record = run.to_record()
            record["own_seconds"] = list(run.snapshot().details.get(OWN_SECONDS_DETAIL, []))
            variants.append(record)
        return {
            "race_id": self.race_id,
            **self.spec.to_dict(),
            "base_config": self.base.to_dict(),
            "variants": variants,
        }


def new_race(spec: RaceSpec, base: TrainingConfig) -> Race:
    return Race(spec, base)


def repeat_races(spec: RaceSpec, base: TrainingConfig, seeds: Sequence[int]) -> list[Race]:
    """The same race once per seed (other split, shuffle and initial weights), to measure the
    seed-to-seed spread (core.results.race.seed_spread_sentence)."""
    return [Race(spec, base.replace(seed=seed)) for seed in seeds]


def train_race(runs: Sequence[TrainingRun], dataset: Dataset) -> None:
    """Train the runs interleaved: one epoch of each in turn, until every one is done.

    One thread, one fit at a time. Each run keeps its own model, optimizer state, shuffle order and
    early stopping. Runs with the same architecture start from the first such run's initial weights
    (same seed and architecture already give the same ones; dropout layers draw a seed as they are
    built, which would otherwise change the output layer's). A run that diverges, or raises, ends
    FAILED with its own message while the others go on.
    """
    shared_data: dict[tuple, object] = {}
    initial_weights: dict[tuple, tuple[str, list]] = {}
    trainers = []
    for run in runs:
        if run.stop_requested:
            run.mark_finished(STOPPED, "Stopped before it started.")
            continue
        config = run.config
        split = (config.dataset, config.data_dir, config.seed, config.validation_split, config.subsample)
        try:
            trainer = RunTrainer(run, dataset, data=shared_data.get(split))
        except Exception as error:  # one variant's failure must not end its rivals
            _fail(run, error)
            continue
        shared_data[split] = trainer.data
        _share_initial_weights(trainer, initial_weights)
        trainers.append(trainer)
    own_seconds = {trainer.run.run_id: 0.0 for trainer in trainers}
    while trainers:
        for trainer in list(trainers):
            run = trainer.run
            started = time.perf_counter()
            try:
                trainer.fit(1)
                own_seconds[run.run_id] += time.perf_counter() - started
                _note_own_seconds(run, own_seconds[run.run_id])
                if trainer.done:
                    trainers.remove(trainer)
                    trainer.finish()
            except Exception as error:
                if trainer in trainers:
                    trainers.remove(trainer)
                _fail(run, error)


def _note_own_seconds(run: TrainingRun, seconds: float) -> None:
    """Each epoch's end on the run's own clock: the time its own fit calls took so far."""
    noted = list(run.snapshot().details.get(OWN_SECONDS_DETAIL, []))
    noted.extend([seconds] * (run.completed_epochs - len(noted)))
    run.set_detail(OWN_SECONDS_DETAIL, noted)


def _fail(run: TrainingRun, error: Exception) -> None:
    run.mark_finished(FAILED, f"Training failed: {type(error).__name__}: {error}")


def _share_initial_weights(trainer, initial_weights: dict) -> None:
    weights = trainer.model.get_weights()
    shapes = tuple(w.shape for w in weights)
    if shapes not in initial_weights:
        initial_weights[shapes] = (trainer.run.label, weights)
        return
    label, first = initial_weights[shapes]
    trainer.model.set_weights(first)
    trainer.run.set_detail(INITIAL_WEIGHTS_DETAIL, label)
