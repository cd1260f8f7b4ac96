"""Workshop rooms (core.rooms): join, leave, expiry, caps, the presenter's secret, one try each, many threads."""

import threading

import pytest

from core.config import TrainingConfig
from core.rooms import (
    CODE_LENGTH,
    MAX_NICKNAME_CHARS,
    PRESENT_SECONDS,
    RoomError,
    RoomLimits,
    RoomRegistry,
    clean_nickname,
    limits_from_environment,
    normalise_code,
)
from core.training.run import FINISHED, STOPPED, TrainingRun

CONFIG = TrainingConfig(dataset="digits")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def finished(config: TrainingConfig, accuracy: float, seconds: float = 1.0, status: str = FINISHED) -> TrainingRun:
    run = TrainingRun(config)
    run.mark_running(config.epochs, 10)
    run.set_test_metrics({"accuracy": accuracy})
    run.mark_finished(status, "Done.")
    return run


def test_a_room_has_a_short_code_that_reads_back_however_it_is_typed():
    registry = RoomRegistry()
    room, secret = registry.create()
    assert len(room.code) == CODE_LENGTH and normalise_code(room.code) == room.code
    typed = f" {room.code[:2].lower()}-{room.code[2:]} "
    assert registry.get(typed) is room
    assert secret not in room.code and len(secret) >= 24
    assert registry.get("nope!") is None and registry.get(None) is None and normalise_code("0OIL1") is None


def test_only_the_secret_moves_the_step_starts_the_run_or_ends_the_room():
    registry = RoomRegistry()
    room, secret = registry.create()
    one_off = secret[:-1] + ("y" if secret.endswith("x") else "x")  # a random secret ends in "x" once in 64
    for wrong in (None, "", room.code, one_off):
        with pytest.raises(RoomError, match="Only the presenter"):
            room.set_step(wrong, 4)
        with pytest.raises(RoomError, match="Only the presenter"):
            room.present_runs(wrong, [TrainingRun(CONFIG)])
        with pytest.raises(RoomError, match="Only the presenter"):
            registry.end(room.code, wrong)
    assert room.view().step == 1 and room.view().presenter_runs == ()
    room.set_step(secret, 4)
    assert room.view().step == 4
    registry.end(room.code, secret)
    assert registry.get(room.code) is None
    with pytest.raises(RoomError, match="has ended"):
        room.join("someone")


def test_participants_join_once_leave_and_get_a_name_when_they_give_none():
    room, _ = RoomRegistry().create()
    assert room.join("a", "Ada") == "Ada"
    assert room.join("b") == "Guest 2"
    assert room.join("a") == "Ada"  # joining again changes nothing
    assert room.view().participants == 2
    room.leave("a")
    assert room.view().participants == 1 and not room.is_participant("a")


def test_a_full_room_says_so_and_keeps_its_people():
    room, _ = RoomRegistry(RoomLimits(max_participants=2)).create()
    room.join("a")
    room.join("b")
    with pytest.raises(RoomError, match="is full \\(2 people\\)"):
        room.join("c")
    assert room.view().participants == 2


def test_the_server_caps_its_rooms():
    registry = RoomRegistry(RoomLimits(max_rooms=2))
    registry.create()
    registry.create()
    with pytest.raises(RoomError, match="already has 2 rooms open"):
        registry.create()


def test_an_idle_room_expires_but_a_training_one_does_not():
    clock = Clock()
    registry = RoomRegistry(RoomLimits(idle_seconds=60), clock=clock)
    idle, _ = registry.create()
    busy, secret = registry.create()
    busy.present_runs(secret, [TrainingRun(CONFIG)])  # queued: active
    clock.now += 61
    assert registry.get(idle.code) is None
    assert registry.get(busy.code) is busy


def test_one_try_at_a_time_each_and_the_room_caps_its_runs():
    room, _ = RoomRegistry(RoomLimits(max_runs=3)).create()
    with pytest.raises(RoomError, match="Join room"):
        room.add_try("a", [TrainingRun(CONFIG)])
    room.join("a")
    first = TrainingRun(CONFIG)
    room.add_try("a", [first])
    assert room.active_try("a") == (first,)
    with pytest.raises(RoomError, match="one at a time"):
        room.add_try("a", [TrainingRun(CONFIG)])
    first.mark_finished(STOPPED, "Stopped.")
    room.add_try("a", [TrainingRun(CONFIG), TrainingRun(CONFIG)])
    room.join("b")
    with pytest.raises(RoomError, match="reached its 3 runs"):
        room.check_try("b")


def test_the_board_ranks_finished_runs_and_says_what_differs_from_the_presenter():
    room, secret = RoomRegistry().create()
    presenter = finished(CONFIG, 0.90, 2.0)
    room.present_runs(secret, [presenter])
    room.join("a", "Ada")
    room.join("b", "Bo")
    room.add_try("a", [finished(CONFIG.replace(optimizer="sgd", learning_rate=0.01), 0.80)])
    room.add_try("b", [finished(CONFIG.replace(epochs=8), 0.95)])
    board = room.board()
    assert [row.nickname for row in board] == ["Bo", "Presenter", "Ada"]
    assert [row.place for row in board] == [1, 2, 3]
    assert board[0].differs == "epochs=8"
    assert board[2].differs == "optimizer=sgd, learning_rate=0.01"
    assert board[1].differs == "same as the presenter" and board[1].is_presenter


def test_the_version_changes_with_the_step_the_people_and_the_presenters_run():
    room, secret = RoomRegistry().create()
    seen = [room.version()]
    room.set_step(secret, 2)
    seen.append(room.version())
    room.join("a")
    seen.append(room.version())
    run = TrainingRun(CONFIG)
    room.present_runs(secret, [run])
    seen.append(room.version())
    run.set_message("Training.")
    seen.append(room.version())
    assert len(set(seen)) == len(seen)
    assert room.version() == room.version()  # asking changes nothing


def test_nicknames_are_plain_short_single_line_text():
    hostile = "<script>alert(1)</script>\n**bold** \u202eevil\u200b" + "x" * 100
    cleaned = clean_nickname(hostile)
    assert len(cleaned) <= MAX_NICKNAME_CHARS
    assert "\n" not in cleaned and "\u202e" not in cleaned and "\u200b" not in cleaned
    assert clean_nickname("  Ada   Lovelace ") == "Ada Lovelace"
    assert clean_nickname(None) == "" and clean_nickname("\n\t") == ""


def test_many_threads_join_at_once_and_the_cap_holds():
    room, _ = RoomRegistry(RoomLimits(max_participants=50)).create()
    refused = []
    barrier = threading.Barrier(80)

    def join(number: int) -> None:
        barrier.wait()
        try:
            room.join(f"p{number}", f"P{number}")
        except RoomError:
            refused.append(number)

    threads = [threading.Thread(target=join, args=(n,)) for n in range(80)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert room.view().participants == 50 and len(refused) == 30


def test_one_rooms_runs_are_not_visible_from_another():
    registry = RoomRegistry()
    first, first_secret = registry.create()
    second, _ = registry.create()
    run = TrainingRun(CONFIG)
    first.present_runs(first_secret, [run])
    assert run.run_id in first.run_ids() and run.run_id not in second.run_ids()
    assert registry.rooms_with({run.run_id}) == [first]


def test_limits_come_from_the_environment_with_a_clear_error():
    limits = limits_from_environment({"TRAINING_STUDIO_MAX_ROOMS": "3", "TRAINING_STUDIO_ROOM_IDLE_MINUTES": "1.5"})
    assert limits.max_rooms == 3 and limits.idle_seconds == 90
    with pytest.raises(ValueError, match="TRAINING_STUDIO_ROOM_MAX_PARTICIPANTS must be a positive int"):
        limits_from_environment({"TRAINING_STUDIO_ROOM_MAX_PARTICIPANTS": "lots"})


def test_a_participant_whose_page_stopped_asking_is_no_longer_counted_and_frees_their_place():
    clock = Clock()
    room, _ = RoomRegistry(RoomLimits(max_participants=2), clock=clock).create()
    room.join("reloaded", "Ada")
    room.join("here", "Bo")
    clock.now += PRESENT_SECONDS / 2
    room.seen("here")  # Bo's page keeps asking; Ada's tab was reloaded (a new session)
    clock.now += PRESENT_SECONDS / 2 + 1
    assert room.view().participants == 1
    assert room.join("newcomer", "Cy") == "Cy"  # Ada's place, not "room is full"
    assert not room.is_participant("reloaded") and room.is_participant("here")


def test_a_departed_participant_with_a_run_in_line_keeps_their_place():
    clock = Clock()
    room, _ = RoomRegistry(RoomLimits(max_participants=1), clock=clock).create()
    room.join("a")
    room.add_try("a", [TrainingRun(CONFIG)])  # queued
    clock.now += PRESENT_SECONDS + 1
    with pytest.raises(RoomError, match="is full"):
        room.join("b")
