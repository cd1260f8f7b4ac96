"""The room's handwriting in core.rooms: even prompts, caps, moderation, privacy and many drawers at once."""

import io
import threading
import zipfile

import numpy as np
import pytest

from core.config import TrainingConfig
from core.data.handwriting import synthetic_digits
from core.jobs.runner import JobRunner
from core.jobs.start import start_run
from core.rooms import RoomError, RoomLimits, RoomRegistry
from core.training.run import TrainingRun
from tests.handwriting_drawings import digits_model

DIGITS, _ = synthetic_digits(200, style="bundled", seed=5)


def a_drawing(seed: int = 0) -> np.ndarray:
    return DIGITS[seed % len(DIGITS)]


def room_with(people: int, limits: RoomLimits | None = None):
    room, secret = RoomRegistry(limits).create()
    for number in range(people):
        room.join(f"p{number}")
    room.collect_handwriting(secret)
    return room, secret


def test_nothing_is_taken_until_the_presenter_collects():
    room, secret = RoomRegistry().create()
    room.join("p0")
    with pytest.raises(RoomError, match="not collecting"):
        room.submit_drawing("p0", a_drawing())
    with pytest.raises(RoomError, match="Only the presenter"):
        room.collect_handwriting("not the secret")
    room.collect_handwriting(secret)
    assert room.submit_drawing("p0", a_drawing()).digit == 0  # the least-collected digit: all at 0, the first


def test_the_prompts_spread_the_digits_evenly_over_the_room():
    room, _ = room_with(30)
    for round_ in range(4):
        prompts = [room.handwriting_prompt(f"p{number}") for number in range(30)]
        for number in range(30):
            drawing = room.submit_drawing(f"p{number}", a_drawing(number + round_))
            assert drawing.digit == prompts[number]  # labelled by the prompt the person saw
    assert room.drawing_counts().tolist() == [12] * 10


def test_a_participant_cannot_remove_and_the_presenter_can():
    room, secret = room_with(2)
    kept = [room.submit_drawing("p0", a_drawing(1)), room.submit_drawing("p1", a_drawing(2))]
    with pytest.raises(RoomError, match="Only the presenter"):
        room.remove_drawing("p0", kept[1].drawing_id)
    with pytest.raises(RoomError, match="Only the presenter"):
        room.handwriting_zip(None)
    assert room.remove_drawing(secret, kept[1].drawing_id)
    assert not room.remove_drawing(secret, kept[1].drawing_id)  # already gone
    assert [d.drawing_id for d in room.drawings()] == [kept[0].drawing_id]
    assert room.drawings("p1") == ()


def test_caps_per_participant_and_per_room_each_say_so():
    room, _ = room_with(3, RoomLimits(max_drawings_each=3, max_drawings=5))
    for _ in range(3):
        room.submit_drawing("p0", a_drawing())
    with pytest.raises(RoomError, match="3 drawings, the most one person may"):
        room.submit_drawing("p0", a_drawing())
    room.submit_drawing("p1", a_drawing())
    room.submit_drawing("p1", a_drawing())
    with pytest.raises(RoomError, match="5 drawings, its limit"):
        room.submit_drawing("p2", a_drawing())
    assert len(room.drawings()) == 5


def test_only_participants_draw_and_an_ended_room_takes_nothing():
    registry = RoomRegistry()
    room, secret = registry.create()
    room.collect_handwriting(secret)
    with pytest.raises(RoomError, match="Join room"):
        room.submit_drawing("stranger", a_drawing())
    room.join("p0")
    registry.end(room.code, secret)
    with pytest.raises(RoomError, match="has ended"):
        room.submit_drawing("p0", a_drawing())


def test_many_participants_drawing_at_once_lose_nothing():
    room, _ = room_with(30)
    errors = []

    def draw(number: int) -> None:
        try:
            for turn in range(10):
                room.submit_drawing(f"p{number}", a_drawing(number * 10 + turn))
        except Exception as error:  # collected: a thread's exception would not fail the test
            errors.append(error)

    threads = [threading.Thread(target=draw, args=(number,)) for number in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    drawings = room.drawings()
    assert len(drawings) == 300 and len({d.drawing_id for d in drawings}) == 300
    assert room.drawing_counts().max() - room.drawing_counts().min() <= 30  # spread, if not exactly even


def test_scores_are_per_model_and_a_participant_gets_only_their_own():
    room, secret = room_with(2)
    for seed in range(6):
        room.submit_drawing("p0", a_drawing(seed))
    for seed in range(6, 10):
        room.submit_drawing("p1", a_drawing(seed))
    model = digits_model()
    everyone = room.score_handwriting(model, room.drawings())
    mine = room.score_handwriting(model, room.drawings("p0"))
    assert everyone.total == 10 and mine.total == 6
    assert everyone.confusion.sum() == 10 and 0 <= mine.correct <= 6
    again = room.score_handwriting(model, room.drawings())  # read from the cache
    assert np.array_equal(again.predictions, everyone.predictions)

    with zipfile.ZipFile(io.BytesIO(room.handwriting_zip(secret))) as archive:
        assert len(archive.namelist()) == 10


def test_a_model_reads_other_handwriting_worse_and_teaching_it_the_room_closes_part_of_the_gap(digits):
    """Trained on scikit-learn's digits, tested on font-drawn digits put through MNIST's procedure (the room)."""
    runner = JobRunner()
    (run,) = start_run(runner, TrainingConfig(dataset="digits", epochs=10), digits, "baseline")
    assert runner.wait_idle(timeout=300)
    test_accuracy = run.snapshot().test_metrics["accuracy"]
    room, secret = room_with(6)
    pool, pool_labels = synthetic_digits(400, style="fonts", seed=7)
    for turn in range(300):
        person = f"p{turn % 6}"
        wanted = room.handwriting_prompt(person)
        room.submit_drawing(person, pool[np.flatnonzero(pool_labels == wanted)[turn // 10]])

    fine_tune = room.teach_handwriting(secret, runner, run, digits, extra_epochs=5)
    assert room.fine_tune is fine_tune and fine_tune.taught + len(fine_tune.held_out) == 300
    before = room.score_handwriting(fine_tune.before, fine_tune.held_out).accuracy
    assert before < test_accuracy - 0.15  # another hand: well below its own test set
    assert runner.wait_idle(timeout=300)
    after = room.score_handwriting(run.snapshot().details["snapshot"], fine_tune.held_out).accuracy
    assert after > before + 0.05  # taught part of the room's hand, it reads the rest better
    assert run.snapshot().test_metrics["accuracy"] > test_accuracy - 0.1  # and has not forgotten its own


def test_teaching_needs_the_secret_and_enough_drawings(digits):
    room, secret = room_with(1)
    run = TrainingRun(TrainingConfig(dataset="digits"), "baseline")
    with pytest.raises(RoomError, match="Only the presenter"):
        room.teach_handwriting("guess", JobRunner(), run, digits, 1)
    with pytest.raises(RoomError, match="finished training"):
        room.teach_handwriting(secret, JobRunner(), run, digits, 1)


def test_a_participant_who_leaves_no_longer_holds_a_digit_back():
    room, _ = room_with(2)
    assert room.handwriting_prompt("p0") == 0
    room.leave("p0")
    assert room.handwriting_prompt("p1") == 0  # p0's prompt is no longer on its way
