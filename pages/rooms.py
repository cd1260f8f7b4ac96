"""This session's place in the workshop rooms: the room it presents, or the one it follows.

The presenter's secret lives only here, in this session's state: it is never put in a URL, so a
participant who edits their link gets no further than the room's code takes them.
"""

from __future__ import annotations

import io
import re
import secrets

import streamlit as st

from core.rooms import Room, RoomError, normalise_code
from pages.resources import room_registry
from pages.session import Keys

ROOM_PAGE = "room"  # the Room page's URL path; a join link is /room?code=ABCDE
# A participant's page carries their id as ?me=…: a reload starts a new session, which finds it there and
# rejoins as the same person (not one more guest). It names a seat in the room and controls nothing.
PARTICIPANT_PARAM = "me"
PARTICIPANT_ID_BYTES = 8
PARTICIPANT_ID = re.compile(f"[0-9a-f]{{{2 * PARTICIPANT_ID_BYTES}}}")


def presented_room() -> tuple[Room, str] | None:
    """(room, secret) of the open room this session presents, or None."""
    presented = st.session_state.get(Keys.ROOM_PRESENTED)
    if not presented:
        return None
    code, secret = presented
    room = room_registry().get(code)
    if room is None or not room.is_presenter(secret):
        st.session_state.pop(Keys.ROOM_PRESENTED, None)  # ended or expired
        return None
    return room, secret


def joined_room() -> Room | None:
    """The open room this session follows as a participant, or None."""
    code = st.session_state.get(Keys.ROOM_JOINED)
    room = room_registry().get(code) if code else None
    if room is None or not room.is_participant(participant_id()):
        st.session_state.pop(Keys.ROOM_JOINED, None)
        return None
    return room


def participant_id() -> str:
    """This session's id in the rooms it joins: the one in the page's URL (a reload), else a new random one.

    A new tab opened from the join link is a new participant; a reload of a room page is the same one.
    """
    if Keys.ROOM_PARTICIPANT_ID not in st.session_state:
        from_url = st.query_params.get(PARTICIPANT_PARAM, "")
        known = PARTICIPANT_ID.fullmatch(from_url) is not None
        st.session_state[Keys.ROOM_PARTICIPANT_ID] = from_url if known else secrets.token_hex(PARTICIPANT_ID_BYTES)
    return st.session_state[Keys.ROOM_PARTICIPANT_ID]


def rejoin_params(code: str) -> dict[str, str]:
    """A participant's room page URL: the room, and who they are, so a reload rejoins as them."""
    return {"code": code, PARTICIPANT_PARAM: participant_id()}


def start_room() -> Room:
    """Open a room presented by this session (raises RoomError when the server has too many)."""
    room, secret = room_registry().create()
    st.session_state[Keys.ROOM_PRESENTED] = (room.code, secret)
    st.session_state.pop(Keys.ROOM_JOINED, None)
    return room


def start_room_from(step: int, config) -> Room:
    """Open a room at this lesson step, with these settings for participants to fork."""
    room = start_room()
    _, secret = st.session_state[Keys.ROOM_PRESENTED]
    room.set_step(secret, step)
    room.set_presenter_config(secret, config)
    return room


def end_room() -> None:
    presented = presented_room()
    if presented:
        room, secret = presented
        room_registry().end(room.code, secret)
    st.session_state.pop(Keys.ROOM_PRESENTED, None)


def join_room(code: str | None, nickname: str | None = None) -> Room:
    """Join the room with this code as a participant; RoomError says why not (unknown, full, ended)."""
    wanted = normalise_code(code)
    if wanted is None:
        raise RoomError("A room code is 5 letters and digits, such as K7QXD. Check the code and try again.")
    room = room_registry().get(wanted)
    if room is None:
        raise RoomError(f"There is no open room {wanted}. It may have ended: ask the presenter for the code.")
    presented = presented_room()
    if presented and presented[0] is room:
        raise RoomError("You present this room: your own screen already shows it.")
    room.join(participant_id(), nickname)
    st.session_state[Keys.ROOM_JOINED] = room.code
    return room


def leave_room() -> None:
    room = joined_room()
    if room is not None:
        room.leave(participant_id())
    st.session_state.pop(Keys.ROOM_JOINED, None)


def join_link(code: str) -> str:
    """The link participants open: the app's own address (as this browser reached it) and the code."""
    base = ""
    try:
        base = (st.context.url or "").split("?")[0].rsplit("/", 1)[0]
    except AttributeError:  # an older Streamlit without st.context.url: a relative link still works
        base = ""
    return f"{base}/{ROOM_PAGE}?code={code}"


def qr_png(link: str, scale: int = 12) -> bytes:
    """The link as a QR code, drawn on the server (segno, pure Python), big enough for the back row."""
    import segno

    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()


def visible_run_ids() -> set[str]:
    """The runs a visitor may see on a shared server: their own, and those of the rooms they are in."""
    own = {run.run_id for run in st.session_state.get(Keys.RUN_HISTORY, [])}
    rooms = [room for room in (joined_room(), (presented_room() or (None,))[0]) if room is not None]
    for room in rooms:
        own |= room.run_ids()
    return own
