"""A presenter's lesson settings survive the trip to the Room page and back (found by the browser test)."""

from pages.resources import room_registry
from pages.session import Keys
from tests.app.test_rooms import button, fresh_rooms, open_page  # noqa: F401  (fresh_rooms: an autouse fixture)


def test_the_lesson_keeps_its_settings_after_the_room_page():
    at = open_page("pages/lesson.py", {"step": "4"})
    at.selectbox(key=Keys.LESSON_DATASET).select("digits").run()
    at.slider(key=Keys.LESSON_EPOCHS).set_value(7).run()  # through the widgets, as a presenter does
    button(at, "Start a room").click().run()
    code, _ = at.session_state[Keys.ROOM_PRESENTED]
    at.switch_page("pages/room.py").run()  # the Room page has no lesson sidebar: its widget state is dropped
    at.switch_page("pages/lesson.py").run()
    assert at.slider(key=Keys.LESSON_EPOCHS).value == 7
    assert at.selectbox(key=Keys.LESSON_DATASET).value == "digits"
    assert room_registry().get(code).view().presenter_config.epochs == 7  # what participants fork from
    assert not at.warning  # no "default value but also set via the Session State API"
