"""Workshop rooms: a presenter's run followed live by a room, participants' own tries, one board.

Rooms live in the server process, in one RoomRegistry shared by every session; every method is
thread-safe. A room holds references to run records, never copies: a hundred viewers of the
presenter's run all read the same TrainingRun. The presenter is whoever holds the room's secret,
which the registry hands out once, at creation, and keeps only as a hash; a join link carries the
room's code alone.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from core.config import TrainingConfig
from core.data.datasets import Dataset
from core.jobs.runner import PRESENTER_PRIORITY, positive_from_environment
from core.jobs.start import start_runs
from core.results.experiments import differing_settings
from core.results.handwriting import (
    DIGITS,
    HandwritingScore,
    dataset_zip,
    held_out_split,
    score_drawings,
    with_drawings,
)
from core.training.inference import ModelSnapshot
from core.training.run import ACTIVE_STATUSES, FINISHED, STOPPED, TrainingRun

# Codes read aloud and typed on phones: no 0/O, 1/I/L look-alikes.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 5
MAX_NICKNAME_CHARS = 24
# Caps, each overridable from the environment (TRAINING_STUDIO_ROOM_*): a room is a workshop, not a public forum.
MAX_ROOMS, MAX_ROOMS_ENV = 20, "TRAINING_STUDIO_MAX_ROOMS"
MAX_PARTICIPANTS, MAX_PARTICIPANTS_ENV = 100, "TRAINING_STUDIO_ROOM_MAX_PARTICIPANTS"
MAX_RUNS, MAX_RUNS_ENV = 300, "TRAINING_STUDIO_ROOM_MAX_RUNS"
# The room's handwriting: drawings are kept in memory only, so a room's set stays small and bounded.
MAX_DRAWINGS_EACH, MAX_DRAWINGS_EACH_ENV = 50, "TRAINING_STUDIO_ROOM_MAX_DRAWINGS_EACH"
MAX_DRAWINGS, MAX_DRAWINGS_ENV = 3000, "TRAINING_STUDIO_ROOM_MAX_DRAWINGS"
# Teaching the presenter's model the room's handwriting: this share of each digit's drawings stays out, to
# score it on handwriting it was not taught; the split is seeded, so the same set splits the same way.
HELD_OUT_SHARE, HELD_OUT_SEED = 0.3, 0
MIN_DRAWINGS_TO_TEACH = 20
# A room nobody has touched (no step, join, run or board view) for this long ends by itself.
IDLE_MINUTES, IDLE_MINUTES_ENV = 120.0, "TRAINING_STUDIO_ROOM_IDLE_MINUTES"
BOARD_STATUSES = (FINISHED, STOPPED)
# Viewers of a room redraw the presenter's live run every second, slower in a big room: the whole room
# costs the server at most this many redraws a second, so its cores stay with the training.
MAX_VIEWER_REDRAWS_PER_SECOND = 15.0
VIEWER_REFRESH_SECONDS = (1.0, 5.0)  # the fastest and slowest redraw of one viewer
# While nothing trains, a viewer's page only asks the room this often whether anything changed.
FOLLOW_SECONDS = 2.0
# A participant whose page has not asked for this long has left (a closed tab or a reload, which is a
# new session): no longer counted, and their place goes to a newcomer when the room is full.
PRESENT_SECONDS = 30.0


def viewer_refresh_seconds(viewers: int) -> float:
    """How often each of `viewers` screens redraws a live run: every second, until the room is so
    big that the redraws together would pass MAX_VIEWER_REDRAWS_PER_SECOND."""
    fastest, slowest = VIEWER_REFRESH_SECONDS
    return min(slowest, max(fastest, viewers / MAX_VIEWER_REDRAWS_PER_SECOND))


class RoomError(ValueError):
    """What a person tried cannot be done in this room; the message says why and what to do."""


@dataclass(frozen=True)
class RoomLimits:
    max_rooms: int = MAX_ROOMS
    max_participants: int = MAX_PARTICIPANTS
    max_runs: int = MAX_RUNS
    idle_seconds: float = IDLE_MINUTES * 60
    max_drawings_each: int = MAX_DRAWINGS_EACH
    max_drawings: int = MAX_DRAWINGS


def limits_from_environment(environ: dict | None = None) -> RoomLimits:
    """The caps in force: the TRAINING_STUDIO_*ROOM* variables where set, else the defaults above."""
    return RoomLimits(
        max_rooms=positive_from_environment(environ, MAX_ROOMS_ENV, MAX_ROOMS, int),
        max_participants=positive_from_environment(environ, MAX_PARTICIPANTS_ENV, MAX_PARTICIPANTS, int),
        max_runs=positive_from_environment(environ, MAX_RUNS_ENV, MAX_RUNS, int),
        idle_seconds=60 * positive_from_environment(environ, IDLE_MINUTES_ENV, IDLE_MINUTES, float),
        max_drawings_each=positive_from_environment(environ, MAX_DRAWINGS_EACH_ENV, MAX_DRAWINGS_EACH, int),
        max_drawings=positive_from_environment(environ, MAX_DRAWINGS_ENV, MAX_DRAWINGS, int),
    )


def normalise_code(raw: str | None) -> str | None:
    """A room code as typed ("abc-de ", "ABCDE") in its canonical form, or None when it cannot be one."""
    if not isinstance(raw, str):
        return None
    code = "".join(raw.split()).replace("-", "").upper()
    if len(code) != CODE_LENGTH or any(char not in CODE_ALPHABET for char in code):
        return None
    return code


def clean_nickname(raw: str | None) -> str:
    """A nickname as plain, printable, single-line text of at most MAX_NICKNAME_CHARS ("" when none is left).

    Control and formatting characters (newlines, bidirectional overrides, zero-width joiners) are
    dropped; pages show the result as text, never as markdown or HTML.
    """
    if not isinstance(raw, str):
        return ""
    kept = "".join(char for char in raw if unicodedata.category(char)[0] not in ("C", "Z") or char == " ")
    return " ".join(kept.split())[:MAX_NICKNAME_CHARS].strip()


@dataclass(frozen=True)
class RoomEntry:
    """A run of the room: the presenter's (participant_id None) or a participant's try."""

    run: TrainingRun
    participant_id: str | None
    nickname: str


@dataclass(frozen=True)
class BoardRow:
    place: int
    nickname: str
    model: str
    differs: str
    test_accuracy: float | None
    fit_seconds: float | None
    run_id: str
    is_presenter: bool


@dataclass(frozen=True)
class RoomView:
    """What every screen of the room shows, read at one moment."""

    code: str
    step: int
    presenter_runs: tuple[TrainingRun, ...]
    presenter_config: TrainingConfig | None
    participants: int
    ended: bool
    version: tuple  # changes whenever anything above does, or the presenter's runs change


@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth value
class RoomDrawing:
    """One drawing of the room's handwriting: the digit its author was asked for, kept as MNIST keeps one."""

    drawing_id: int
    participant_id: str
    digit: int
    image: np.ndarray  # 28×28 uint8, ink bright (core.results.handwriting)


@dataclass(frozen=True, eq=False)  # eq=False: holds arrays
class FineTune:
    """The presenter's model taught part of the room's handwriting: what the board compares before and after."""

    run: TrainingRun
    before: ModelSnapshot  # the model's numpy copy before it was taught
    before_test_accuracy: float | None
    held_out: tuple[RoomDrawing, ...]  # the room's drawings it was not taught
    taught: int


class RoomHandwriting:
    """The room's drawn digits, in the server's memory only; thread-safe. Room checks who may change it.

    Prompts spread the digits evenly: each participant is asked for the digit with the fewest drawings,
    counting the prompts already handed out, so a room that asks at once still gets every digit.
    Readings are cached for the few models last asked about: a drawing is read once per model.
    """

    CACHED_MODELS = 4

    def __init__(self, code: str, limits: RoomLimits) -> None:
        self._code = code
        self._limits = limits
        self._lock = threading.Lock()
        self._open = False
        self._drawings: dict[int, RoomDrawing] = {}
        self._next_id = 1
        self._prompts: dict[str, int] = {}
        self._version = 0
        self._readings: list[tuple[ModelSnapshot, dict[int, tuple[int, float]]]] = []

    def open(self) -> None:
        with self._lock:
            self._open = True
            self._version += 1

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._open

    def version(self) -> int:
        """Changes with every drawing added or removed: cheap to ask often."""
        with self._lock:
            return self._version

    def prompt_for(self, participant_id: str) -> int:
        """The digit this participant is asked to draw next (the same until they send it)."""
        with self._lock:
            if participant_id not in self._prompts:
                wanted = self._counts() + np.bincount(list(self._prompts.values()), minlength=len(DIGITS))
                self._prompts[participant_id] = int(np.argmin(wanted))
            return self._prompts[participant_id]

    def add(self, participant_id: str, image: np.ndarray) -> RoomDrawing:
        """Keep a drawing, labelled by the participant's prompt; RoomError when closed or a cap is reached."""
        prompt = self.prompt_for(participant_id)
        with self._lock:
            self._check_can_add(participant_id)
            drawing = RoomDrawing(self._next_id, participant_id, prompt, np.array(image, dtype=np.uint8))
            self._drawings[drawing.drawing_id] = drawing
            self._next_id += 1
            self._prompts.pop(participant_id, None)
            self._version += 1
            return drawing

    def forget_prompt(self, participant_id: str) -> None:
        """A participant left: their prompt no longer counts as a digit on its way."""
        with self._lock:
            self._prompts.pop(participant_id, None)

    def remove(self, drawing_id: int) -> bool:
        """Drop a drawing from the set (and so from every screen); False when it was not there."""
        with self._lock:
            removed = self._drawings.pop(int(drawing_id), None) is not None
            if removed:
                self._version += 1
            return removed

    def drawings(self, participant_id: str | None = None) -> tuple[RoomDrawing, ...]:
        """Every drawing kept, oldest first, or only one participant's."""
        with self._lock:
            return tuple(d for d in self._drawings.values() if participant_id in (None, d.participant_id))

    def counts(self) -> np.ndarray:
        """Drawings kept of each digit."""
        with self._lock:
            return self._counts()

    def score(self, snapshot: ModelSnapshot, drawings: Sequence[RoomDrawing]) -> HandwritingScore:
        """How the model reads these drawings; each drawing is read once per model, outside the lock."""
        known = self._known_readings(snapshot)
        with self._lock:
            missing = [drawing for drawing in drawings if drawing.drawing_id not in known]
        if missing:
            fresh = score_drawings(snapshot, [d.image for d in missing], [d.digit for d in missing])
            read = zip(missing, fresh.predictions, fresh.confidences, strict=True)
            with self._lock:
                known.update({d.drawing_id: (int(p), float(c)) for d, p, c in read})
        with self._lock:
            readings = [known[drawing.drawing_id] for drawing in drawings]
        return HandwritingScore.of(
            [drawing.digit for drawing in drawings], [p for p, _ in readings], [c for _, c in readings]
        )

    def _known_readings(self, snapshot: ModelSnapshot) -> dict[int, tuple[int, float]]:
        """The cache of this model's readings (made empty for a model not seen lately); filled in place."""
        with self._lock:
            for cached, readings in self._readings:
                if cached is snapshot:
                    return readings
            self._readings = [(snapshot, {}), *self._readings][: self.CACHED_MODELS]
            return self._readings[0][1]

    def _counts(self) -> np.ndarray:
        return np.bincount([d.digit for d in self._drawings.values()], minlength=len(DIGITS))

    def _check_can_add(self, participant_id: str) -> None:
        if not self._open:
            raise RoomError("The presenter is not collecting drawings right now.")
        if len(self._drawings) >= self._limits.max_drawings:
            raise RoomError(
                f"Room {self._code} has its {self._limits.max_drawings:,} drawings, its limit: thank you, "
                "no more are needed."
            )
        mine = sum(1 for d in self._drawings.values() if d.participant_id == participant_id)
        if mine >= self._limits.max_drawings_each:
            raise RoomError(f"You have sent {mine} drawings, the most one person may: thank you!")


class Room:
    """One workshop room. Presenter actions take the room's secret; a wrong one is refused."""

    PRESENTER = "Presenter"

    def __init__(self, code: str, secret: str, limits: RoomLimits, clock: Callable[[], float]) -> None:
        self.code = code
        self._secret_hash = _hash(secret)
        self._limits = limits
        self._clock = clock
        self._lock = threading.RLock()
        self.created_at = self._last_activity = clock()
        self._version = 0
        self._step = 1
        self._presenter_runs: tuple[TrainingRun, ...] = ()
        self._presenter_config: TrainingConfig | None = None
        self._participants: dict[str, str] = {}
        self._seen: dict[str, float] = {}  # when each participant's page last asked the room
        self._entries: list[RoomEntry] = []
        self._ended = False
        self._handwriting = RoomHandwriting(code, limits)
        self._fine_tune: FineTune | None = None

    # --- the presenter ---------------------------------------------------------------------
    def is_presenter(self, secret: str | None) -> bool:
        return isinstance(secret, str) and hmac.compare_digest(_hash(secret), self._secret_hash)

    def set_step(self, secret: str | None, step: int) -> None:
        with self._changing(secret, "move the lesson to another step"):
            self._step = int(step)

    def set_presenter_config(self, secret: str | None, config: TrainingConfig) -> None:
        """The settings participants fork from (the presenter's sidebar or lesson settings)."""
        with self._changing(secret, "change the room's settings"):
            self._presenter_config = config

    def present_runs(self, secret: str | None, runs: Sequence[TrainingRun]) -> None:
        """The presenter started `runs`: every screen of the room follows them, and the board gets them."""
        with self._changing(secret, "start the room's run"):
            self._check_run_cap(len(runs))
            self._presenter_runs = tuple(runs)
            self._presenter_config = runs[0].config if runs else self._presenter_config
            self._entries.extend(RoomEntry(run, None, self.PRESENTER) for run in runs)

    def end(self, secret: str | None) -> None:
        with self._changing(secret, "end the room"):
            self._ended = True

    def collect_handwriting(self, secret: str | None) -> None:
        """Open the room's handwriting: every participant's screen asks for a digit to draw."""
        with self._changing(secret, "collect the room's handwriting"):
            self._handwriting.open()

    def remove_drawing(self, secret: str | None, drawing_id: int) -> bool:
        """Take a drawing out of the room's set and off every screen; False when it was already gone."""
        with self._changing(secret, "remove a drawing"):
            return self._handwriting.remove(drawing_id)

    def handwriting_zip(self, secret: str | None) -> bytes:
        """The room's set as a .zip of class folders, for the presenter to download (nothing is written here)."""
        if not self.is_presenter(secret):
            raise RoomError(f"Only the presenter of room {self.code} can download the room's drawings.")
        drawings = self._handwriting.drawings()
        return dataset_zip([d.image for d in drawings], [d.digit for d in drawings])

    # --- participants ----------------------------------------------------------------------
    def join(self, participant_id: str, nickname: str | None = None) -> str:
        """Add a participant (again, harmlessly); returns the nickname shown for them."""
        with self._lock:
            self._check_open()
            if participant_id not in self._participants:
                self._forget_the_departed()
                if len(self._participants) >= self._limits.max_participants:
                    raise RoomError(
                        f"Room {self.code} is full ({self._limits.max_participants} people). "
                        "Ask the presenter to open a second room."
                    )
                self._participants[participant_id] = clean_nickname(nickname) or self._guest_name()
            elif nickname is not None and clean_nickname(nickname):
                self._participants[participant_id] = clean_nickname(nickname)
            self._seen[participant_id] = self._clock()
            self._touch()
            return self._participants[participant_id]

    def leave(self, participant_id: str) -> None:
        with self._lock:
            self._seen.pop(participant_id, None)
            self._handwriting.forget_prompt(participant_id)
            if self._participants.pop(participant_id, None) is not None:
                self._touch()

    def seen(self, participant_id: str) -> None:
        """The participant's page asked the room just now (each follow check and live redraw says so)."""
        with self._lock:
            if participant_id in self._participants:
                self._seen[participant_id] = self._clock()

    def is_participant(self, participant_id: str | None) -> bool:
        with self._lock:
            return participant_id in self._participants

    def nickname_of(self, participant_id: str) -> str | None:
        with self._lock:
            return self._participants.get(participant_id)

    def active_try(self, participant_id: str) -> tuple[TrainingRun, ...]:
        """The participant's queued or running runs (empty when they have none)."""
        with self._lock:
            return tuple(
                entry.run
                for entry in self._entries
                if entry.participant_id == participant_id and entry.run.status in ACTIVE_STATUSES
            )

    def add_try(self, participant_id: str, runs: Sequence[TrainingRun]) -> None:
        """Record a participant's runs; refused while one of theirs is still queued or running."""
        with self._lock:
            self.check_try(participant_id, len(runs))
            nickname = self._participants[participant_id]
            self._entries.extend(RoomEntry(run, participant_id, nickname) for run in runs)
            self._touch()

    def check_try(self, participant_id: str, runs: int = 1) -> None:
        """Raise the RoomError add_try would raise, before any run is made (pages call it first)."""
        with self._lock:
            self._check_open()
            if participant_id not in self._participants:
                raise RoomError(f"Join room {self.code} first, then press Train.")
            if self.active_try(participant_id):
                raise RoomError("Your run is still in line or training: one at a time each, so everyone gets a turn.")
            self._check_run_cap(runs)

    def teach_handwriting(
        self, secret: str | None, runner, run: TrainingRun, dataset: Dataset, extra_epochs: int
    ) -> FineTune:
        """Train `run` `extra_epochs` more on `dataset` with part of the room's drawings mixed in; the rest held out.

        The run continues (core.jobs.start's "train more" path) on the same test set, so the board can say
        what it gained on the room's held-out digits and whether it forgot anything of its test set.
        """
        drawings = self._handwriting.drawings()
        with self._changing(secret, "teach the model the room's handwriting"):
            before = run.snapshot()
            if before.is_active or before.details.get("snapshot") is None:
                raise RoomError("Wait until your model has finished training, then teach it the room's handwriting.")
            if len(drawings) < MIN_DRAWINGS_TO_TEACH:
                raise RoomError(
                    f"The room has {len(drawings)} drawings: teach the model once it has {MIN_DRAWINGS_TO_TEACH}."
                )
            taught, held_out = held_out_split([d.digit for d in drawings], HELD_OUT_SHARE, HELD_OUT_SEED)
            mixed = with_drawings(dataset, [drawings[i].image for i in taught], [drawings[i].digit for i in taught])
            accuracy = before.test_metrics.get("accuracy")
            self._fine_tune = FineTune(
                run, before.details["snapshot"], accuracy, tuple(drawings[i] for i in held_out), len(taught)
            )
            start_runs(runner, [run], mixed, extra_epochs=extra_epochs, priority=PRESENTER_PRIORITY)
            return self._fine_tune

    @property
    def fine_tune(self) -> FineTune | None:
        """The presenter's latest teaching of the room's handwriting, or None."""
        with self._lock:
            return self._fine_tune

    def handwriting_prompt(self, participant_id: str) -> int:
        """The digit this participant is asked to draw next."""
        return self._handwriting.prompt_for(participant_id)

    def submit_drawing(self, participant_id: str, image: np.ndarray) -> RoomDrawing:
        """Add a participant's drawing (core.results.handwriting's 28×28 form), labelled by their prompt."""
        with self._lock:
            self._check_open()
            if participant_id not in self._participants:
                raise RoomError(f"Join room {self.code} first, then draw.")
            self._seen[participant_id] = self._clock()
            self._last_activity = self._clock()
        return self._handwriting.add(participant_id, image)

    # --- reading ---------------------------------------------------------------------------
    @property
    def collecting_handwriting(self) -> bool:
        return self._handwriting.is_open

    def handwriting_version(self) -> int:
        """Changes with every drawing added or removed."""
        return self._handwriting.version()

    def drawings(self, participant_id: str | None = None) -> tuple[RoomDrawing, ...]:
        """The room's drawings, oldest first (or one participant's). Pages show them without names."""
        return self._handwriting.drawings(participant_id)

    def drawing_counts(self) -> np.ndarray:
        return self._handwriting.counts()

    def score_handwriting(self, snapshot: ModelSnapshot, drawings: Sequence[RoomDrawing]) -> HandwritingScore:
        """How a model (a numpy snapshot) reads these drawings of the room; each is read once per model."""
        return self._handwriting.score(snapshot, drawings)

    def view(self) -> RoomView:
        with self._lock:
            return RoomView(
                code=self.code,
                step=self._step,
                presenter_runs=self._presenter_runs,
                presenter_config=self._presenter_config,
                participants=self._present(),
                ended=self._ended,
                version=(self._version, *(run.version for run in self._presenter_runs)),
            )

    def version(self) -> tuple:
        """Changes when the step, the people, the runs or the presenter's run change: cheap to ask often."""
        return self.view().version

    def follow_key(self) -> tuple:
        """What a follower's page must redraw for: the step, the presenter's runs and their status,
        the settings to fork, the finished runs, the room's end. Not each batch, nor each join."""
        with self._lock:
            return (
                self._step,
                tuple((run.run_id, run.status) for run in self._presenter_runs),
                self._presenter_config,
                sum(1 for entry in self._entries if entry.run.status in BOARD_STATUSES),
                self._ended,
                self._handwriting.is_open,
            )

    def entries(self) -> tuple[RoomEntry, ...]:
        with self._lock:
            return tuple(self._entries)

    def run_ids(self) -> set[str]:
        with self._lock:
            return {entry.run.run_id for entry in self._entries}

    def board(self) -> list[BoardRow]:
        """Every finished run of the room, best test accuracy first (then the faster fit)."""
        with self._lock:
            entries, base = list(self._entries), self._presenter_config
        done = [(entry, entry.run.snapshot()) for entry in entries if entry.run.status in BOARD_STATUSES]
        done.sort(key=lambda pair: (-(pair[1].test_metrics.get("accuracy") or 0.0), pair[1].fit_seconds or 0.0))
        rows = []
        for place, (entry, snap) in enumerate(done, start=1):
            differs = differing_settings([base, snap.config])[1] if base is not None else ""
            rows.append(
                BoardRow(
                    place=place,
                    nickname=entry.nickname,
                    model=snap.label if entry.participant_id is None else ("Keras" if snap.kind == "keras" else "MLP"),
                    differs=differs or "same as the presenter",
                    test_accuracy=snap.test_metrics.get("accuracy"),
                    fit_seconds=snap.fit_seconds,
                    run_id=snap.run_id,
                    is_presenter=entry.participant_id is None,
                )
            )
        return rows

    @property
    def ended(self) -> bool:
        with self._lock:
            return self._ended

    def idle_seconds(self, now: float | None = None) -> float:
        with self._lock:
            busy = any(entry.run.status in ACTIVE_STATUSES for entry in self._entries)
            return 0.0 if busy else (self._clock() if now is None else now) - self._last_activity

    def touch(self) -> None:
        """Note activity (a screen of the room was drawn), so a room in use does not expire."""
        with self._lock:
            self._last_activity = self._clock()

    # --- inside ----------------------------------------------------------------------------
    @contextmanager
    def _changing(self, secret: str | None, what: str):
        """Hold the room for a presenter's change: refused for anyone without the secret, or once ended."""
        with self._lock:
            if not self.is_presenter(secret):
                raise RoomError(f"Only the presenter of room {self.code} can {what}.")
            self._check_open()
            yield
            self._touch()

    def _touch(self) -> None:
        self._version += 1
        self._last_activity = self._clock()

    def _check_open(self) -> None:
        if self._ended:
            raise RoomError(f"Room {self.code} has ended. Ask the presenter for the new room's code.")

    def _check_run_cap(self, adding: int) -> None:
        if len(self._entries) + adding > self._limits.max_runs:
            raise RoomError(
                f"Room {self.code} has reached its {self._limits.max_runs} runs: no more can be trained in it. "
                "The board keeps every run so far."
            )

    def _present(self) -> int:
        now = self._clock()
        return sum(1 for seen in self._seen.values() if now - seen < PRESENT_SECONDS)

    def _forget_the_departed(self) -> None:
        """Drop participants gone for PRESENT_SECONDS with nothing in line (their runs stay on the board)."""
        now = self._clock()
        for participant_id, seen in list(self._seen.items()):
            if now - seen >= PRESENT_SECONDS and not self.active_try(participant_id):
                del self._seen[participant_id]
                del self._participants[participant_id]
                self._handwriting.forget_prompt(participant_id)

    def _guest_name(self) -> str:
        taken = set(self._participants.values())
        number = len(self._participants) + 1
        while f"Guest {number}" in taken:
            number += 1
        return f"Guest {number}"


class RoomRegistry:
    """Every room of the server process, by code; thread-safe. Ended and idle rooms are dropped."""

    def __init__(self, limits: RoomLimits | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits or RoomLimits()
        self._clock = clock
        self._lock = threading.Lock()
        self._rooms: dict[str, Room] = {}

    def create(self) -> tuple[Room, str]:
        """A new room and its presenter's secret (keep the secret in the presenter's session only)."""
        with self._lock:
            self._expire()
            if len(self._rooms) >= self.limits.max_rooms:
                raise RoomError(
                    f"This server already has {self.limits.max_rooms} rooms open, its limit. "
                    "Try again when a workshop has ended, or end a room you no longer use."
                )
            code = self._new_code()
            secret = secrets.token_urlsafe(24)
            room = Room(code, secret, self.limits, self._clock)
            self._rooms[code] = room
            return room, secret

    def get(self, code: str | None) -> Room | None:
        """The open room with this code (typed in any case, with spaces or a dash), or None."""
        wanted = normalise_code(code)
        with self._lock:
            self._expire()
            return self._rooms.get(wanted) if wanted else None

    def end(self, code: str, secret: str) -> None:
        room = self.get(code)
        if room is None:
            raise RoomError(f"There is no open room {code!r}.")
        room.end(secret)
        with self._lock:
            self._rooms.pop(room.code, None)

    def open_rooms(self) -> int:
        with self._lock:
            self._expire()
            return len(self._rooms)

    def rooms_with(self, run_ids: set[str]) -> list[Room]:
        """The open rooms holding any of these runs."""
        with self._lock:
            rooms = list(self._rooms.values())
        return [room for room in rooms if room.run_ids() & run_ids]

    def _expire(self) -> None:
        now = self._clock()
        for code, room in list(self._rooms.items()):
            if room.ended or room.idle_seconds(now) >= self.limits.idle_seconds:
                del self._rooms[code]

    def _new_code(self) -> str:
        while True:
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if code not in self._rooms:
                return code


def chart_safe(text: str) -> str:
    """A nickname for a chart's legend, where Plotly reads a few HTML tags: angle brackets shown, not read."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()
