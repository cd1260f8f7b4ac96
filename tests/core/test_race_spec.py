"""Race specs without training: settings, values, presets, labels, the job's routing and its budget."""

import pytest

from core.config import DEFAULT_LEARNING_RATES, TrainingConfig
from core.jobs.race_job import RaceJob, race_estimate, race_estimates, submit_race
from core.jobs.runner import DEFAULT_PRIORITY, PRESENTER_PRIORITY
from core.training.race import PRESETS, SETTINGS, RaceError, RaceSpec, new_race, parse_vary, race_configs

BASE = TrainingConfig(dataset="digits", epochs=2)


def test_parse_vary_reads_each_setting_and_names_the_variants():
    race = new_race(parse_vary("optimizer=adam,sgd,rmsprop"), BASE)
    assert [run.label for run in race.runs] == ["optimizer Adam", "optimizer SGD", "optimizer RMSprop"]
    assert [run.config.optimizer for run in race.runs] == ["adam", "sgd", "rmsprop"]
    assert parse_vary("learning-rate=0.1, 0.01").values == (0.1, 0.01)
    assert parse_vary("batch_size=16,256").values == (16, 256)
    labels = [run.label for run in new_race(parse_vary("learning_rate=0.1,0.001"), BASE).runs]
    assert labels == ["learning rate 0.1", "learning rate 0.001"]


def test_everything_but_the_varied_setting_is_shared():
    configs = race_configs(parse_vary("dropout=0,0.5"), BASE.replace(seed=7, subsample=500))
    assert [c.dropout for c in configs] == [0.0, 0.5]
    assert configs[0].replace(dropout=0.5) == configs[1]
    assert {(c.seed, c.subsample, c.validation_split, c.dataset) for c in configs} == {(7, 500, 0.1, "digits")}


def test_an_optimizers_default_learning_rate_follows_it_but_a_chosen_one_is_shared():
    default = race_configs(parse_vary("optimizer=adam,sgd"), BASE)
    assert [c.learning_rate for c in default] == [DEFAULT_LEARNING_RATES["adam"], DEFAULT_LEARNING_RATES["sgd"]]
    chosen = race_configs(parse_vary("optimizer=adam,sgd"), BASE.replace(learning_rate=0.05))
    assert [c.learning_rate for c in chosen] == [0.05, 0.05]


def test_units_and_layers_change_the_network_not_its_other_settings():
    two_layers = BASE.replace(hidden_layers=(128, 64))
    assert [c.hidden_layers for c in race_configs(parse_vary("units=16,32"), two_layers)] == [(16, 16), (32, 32)]
    assert [c.hidden_layers for c in race_configs(parse_vary("hidden_layers=0,2"), two_layers)] == [(), (128, 128)]
    assert [c.model for c in race_configs(parse_vary("model=dense,cnn"), BASE)] == ["dense", "cnn"]


@pytest.mark.parametrize(
    "text, says",
    [
        ("speed=1,2", "cannot vary 'speed'; choose one of: optimizer"),
        ("optimizer", "--vary takes SETTING=VALUE,VALUE"),
        ("optimizer=adam", "needs 2 to 4 values of optimizer; got 1"),
        ("units=1,2,3,4,5", "needs 2 to 4 values of units; got 5"),
        ("optimizer=adam,adam", "'adam' appears twice"),
        ("learning_rate=0.1,0.10", "0.1 appears twice"),
        ("optimizer=adam,fast", "Unknown optimizer 'fast'"),
        ("batch_size=16,big", "batch_size takes whole numbers; got 'big'"),
    ],
)
def test_a_bad_vary_says_what_is_wrong_in_one_line(text, says):
    with pytest.raises(RaceError) as caught:
        parse_vary(text)
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_a_value_out_of_the_settings_bounds_is_refused_with_the_bounds():
    with pytest.raises(RaceError, match="learning rate 20 cannot be raced: learning_rate must be between"):
        race_configs(parse_vary("learning_rate=0.1,20"), BASE)
    with pytest.raises(RaceError, match=r"dropout 0\.95 cannot be raced"):
        race_configs(RaceSpec("dropout", (0.0, 0.95)), BASE)


def test_every_preset_races_on_the_default_settings_with_distinct_configs():
    assert {"optimizers", "learning_rates", "batch_sizes"} <= set(PRESETS)
    assert PRESETS["optimizers"].title == "Adam vs SGD vs RMSprop"
    for preset in PRESETS.values():
        configs = race_configs(preset.spec, TrainingConfig())
        assert len(set(configs)) == len(configs) >= 2, preset.key
        setting = SETTINGS[preset.spec.setting]
        assert [setting.read(c) for c in configs] == list(preset.spec.values), preset.key


class RecordingRunner:
    """Stands in for a runner that trains elsewhere (Ray's): records what it is given."""

    def __init__(self):
        self.submitted = []
        self.priorities = []

    def submit(self, runs, job, preload="keras", priority=DEFAULT_PRIORITY):
        self.submitted.append((list(runs), job))
        self.priorities.append(priority)


def test_a_race_is_one_job_in_process_and_one_job_per_variant_elsewhere(digits):
    race = new_race(parse_vary("optimizer=adam,sgd,rmsprop"), BASE)
    elsewhere = RecordingRunner()
    submit_race(elsewhere, race, digits, wrap=lambda job, runs: ("saved", job, runs))
    assert [runs for runs, _ in elsewhere.submitted] == [[run] for run in race.runs]
    assert all(job[0] == "saved" and job[1].spec.dataset_name == "digits" for _, job in elsewhere.submitted)
    in_process = RecordingRunner()
    submit_race(in_process, race, digits, parallel=False, priority=PRESENTER_PRIORITY)
    [(runs, job)] = in_process.submitted
    assert runs == race.runs and isinstance(job, RaceJob) and job.spec.dataset_name == "digits"
    assert elsewhere.priorities == [DEFAULT_PRIORITY] * 3 and in_process.priorities == [PRESENTER_PRIORITY]


def test_the_budget_counts_the_whole_race(digits):
    from core.training.estimate import estimate

    race = new_race(parse_vary("batch_size=16,64,256"), BASE)
    whole = race_estimate(race, digits)
    alone = [estimate(r.config, len(digits.pixels_train), digits.image_shape, digits.num_classes) for r in race.runs]
    in_turn = race_estimates(race, digits)
    assert whole.total_seconds == pytest.approx(sum(e.total_seconds for e in in_turn))
    # Every variant's epochs are counted as if it trained alone; only compiling is shared (a later variant of the
    # same network compiles what an earlier one has not), so the race costs at most its variants alone.
    epochs = [e.seconds_per_epoch * e.epochs for e in in_turn]
    assert epochs == pytest.approx([e.seconds_per_epoch * e.epochs for e in alone])
    assert sum(epochs) < whole.total_seconds <= sum(e.total_seconds for e in alone) + 1e-9
    assert whole.memory_mb == pytest.approx(sum(e.memory_mb for e in alone)) and whole.epochs == BASE.epochs
