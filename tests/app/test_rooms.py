"""Workshop rooms in AppTest: a presenter session and participant sessions on one shared room registry."""

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.results import lesson_texts as texts
from core.rooms import RoomRegistry
from core.training.run import FINISHED
from pages.resources import room_registry
from pages.session import Keys

APP = str(Path(__file__).resolve().parents[2] / "app.py")
TIMEOUT = 120


@pytest.fixture(autouse=True)
def fresh_rooms():
    """Each test starts with no rooms (the registry is one per process, like on a server)."""
    room_registry.clear()
    yield
    room_registry.clear()


def open_page(page: str, query: dict | None = None, state: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    at.switch_page(page).run()
    return at


def everything(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [t.value for t in at.text]
    parts += [e.value for e in at.error] + [i.value for i in at.info] + [h.value for h in at.header]
    parts += [s.value for s in at.subheader] + [c.value for c in at.code]
    return "\n".join(str(part) for part in parts)


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def presenter_with_room() -> tuple[AppTest, str]:
    """A presenter who pressed "Start a room" on the Lesson page (digits, 2 epochs)."""
    at = open_page("pages/lesson.py", {"step": "4"}, {Keys.LESSON_DATASET: "digits", Keys.LESSON_EPOCHS: 2})
    button(at, "Start a room").click().run()
    code, _ = at.session_state[Keys.ROOM_PRESENTED]
    at.switch_page("pages/room.py").run()  # where the button took the presenter (AppTest needs telling)
    return at, code


def test_the_presenter_gets_a_code_a_join_link_and_a_qr_code():
    at, code = presenter_with_room()
    text = everything(at)
    assert f"Room code: `{code}`" in text
    assert f"/room?code={code}" in text
    assert len(at.get("image")) == 1  # the QR code, drawn on the server
    secret = at.session_state[Keys.ROOM_PRESENTED][1]
    assert secret not in text and secret not in f"/room?code={code}"


def test_a_participant_joins_by_link_and_sees_the_presenters_step_follow():
    presenter, code = presenter_with_room()
    viewer = open_page("pages/room.py", {"code": code.lower()})
    assert f"Room {code} · you are Guest 1" in everything(viewer)
    assert "Step 4 of 7" in everything(viewer)
    presenter.switch_page("pages/lesson.py").run()  # no step in the URL: the lesson opens at the room's
    assert presenter.header[0].value.startswith("Step 4 of 7")
    button(presenter, "Next").click().run()
    viewer.run()
    assert "Step 5 of 7" in everything(viewer)


def test_a_reload_of_the_join_link_rejoins_as_the_same_participant():
    _, code = presenter_with_room()
    room = room_registry().get(code)
    first = open_page("pages/room.py", {"code": code})
    me = first.session_state[Keys.ROOM_PARTICIPANT_ID]
    assert first.query_params["me"] == me and first.query_params["code"] == code
    second = open_page("pages/room.py", {"code": code})  # another person, another tab
    reload = open_page("pages/room.py", dict(first.query_params))
    assert reload.session_state[Keys.ROOM_PARTICIPANT_ID] == me
    assert f"Room {code} · you are Guest 1 · 2 following" in everything(reload)
    assert room.nickname_of(second.session_state[Keys.ROOM_PARTICIPANT_ID]) == "Guest 2"
    # A made-up id is not taken from the URL: it gets a new one.
    stranger = open_page("pages/room.py", {"code": code, "me": "not-an-id"})
    assert stranger.session_state[Keys.ROOM_PARTICIPANT_ID] != "not-an-id"


def test_a_participant_cannot_move_the_step_or_become_the_presenter_through_the_url():
    _, code = presenter_with_room()
    room = room_registry().get(code)
    intruder = open_page("pages/room.py", {"code": code, "secret": "guess", "presenter": "1", "step": "6"})
    assert room.is_participant(intruder.session_state[Keys.ROOM_PARTICIPANT_ID])
    assert not any(b.label in ("End the room", "Next", "Back") for b in intruder.button)
    # The lesson page itself, in presenter mode, moves only the intruder's own screen.
    intruder.switch_page("pages/lesson.py").run()
    button(intruder, "Next").click().run()
    button(intruder, "Next").click().run()
    assert room.view().step == 4
    assert Keys.ROOM_PRESENTED not in intruder.session_state


def test_joining_with_a_bad_code_or_a_hostile_nickname_is_handled_plainly():
    _, code = presenter_with_room()
    at = open_page("pages/room.py")
    at.text_input(key=Keys.ROOM_JOIN_CODE).input("<b>x")
    at.button[0].click().run()
    assert "A room code is 5 letters and digits" in everything(at)
    at.text_input(key=Keys.ROOM_JOIN_CODE).input(code)
    at.text_input(key=Keys.ROOM_NICKNAME).input("**<img src=x onerror=1>")
    at.button[0].click().run()
    shown = [t.value for t in at.text]
    assert any("you are **<img src=x onerror=1>" in line for line in shown)  # as plain text, never markdown
    assert not any("onerror" in m.value for m in at.markdown)


def test_the_presenters_run_reaches_the_room_and_a_fork_reaches_the_board():
    presenter, code = presenter_with_room()
    presenter.switch_page("pages/lesson.py").run()
    button(presenter, texts.FIT_BUTTON).click().run()
    room = room_registry().get(code)
    (presenter_run,) = room.view().presenter_runs
    viewer = open_page("pages/room.py", {"code": code}, {})
    wait_for(lambda: presenter_run.status == FINISHED)
    viewer.run()
    assert "Presenter" in str(viewer.dataframe[0].value)
    fork = next(b for b in viewer.button if b.label == "Train")
    viewer.selectbox(key=f"{Keys.ROOM_TRY_FORK}optimizer").select("sgd")
    fork.click().run()
    (try_run,) = room.active_try(viewer.session_state[Keys.ROOM_PARTICIPANT_ID]) or room.entries()[-1:]
    wait_for(lambda: try_run.status == FINISHED)
    viewer.run()
    board = viewer.dataframe[0].value
    assert len(board) == 2
    assert "optimizer=sgd" in " ".join(str(v) for v in board["what differs from the presenter"])


def test_a_participant_has_one_run_at_a_time():
    _, code = presenter_with_room()
    viewer = open_page("pages/room.py", {"code": code})
    next(b for b in viewer.button if b.label == "Train").click().run()
    room = room_registry().get(code)
    me = viewer.session_state[Keys.ROOM_PARTICIPANT_ID]
    assert len(room.active_try(me)) == 1 or room.entries()[-1].run.status == FINISHED
    assert not any(b.label == "Train" for b in viewer.button) or room.entries()[-1].run.status == FINISHED


def test_a_room_that_ended_tells_its_followers():
    presenter, code = presenter_with_room()
    viewer = open_page("pages/room.py", {"code": code})
    button(presenter, "End the room").click().run()
    viewer.run()
    assert "Join" in [b.label for b in viewer.button]
    assert isinstance(room_registry(), RoomRegistry) and room_registry().get(code) is None


def wait_for(condition, seconds: float = TIMEOUT) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Gave up after {seconds} s waiting for the room's run.")
        time.sleep(0.2)
