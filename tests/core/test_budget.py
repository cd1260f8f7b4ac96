"""The estimate before training and the fixes offered when a host's budget would be exceeded."""

import pytest

from core.config import TrainingConfig
from core.jobs import budget

FASHION = (60_000, (28, 28), 10)
SPEED = 50e9  # FLOP/s: a fixed machine speed, so the numbers do not depend on this test machine


def estimate(config: TrainingConfig, num_images: int = FASHION[0]) -> budget.Estimate:
    return budget.estimate(config, num_images, FASHION[1], FASHION[2], flops_per_second=SPEED)


def test_time_grows_with_epochs_and_images_and_memory_with_images():
    config = TrainingConfig(dataset="fashion_mnist", epochs=5)
    base = estimate(config)
    assert base.train_images == 54_000 and base.epochs == 5
    longer = estimate(config.replace(epochs=10))
    assert longer.total_seconds - base.compile_seconds == pytest.approx(2 * (base.total_seconds - base.compile_seconds))
    smaller = estimate(config.replace(subsample=6_000))
    assert smaller.train_images == 5_400 and smaller.seconds_per_epoch < base.seconds_per_epoch / 5
    assert smaller.memory_mb < base.memory_mb
    # The lesson model's own memory is small next to the data: bytes of 60,000 images, twice.
    assert 60_000 * 784 * 2 / budget.MB < base.memory_mb < 200


def test_the_cnn_costs_more_time_than_the_dense_lesson_model():
    lesson = estimate(TrainingConfig(dataset="fashion_mnist"))
    cnn = estimate(TrainingConfig(dataset="fashion_mnist", model="cnn"))
    assert cnn.seconds_per_epoch > 3 * lesson.seconds_per_epoch


def test_within_budget_nothing_is_offered():
    found = estimate(TrainingConfig(dataset="fashion_mnist"))
    limits = budget.Limits(seconds=found.total_seconds + 1, memory_mb=found.memory_mb + 1)
    assert budget.fixes(found, limits, FASHION[0]) == []
    assert budget.fixes(found, budget.Limits(), FASHION[0]) == []


def test_over_the_time_budget_fewer_epochs_then_fewer_images_fit_it():
    config = TrainingConfig(dataset="fashion_mnist", epochs=20)
    found = estimate(config)
    limits = budget.Limits(seconds=found.compile_seconds + found.seconds_per_epoch * 5.5)
    epochs_fix, images_fix = budget.fixes(found, limits, FASHION[0])
    assert epochs_fix.epochs == 5 and "20 epochs take" in epochs_fix.reason
    assert estimate(config.replace(epochs=epochs_fix.epochs)).total_seconds <= limits.seconds
    assert (
        images_fix.subsample
        and estimate(config.replace(subsample=images_fix.subsample)).total_seconds <= limits.seconds
    )


def test_over_the_memory_budget_a_subsample_that_fits_or_a_plain_explanation():
    config = TrainingConfig(dataset="fashion_mnist")
    found = estimate(config)
    (fix,) = budget.fixes(found, budget.Limits(memory_mb=found.memory_mb / 2), FASHION[0])
    assert fix.subsample and estimate(config.replace(subsample=fix.subsample)).memory_mb <= found.memory_mb / 2
    (impossible,) = budget.fixes(found, budget.Limits(memory_mb=0.001), FASHION[0])
    assert impossible.subsample is None and "Choose a smaller model or batch size" in impossible.reason


def test_a_mistyped_budget_in_the_environment_is_refused_by_name():
    assert budget.limits_from_environment({}) == budget.Limits()
    limits = budget.limits_from_environment({budget.TIME_BUDGET_ENV: "60", budget.MEMORY_BUDGET_ENV: "512"})
    assert limits == budget.Limits(60.0, 512.0)
    with pytest.raises(ValueError, match=budget.TIME_BUDGET_ENV):
        budget.limits_from_environment({budget.TIME_BUDGET_ENV: "one minute"})


def test_memory_reads_in_the_unit_a_person_expects():
    assert budget.memory_text(0.3) == "under 1 MB"
    assert budget.memory_text(160.4) == "160 MB"
    assert budget.memory_text(1433.6) == "1.4 GB"


def test_a_races_estimate_counts_every_variant_and_its_fewer_epochs_fit_the_budget(digits):
    from core.jobs.race_job import race_estimate
    from core.training.race import PRESETS, new_race

    race = new_race(PRESETS["optimizers"].spec, TrainingConfig(dataset="digits", epochs=40))
    whole = race_estimate(race, digits)
    alone = budget.estimate(race.runs[0].config, len(digits.pixels_train), digits.image_shape, digits.num_classes)
    assert whole.total_seconds > 2.5 * alone.total_seconds  # three variants, each compiled once
    limit = budget.Limits(seconds=whole.total_seconds / 2)
    fix = budget.fixes(whole, limit, len(digits.pixels_train))[0]
    assert fix.epochs and fix.epochs < 40
    fewer = race_estimate(new_race(race.spec, race.base.replace(epochs=fix.epochs)), digits)
    assert fewer.total_seconds <= limit.seconds


def test_durations_read_as_a_person_says_them():
    assert budget.duration_text(4.6) == "5 s"
    assert budget.duration_text(0.28) == "0.3 s" and budget.duration_text(0.036) == "under 0.1 s"
    assert budget.duration_text(0.97) == "1 s"
    assert budget.duration_text(420) == "about 7 minutes"


def test_small_runs_on_tensorflow_are_estimated_without_xla_compiling():
    def on_tensorflow(config, *size):
        return budget.estimate(config, *size, flops_per_second=SPEED, backend="tensorflow")

    digits = on_tensorflow(TrainingConfig(dataset="digits"), 1_437, (8, 8), 10)
    assert digits.compile_seconds == budget.TENSORFLOW_GRAPH.compile_seconds
    fashion = on_tensorflow(TrainingConfig(dataset="fashion_mnist"), *FASHION)
    assert fashion.compile_seconds == budget.TENSORFLOW_XLA.compile_seconds


def test_on_jax_kept_programs_shorten_the_estimate_by_the_compile(monkeypatch):
    monkeypatch.setattr(budget, "kept_loops", lambda: ["an earlier run's loop"])  # not this run's
    monkeypatch.setattr(budget, "is_kept", lambda signature: False)

    def on_jax(kept: bool) -> budget.Estimate:
        monkeypatch.setattr(budget.libraries, "compiled_programs_kept", lambda: kept)
        config = TrainingConfig(dataset="digits")
        return budget.estimate(config, 1_437, (8, 8), 10, flops_per_second=SPEED, backend="jax")

    cold, kept = on_jax(False), on_jax(True)
    assert cold.compile_seconds == budget.JAX_COSTS.compile_seconds
    assert kept.compile_seconds == budget.JAX_KEPT_COMPILE_SECONDS < cold.compile_seconds
    assert cold.total_seconds - kept.total_seconds == pytest.approx(cold.compile_seconds - kept.compile_seconds)
    monkeypatch.setattr(budget, "kept_loops", lambda: [])
    assert on_jax(True).compile_seconds == budget.JAX_FIRST_RUN_COMPILE_SECONDS, "the process's first run"


def test_on_jax_a_run_whose_loop_is_kept_is_estimated_to_start_at_once(monkeypatch):
    from core.training.kept_loops import step_signature

    config = TrainingConfig(dataset="digits")
    kept = {step_signature(config, (8, 8), 10)}
    monkeypatch.setattr(budget, "is_kept", lambda signature: signature in kept)
    monkeypatch.setattr(budget.libraries, "compiled_programs_kept", lambda: True)

    def on_jax(config: TrainingConfig) -> budget.Estimate:
        return budget.estimate(config, 1_437, (8, 8), 10, flops_per_second=SPEED, backend="jax")

    assert (
        on_jax(config.replace(learning_rate=0.01, seed=1)).compile_seconds == budget.JAX_KEPT_LOOP_COSTS.compile_seconds
    )
    assert on_jax(config.replace(hidden_layers=(64,))).compile_seconds > budget.JAX_KEPT_LOOP_COSTS.compile_seconds
    on_tensorflow = budget.estimate(config, 1_437, (8, 8), 10, flops_per_second=SPEED, backend="tensorflow")
    assert on_tensorflow.compile_seconds == budget.TENSORFLOW_GRAPH.compile_seconds, "kept loops are JAX's"
