"""A host's limits on one run's time and memory, and the changes of settings it offers to fit them.

What a run will cost is core.training.estimate's; here it is held against $TRAINING_STUDIO_TIME_BUDGET_SECONDS
and $TRAINING_STUDIO_MEMORY_BUDGET_MB, and each way over becomes a Fix the page offers as a button.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from core.config import EPOCHS_RANGE
from core.jobs.runner import positive_from_environment
from core.training.paces import Estimate

TIME_BUDGET_ENV = "TRAINING_STUDIO_TIME_BUDGET_SECONDS"
MEMORY_BUDGET_ENV = "TRAINING_STUDIO_MEMORY_BUDGET_MB"
# The fewest images a subsample fix offers.
MIN_SUBSAMPLE = 10


@dataclass(frozen=True)
class Limits:
    """A host's budget for one run; None means no limit."""

    seconds: float | None = None
    memory_mb: float | None = None


@dataclass(frozen=True)
class Fix:
    """A change of settings that brings the run within the budget; the page offers it as a button."""

    label: str
    reason: str
    epochs: int | None = None
    subsample: int | None = None


def limits_from_environment(environ: dict | None = None) -> Limits:
    """$TRAINING_STUDIO_TIME_BUDGET_SECONDS and $TRAINING_STUDIO_MEMORY_BUDGET_MB (hosted use)."""
    environ = os.environ if environ is None else environ
    seconds = positive_from_environment(environ, TIME_BUDGET_ENV, None)
    return Limits(seconds, positive_from_environment(environ, MEMORY_BUDGET_ENV, None))


def fixes(found: Estimate, limits: Limits, num_images: int) -> list[Fix]:
    """Ways to fit the budget, most faithful first: fewer epochs, then fewer images."""
    offers = []
    # What no epoch count changes: compiling, once per model (a race compiles one model per variant), and
    # the run's end (its test images scored).
    once = found.total_seconds - found.seconds_per_epoch * found.epochs
    if limits.seconds and found.total_seconds > limits.seconds:
        over = f"about {found.total_seconds:.0f} s, over this server's budget of {limits.seconds:.0f} s"
        epochs = int((limits.seconds - once) // found.seconds_per_epoch)
        if EPOCHS_RANGE[0] <= epochs < found.epochs:
            offers.append(Fix(f"Train {epochs} epochs instead", f"{found.epochs} epochs take {over}.", epochs=epochs))
        # Only the time spent on images shrinks with fewer of them: not compiling, nor each epoch's set-up;
        # and fewer images are new shapes, which may compile more than the full data (a kept loop's do not).
        fixed = once + found.epoch_overhead_seconds * found.epochs
        compiled = found.compile_seconds
        subsample_once = found.subsample_compile_seconds if found.subsample_compile_seconds is not None else compiled
        share = (limits.seconds - fixed - max(0.0, subsample_once - compiled)) / (found.total_seconds - fixed)
        images = _subsample(num_images, share) if share > 0 else None
        if images:
            offers.append(Fix(f"Train on {images:,} images instead", f"The full data takes {over}.", subsample=images))
        if not offers:  # not even one epoch of a few images fits: say so, with no button
            offers.append(Fix("", f"This run takes {over}. Choose a smaller model or a larger batch size."))
    if limits.memory_mb and found.memory_mb > limits.memory_mb:
        share = limits.memory_mb / found.memory_mb
        images = _subsample(num_images, share)
        reason = (
            f"This run needs about {found.memory_mb:,.1f} MB, over this server's {limits.memory_mb:,.1f} MB budget."
        )
        if images and not any(fix.subsample and fix.subsample <= images for fix in offers):
            offers.append(Fix(f"Train on {images:,} images instead", reason, subsample=images))
        elif not images:
            offers.append(Fix("", reason + " Choose a smaller model or batch size."))
    return offers


def _subsample(num_images: int, share: float) -> int | None:
    # A margin of 10 %: the estimate is an estimate.
    images = int(num_images * share * 0.9)
    return images if MIN_SUBSAMPLE <= images < num_images else None
