"""The estimate before training (core.training.estimate), and the fixes offered over a host's budget."""

import pytest

from core.config import TrainingConfig
from core.jobs import budget
from core.training import estimate as cost_model

FASHION = (60_000, (28, 28), 10)
SPEED = 50e9  # FLOP/s: a fixed machine speed, so the numbers do not depend on this test machine
# A fix is chosen so that its estimate just fits the limit; the estimate, summed again in another order, may come
# out a rounding error above it. Fitting allows that much, never more.
ROUNDING = 1e-9


def fits(value: float, limit: float) -> bool:
    """value ≤ limit, give or take a float's rounding (relative to the limit)."""
    return value <= limit * (1 + ROUNDING)


def estimate(config: TrainingConfig, num_images: int = FASHION[0]) -> cost_model.Estimate:
    return cost_model.estimate(config, num_images, FASHION[1], FASHION[2], flops_per_second=SPEED)


def test_time_grows_with_epochs_and_images_and_memory_with_images():
    config = TrainingConfig(dataset="fashion_mnist", epochs=5)
    base = estimate(config)
    assert base.train_images == 54_000 and base.epochs == 5
    longer = estimate(config.replace(epochs=10))
    once = base.start_seconds + base.compile_seconds + base.end_seconds
    assert longer.total_seconds - once == pytest.approx(2 * (base.total_seconds - once))
    smaller = estimate(config.replace(subsample=6_000))
    assert smaller.train_images == 5_400 and smaller.seconds_per_epoch < base.seconds_per_epoch / 5
    assert smaller.memory_mb < base.memory_mb
    # The lesson model's own memory is small next to the data: bytes of 60,000 images, twice.
    assert 60_000 * 784 * 2 / cost_model.MB < base.memory_mb < 200


def test_the_cnn_costs_more_time_than_the_dense_lesson_model():
    lesson = estimate(TrainingConfig(dataset="fashion_mnist"))
    cnn = estimate(TrainingConfig(dataset="fashion_mnist", model="cnn"))
    assert cnn.seconds_per_epoch > 3 * lesson.seconds_per_epoch


def test_a_training_step_counts_three_passes_but_the_first_layer_needs_no_gradient_for_the_images():
    config = TrainingConfig(dataset="fashion_mnist")  # Dense 784→128, then 128→10
    first, second = 2 * (784 * 128 + 128), 2 * (128 * 10 + 10)
    assert cost_model.flops_by_kind(config, (28, 28), 10) == (first + second, 0)
    assert cost_model.flops_by_kind(config, (28, 28), 10, cost_model.TRAINING_PASSES) == (2 * first + 3 * second, 0)
    cnn = TrainingConfig(dataset="fashion_mnist", model="cnn")
    forward_conv = cost_model.flops_by_kind(cnn, (28, 28), 10)[1]
    training_conv = cost_model.flops_by_kind(cnn, (28, 28), 10, cost_model.TRAINING_PASSES)[1]
    assert 2 * forward_conv < training_conv < 3 * forward_conv  # only the first convolution is spared


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
    assert fits(estimate(config.replace(epochs=epochs_fix.epochs)).total_seconds, limits.seconds)
    assert images_fix.subsample and fits(
        estimate(config.replace(subsample=images_fix.subsample)).total_seconds, limits.seconds
    )


def test_over_the_memory_budget_a_subsample_that_fits_or_a_plain_explanation():
    config = TrainingConfig(dataset="fashion_mnist")
    found = estimate(config)
    (fix,) = budget.fixes(found, budget.Limits(memory_mb=found.memory_mb / 2), FASHION[0])
    assert fix.subsample and fits(estimate(config.replace(subsample=fix.subsample)).memory_mb, found.memory_mb / 2)
    (impossible,) = budget.fixes(found, budget.Limits(memory_mb=0.001), FASHION[0])
    assert impossible.subsample is None and "Choose a smaller model or batch size" in impossible.reason


def test_a_mistyped_budget_in_the_environment_is_refused_by_name():
    assert budget.limits_from_environment({}) == budget.Limits()
    limits = budget.limits_from_environment({budget.TIME_BUDGET_ENV: "60", budget.MEMORY_BUDGET_ENV: "512"})
    assert limits == budget.Limits(60.0, 512.0)
    with pytest.raises(ValueError, match=budget.TIME_BUDGET_ENV):
        budget.limits_from_environment({budget.TIME_BUDGET_ENV: "one minute"})


def test_memory_reads_in_the_unit_a_person_expects():
    assert cost_model.memory_text(0.3) == "under 1 MB"
    assert cost_model.memory_text(160.4) == "160 MB"
    assert cost_model.memory_text(1433.6) == "1.4 GB"


def test_a_races_estimate_counts_every_variant_and_its_fewer_epochs_fit_the_budget(digits, monkeypatch):
    from core.jobs.race_job import race_estimate
    from core.training.race import PRESETS, new_race

    kept_for(monkeypatch, {})  # three optimizers: three networks, each compiled once, from programs on disk

    race = new_race(PRESETS["optimizers"].spec, TrainingConfig(dataset="digits", epochs=40))
    whole = race_estimate(race, digits)
    alone = cost_model.estimate(race.runs[0].config, len(digits.pixels_train), digits.image_shape, digits.num_classes)
    assert whole.total_seconds > 2.5 * alone.total_seconds  # three variants, each compiled once
    epochs_seconds = whole.seconds_per_epoch * whole.epochs  # half of them fit, with the compiles
    limit = budget.Limits(seconds=whole.total_seconds - epochs_seconds / 2)
    fix = budget.fixes(whole, limit, len(digits.pixels_train))[0]
    assert fix.epochs and fix.epochs < 40
    fewer = race_estimate(new_race(race.spec, race.base.replace(epochs=fix.epochs)), digits)
    assert fits(fewer.total_seconds, limit.seconds)


def test_durations_read_as_a_person_says_them():
    assert cost_model.duration_text(4.6) == "5 s"
    assert cost_model.duration_text(0.28) == "0.3 s" and cost_model.duration_text(0.036) == "under 0.1 s"
    assert cost_model.duration_text(0.97) == "1 s"
    assert cost_model.duration_text(420) == "about 7 minutes"
    # A whole run: short ones as a bound, since a watched run takes up to twice an unwatched one.
    assert cost_model.run_duration_text(0.09) == "under 0.5 s" and cost_model.run_duration_text(0.49) == "under 0.5 s"
    assert cost_model.run_duration_text(0.5) == "0.5 s" and cost_model.run_duration_text(4.6) == "5 s"


def test_small_runs_on_tensorflow_are_estimated_without_xla_compiling():
    def on_tensorflow(config, *size):
        return cost_model.estimate(config, *size, flops_per_second=SPEED, backend="tensorflow")

    digits = on_tensorflow(TrainingConfig(dataset="digits"), 1_437, (8, 8), 10)
    assert digits.compile_seconds == cost_model.TENSORFLOW_GRAPH.compile_seconds
    fashion = on_tensorflow(TrainingConfig(dataset="fashion_mnist"), *FASHION)
    assert fashion.compile_seconds == cost_model.TENSORFLOW_XLA.compile_seconds


def test_on_jax_kept_programs_shorten_the_estimate_by_the_compile(monkeypatch):
    kept_for(monkeypatch, {})
    monkeypatch.setattr(cost_model, "kept_loops", lambda: ["an earlier run's loop"])  # not this run's

    def on_jax(kept: bool) -> cost_model.Estimate:
        monkeypatch.setattr(cost_model.libraries, "compiled_programs_kept", lambda: kept)
        config = TrainingConfig(dataset="digits")
        return cost_model.estimate(config, 1_437, (8, 8), 10, flops_per_second=SPEED, backend="jax")

    cold, kept = on_jax(False), on_jax(True)
    assert cold.compile_seconds == cost_model.JAX_COSTS.compile_seconds
    assert kept.compile_seconds == cost_model.JAX_KEPT_COMPILE_SECONDS < cold.compile_seconds
    assert kept.total_seconds < cold.total_seconds - (cold.compile_seconds - kept.compile_seconds) * 0.99
    monkeypatch.setattr(cost_model, "kept_loops", lambda: [])
    first = on_jax(True).compile_seconds
    assert first == pytest.approx(cost_model.JAX_FIRST_RUN_COMPILE_SECONDS), "the process's first run"
    # Programs the cache folder does not hold for this network and these shapes compile anew.
    monkeypatch.setattr(cost_model, "kept_loops", lambda: ["an earlier run's loop"])
    monkeypatch.setattr(cost_model, "programs_on_disk", lambda signature, shapes: False)
    assert on_jax(True).compile_seconds == cost_model.JAX_NEW_NETWORK_COMPILE_SECONDS


def kept_for(monkeypatch, trained: dict, on_disk: bool = True) -> None:
    """The process keeps a loop for each signature in `trained`, which has trained those run_shapes; the
    cache folder holds every program (on_disk) or none of this app's runs' (none from an earlier process)."""
    monkeypatch.setattr(cost_model, "trained_shapes", lambda signature: trained.get(signature))
    monkeypatch.setattr(cost_model, "kept_loops", lambda: list(trained))
    monkeypatch.setattr(cost_model, "programs_on_disk", lambda signature, shapes: on_disk)
    monkeypatch.setattr(cost_model.libraries, "compiled_programs_kept", lambda: True)
    monkeypatch.setattr(cost_model.libraries, "backend_in_force", lambda: "jax")


def on_jax(config: TrainingConfig) -> cost_model.Estimate:
    return cost_model.estimate(config, 1_437, (8, 8), 10, flops_per_second=SPEED, backend="jax")


def test_on_jax_a_run_of_a_kept_loop_and_trained_shapes_is_estimated_to_start_at_once(monkeypatch):
    config = TrainingConfig(dataset="digits")
    signature, shapes = cost_model.run_programs(config, 1_437, (8, 8), 10)
    kept_for(monkeypatch, {signature: {shapes}})
    same = on_jax(config.replace(learning_rate=0.01, seed=1, epochs=3))
    assert same.compile_seconds == cost_model.JAX_KEPT_LOOP_COSTS.compile_seconds
    new_network = on_jax(config.replace(hidden_layers=(64,)))
    assert new_network.compile_seconds == cost_model.JAX_KEPT_COMPILE_SECONDS, "a new network"
    on_tensorflow = cost_model.estimate(config, 1_437, (8, 8), 10, flops_per_second=SPEED, backend="tensorflow")
    assert on_tensorflow.compile_seconds == cost_model.TENSORFLOW_GRAPH.compile_seconds, "kept loops are JAX's"


def test_on_jax_new_shapes_on_a_kept_loop_are_estimated_to_compile(monkeypatch):
    config = TrainingConfig(dataset="digits")
    signature, shapes = cost_model.run_programs(config, 1_437, (8, 8), 10)
    kept_for(monkeypatch, {signature: {shapes}}, on_disk=False)
    program = cost_model.JAX_LOOP_PROGRAM_COMPILE_SECONDS
    # Another batch size: the loop's programs for its shapes are new, the validation arrays are not. The
    # 1,293 training images leave a last batch of 13 at 32 and at 64 (one program new), of 45 at 48 (two).
    assert on_jax(config.replace(batch_size=64)).compile_seconds == pytest.approx(program)
    assert on_jax(config.replace(batch_size=48)).compile_seconds == pytest.approx(2 * program)
    # Another split: new training and validation arrays.
    new_split = on_jax(config.replace(validation_split=0.2)).compile_seconds
    assert new_split == pytest.approx(2 * program + cost_model.JAX_NEW_VALIDATION_COMPILE_SECONDS)
    # Compiled by an earlier process into the cache folder: only loaded.
    monkeypatch.setattr(cost_model, "programs_on_disk", lambda signature, shapes: True)
    assert on_jax(config.replace(validation_split=0.2)).compile_seconds == cost_model.JAX_SHAPES_ON_DISK_SECONDS


def test_a_race_compiles_a_network_and_shapes_once_in_its_first_variant(monkeypatch):
    kept_for(monkeypatch, {}, on_disk=False)  # a new network, in a process that has trained another one
    monkeypatch.setattr(cost_model, "kept_loops", lambda: ["another network's loop"])
    config = TrainingConfig(dataset="digits")

    def race(configs):
        runs = [("keras", config) for config in configs]
        return [found.compile_seconds for found in cost_model.estimates_in_turn(runs, 1_437, (8, 8), 10)]

    rates = race([config.replace(learning_rate=rate) for rate in (0.1, 0.01, 0.001)])
    assert rates == [cost_model.JAX_NEW_NETWORK_COMPILE_SECONDS] + [cost_model.JAX_KEPT_LOOP_COSTS.compile_seconds] * 2
    sizes = race([config.replace(batch_size=size) for size in (32, 64)])
    new, program = cost_model.JAX_NEW_NETWORK_COMPILE_SECONDS, cost_model.JAX_LOOP_PROGRAM_COMPILE_SECONDS
    assert sizes == [new, program], "one loop"
    layers = race([config.replace(hidden_layers=(units,)) for units in (32, 64)])
    assert layers == [cost_model.JAX_NEW_NETWORK_COMPILE_SECONDS] * 2, "two networks: two loops"


def test_a_subsample_offered_on_a_kept_loop_fits_though_its_new_shapes_compile(monkeypatch):
    """The full data's programs are compiled (a kept loop): fewer images are new shapes, which compile."""
    config = TrainingConfig(dataset="fashion_mnist", epochs=20)
    signature, shapes = cost_model.run_programs(config, *FASHION)
    kept_for(monkeypatch, {signature: {shapes}}, on_disk=False)
    found = cost_model.estimate(config, *FASHION, flops_per_second=SPEED, backend="jax")
    assert found.compile_seconds == cost_model.JAX_KEPT_LOOP_COSTS.compile_seconds
    assert found.subsample_compile_seconds > found.compile_seconds
    limits = budget.Limits(seconds=found.total_seconds / 4)
    images_fix = next(fix for fix in budget.fixes(found, limits, FASHION[0]) if fix.subsample)
    smaller = cost_model.estimate(
        config.replace(subsample=images_fix.subsample), *FASHION, flops_per_second=SPEED, backend="jax"
    )
    assert smaller.compile_seconds <= found.subsample_compile_seconds, "the fix counts the most new shapes compile"
    assert fits(smaller.total_seconds, limits.seconds)


def test_over_a_time_budget_nothing_can_fit_the_page_still_says_so():
    found = estimate(TrainingConfig(dataset="fashion_mnist"))
    (fix,) = budget.fixes(found, budget.Limits(seconds=found.compile_seconds / 2), FASHION[0])
    assert not fix.label and not fix.epochs and not fix.subsample
    assert "over this server's budget" in fix.reason and "smaller model" in fix.reason
