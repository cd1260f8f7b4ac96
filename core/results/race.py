"""What a race found: a ranking of its variants and sentences computed from their curves.

Everything here reads RunSnapshots (live or finished), so a page can show the ranking while the race
runs. Times are each variant's own fitting time (core.training.race.OWN_SECONDS_DETAIL), not the
race's wall clock, which also counts the rivals' turns. Comparisons of time (equal time, time to
reach an accuracy, the seconds axis) leave out the one-off compile (see training_seconds).
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from core.training.race import OWN_SECONDS_DETAIL
from core.training.run import FAILED, RunSnapshot

# Two scores closer than this many percentage points are a tie: the table shows two decimals.
TIE_POINTS = 0.005


@dataclass(frozen=True)
class VariantResult:
    """One variant's line in the ranking."""

    label: str
    status: str
    message: str
    test_accuracy: float | None
    best_epoch: int | None  # the epoch of the best score (validation accuracy, else training accuracy)
    best_score: float | None
    epochs: int
    fit_seconds: float | None
    seconds_to_target: float | None  # training seconds (compile left out) until the score reached the target


def own_seconds(snap: RunSnapshot) -> list[float]:
    """Seconds of the variant's own training at the end of each epoch (its epoch rows' clock outside a race)."""
    seconds = list(snap.details.get(OWN_SECONDS_DETAIL, []))
    if len(seconds) < len(snap.epochs):
        seconds = [row["seconds"] for row in snap.epochs]
    return seconds[: len(snap.epochs)]


def training_seconds(snap: RunSnapshot) -> list[float]:
    """own_seconds without the one-off compile: the first epoch, which also traces and compiles the
    model (seconds on a busy CPU, and more for some models than others), counts as long as the median
    later epoch. With one epoch only, nothing tells the two apart: it counts as it was measured."""
    seconds = own_seconds(snap)
    if len(seconds) < 2:
        return seconds
    durations = [later - earlier for earlier, later in itertools.pairwise(seconds)]
    first = statistics.median(durations)
    return [first + (later - seconds[0]) for later in seconds]


def score_key(snapshots: Sequence[RunSnapshot]) -> str:
    """Validation accuracy when every variant that trained has it, else training accuracy."""
    rows = [row for snap in snapshots for row in snap.epochs]
    return "val_accuracy" if rows and all(row.get("val_accuracy") is not None for row in rows) else "accuracy"


def score_name(key: str) -> str:
    return "validation accuracy" if key == "val_accuracy" else "training accuracy"


def default_target(snapshots: Sequence[RunSnapshot]) -> float | None:
    """The best score every variant that did not fail reached, rounded down to a whole per cent."""
    key = score_key(snapshots)
    bests = [_best(snap, key)[1] for snap in _contenders(snapshots)]
    bests = [b for b in bests if b is not None]
    return math.floor(min(bests) * 100) / 100 if bests else None


def results(snapshots: Sequence[RunSnapshot], target: float | None = None) -> list[VariantResult]:
    """The variants ranked: by test accuracy (then best score), failed variants last."""
    key = score_key(snapshots)
    target = default_target(snapshots) if target is None else target
    found = []
    for snap in snapshots:
        best_epoch, best_score = _best(snap, key)
        found.append(
            VariantResult(
                label=snap.label,
                status=snap.status,
                message=snap.message,
                test_accuracy=snap.test_metrics.get("accuracy"),
                best_epoch=best_epoch,
                best_score=best_score,
                epochs=len(snap.epochs),
                fit_seconds=own_seconds(snap)[-1] if snap.epochs else None,
                seconds_to_target=_seconds_to(snap, key, target),
            )
        )

    def order(result: VariantResult):
        return (result.status == FAILED, -(result.test_accuracy or -1), -(result.best_score or -1))

    return sorted(found, key=order)


def ranking_table(snapshots: Sequence[RunSnapshot], target: float | None = None) -> list[dict]:
    """The ranking as rows for a table (or the command line), with plain column names."""
    key = score_key(snapshots)
    target = default_target(snapshots) if target is None else target
    reach = f"seconds to {target:.0%}" if target is not None else "seconds to target"
    rows, place, previous = [], 0, None
    for index, result in enumerate(results(snapshots, target), start=1):
        place = place if previous is not None and _tied(previous, result) else index  # a tie shares its rank
        previous = result
        rows.append(
            {
                "rank": place,
                "variant": result.label,
                "status": result.status,
                "test accuracy": result.test_accuracy,
                f"best {score_name(key)}": result.best_score,
                "best epoch": result.best_epoch,
                "epochs": result.epochs,
                "fit seconds": result.fit_seconds,
                reach: result.seconds_to_target,
            }
        )
    return rows


def race_sentences(snapshots: Sequence[RunSnapshot]) -> list[str]:
    """Who ranks first on the test images (the table's order), who won at equal epochs and at equal
    training time, by how much, where the curves crossed, and which variants failed.

    Scores are the table's: test accuracy, and the best validation (or training) accuracy reached.
    Scores closer than TIE_POINTS are a tie, and each sentence gives as many decimals as tell its
    scores apart.
    """
    key, name = score_key(snapshots), f"best {score_name(score_key(snapshots))}"
    contenders = [snap for snap in _contenders(snapshots) if snap.epochs]
    said = []
    if len(contenders) >= 2:
        tested = [(snap.test_metrics.get("accuracy"), snap) for snap in contenders]
        if all(score is not None for score, _ in tested):
            said.append("On the test images, " + _lead(sorted(tested, key=_first, reverse=True), "test accuracy") + ".")
        epochs = min(len(snap.epochs) for snap in contenders)
        at_epoch = sorted(((_best_of(snap, key, epochs), snap) for snap in contenders), key=_first, reverse=True)
        said.append(f"After {_count(epochs, 'epoch')} each, " + _lead(at_epoch, name) + ".")
        said.append(_equal_time(contenders, key, name, at_epoch))
        curves = sorted(((snap.epochs[epochs - 1][key], snap) for snap in contenders), key=_first, reverse=True)
        said.extend(_crossings(curves[0][1], [snap for _, snap in curves[1:]], key, epochs))
    elif len(contenders) == 1:
        said.append(f"{contenders[0].label} is the only variant with a finished epoch.")
    for snap in snapshots:
        if snap.status == FAILED:
            said.append(f"{snap.label} failed: {snap.message}")
    return said


def seed_spread_sentence(races: Sequence[Sequence[RunSnapshot]]) -> str | None:
    """For the same race run with several seeds: does the winner's lead exceed the seed-to-seed spread?

    The spread is the largest range (best minus worst seed) of any variant's test accuracy.
    """
    scores: dict[str, list[float]] = {}
    for race in races:
        for snap in race:
            if snap.status != FAILED and snap.test_metrics.get("accuracy") is not None:
                scores.setdefault(snap.label, []).append(snap.test_metrics["accuracy"])
    scores = {label: values for label, values in scores.items() if len(values) >= 2}
    if len(races) < 2 or len(scores) < 2:
        return None
    means = sorted(((statistics.fmean(v), label) for label, v in scores.items()), reverse=True)
    (best_mean, best), (second_mean, second) = means[0], means[1]
    lead = (best_mean - second_mean) * 100
    spread = max(max(v) - min(v) for v in scores.values()) * 100
    wins = sum(1 for race in races if _test_winner(race) == best)
    verdict = (
        "larger than the seed-to-seed spread: the win is the setting's, not the seed's"
        if lead > spread
        else "within the seed-to-seed spread: these seeds cannot tell the two apart"
    )
    return (
        f"Over {len(races)} seeds, {best} leads {second} by {lead:.1f} points of test accuracy on average "
        f"({best_mean:.1%} against {second_mean:.1%}) and won {wins} of {len(races)} races; one variant's "
        f"accuracy varies by up to {spread:.1f} points from seed to seed, so the lead is {verdict}."
    )


# --- helpers -----------------------------------------------------------------------------------


def _contenders(snapshots: Sequence[RunSnapshot]) -> list[RunSnapshot]:
    return [snap for snap in snapshots if snap.status != FAILED]


def _first(pair):
    return pair[0] if pair[0] is not None else -math.inf


def _best(snap: RunSnapshot, key: str) -> tuple[int | None, float | None]:
    scored = [(row[key], row["epoch"]) for row in snap.epochs if row.get(key) is not None]
    if not scored:
        return None, None
    score, epoch = max(scored, key=lambda pair: (pair[0], -pair[1]))  # the earliest of equal bests
    return epoch, score


def _seconds_to(snap: RunSnapshot, key: str, target: float | None) -> float | None:
    if target is None:
        return None
    for row, seconds in zip(snap.epochs, training_seconds(snap), strict=False):
        if row.get(key) is not None and row[key] >= target:
            return seconds
    return None


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _tied(first: VariantResult, second: VariantResult) -> bool:
    """Whether the ranking cannot tell two variants apart: equal test accuracy and equal best score."""

    def same(a: float | None, b: float | None) -> bool:
        return (a is None and b is None) or is_tie(a, b)

    return (
        (first.status == FAILED) == (second.status == FAILED)
        and same(first.test_accuracy, second.test_accuracy)
        and same(first.best_score, second.best_score)
    )


def _best_of(snap: RunSnapshot, key: str, epochs: int) -> float | None:
    """The best score among the variant's first `epochs` epochs (all of them: the table's best)."""
    scores = [row[key] for row in snap.epochs[:epochs] if row.get(key) is not None]
    return max(scores) if scores else None


def is_tie(first: float | None, second: float | None) -> bool:
    return first is not None and second is not None and abs(first - second) * 100 < TIE_POINTS


def percent_decimals(scores: Sequence[float | None]) -> int:
    """One decimal when it tells the scores that are not tied apart, else two (the table's)."""
    known = sorted({score for score in scores if score is not None}, reverse=True)
    distinct = [score for index, score in enumerate(known) if index == 0 or not is_tie(known[index - 1], score)]
    shown = [f"{score * 100:.1f}" for score in distinct]
    return 1 if len(set(shown)) == len(shown) else 2


def _lead(ranked: list[tuple[float | None, RunSnapshot]], name: str, extra=None) -> str:
    """ "X leads with 96.1% …, 3.2 points ahead of Y (92.9%); Z is last at 80.0%", or "X and Y tie at …"."""
    extra = extra or (lambda snap: "")
    ranked = [(score, snap) for score, snap in ranked if score is not None]
    decimals = percent_decimals([score for score, _ in ranked])

    def percent(score: float) -> str:
        return f"{score:.{decimals}%}"

    top = ranked[0][0]
    tied = [(score, snap) for score, snap in ranked if is_tie(top, score)]
    rest = ranked[len(tied) :]
    if len(tied) > 1:
        names = [f"{snap.label}{extra(snap)}" for _, snap in tied]
        text = f"{', '.join(names[:-1])} and {names[-1]} tie at {percent(top)} {name}"
        if rest:
            text += f"; {rest[0][1].label} follows at {percent(rest[0][0])}{extra(rest[0][1])}"
        return text
    (top, leader), (next_score, runner_up) = ranked[0], ranked[1]
    text = (
        f"{leader.label} leads with {percent(top)} {name}{extra(leader)}, "
        f"{(top - next_score) * 100:.{decimals}f} points ahead of {runner_up.label} "
        f"({percent(next_score)}{extra(runner_up)})"
    )
    if len(ranked) > 2:
        last_score, last = ranked[-1]
        text += f"; {last.label} is last at {percent(last_score)}{extra(last)}"
    return text


def _equal_time(
    contenders: list[RunSnapshot], key: str, name: str, at_epoch: list[tuple[float | None, RunSnapshot]]
) -> str:
    """Each variant's best score once the quickest to finish had used up its training time."""
    budget = min(training_seconds(snap)[-1] for snap in contenders)
    reached = []
    for snap in contenders:
        done = [i for i, seconds in enumerate(training_seconds(snap)) if seconds <= budget + 1e-9]
        if done:
            reached.append((_best_of(snap, key, len(done)), snap, len(done)))
    epochs_by = {snap.label: count for _, snap, count in reached}

    def epochs_done(snap: RunSnapshot) -> str:
        return f" after {_count(epochs_by[snap.label], 'epoch')}"

    if len(reached) < 2:
        only = reached[0][1].label if reached else contenders[0].label
        return f"Given the same {budget:.1f} s of training each, only {only} had finished an epoch."
    ranked = sorted(((score, snap) for score, snap, _ in reached), key=_first, reverse=True)
    text = f"Given the same {budget:.1f} s of training each, " + _lead(ranked, name, epochs_done)
    if is_tie(ranked[0][0], ranked[1][0]) or is_tie(at_epoch[0][0], at_epoch[1][0]):
        return f"{text}."
    winner, epoch_winner = ranked[0][1].label, at_epoch[0][1].label
    same = "the same winner as at equal epochs" if winner == epoch_winner else f"{epoch_winner} wins per epoch"
    return f"{text}: {same}."


def _crossings(leader: RunSnapshot, others: list[RunSnapshot], key: str, epochs: int) -> list[str]:
    """Where the leader's curve crossed each rival's, over the epochs both trained."""
    said, never_behind = [], []
    for other in others:
        gaps = [leader.epochs[i][key] - other.epochs[i][key] for i in range(epochs)]
        behind = [i for i, gap in enumerate(gaps) if gap < 0]
        if behind:
            overtook = behind[-1] + 2  # the epoch after the last one the leader was behind in
            said.append(
                f"The curves crossed: {leader.label} was behind {other.label} and overtook it in epoch {overtook}."
            )
        else:
            never_behind.append(other.label)
    if never_behind and not said:
        said.append(f"{leader.label}'s curve stayed at or above the others' in every epoch: the curves never crossed.")
    elif never_behind:
        said.append(f"{leader.label} was never behind {', '.join(never_behind)}.")
    return said


def _test_winner(race: Sequence[RunSnapshot]) -> str | None:
    scored = [(snap.test_metrics["accuracy"], snap.label) for snap in race if snap.test_metrics.get("accuracy")]
    return max(scored)[1] if scored else None
