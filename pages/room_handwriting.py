"""The room's handwriting: participants draw the digit they are asked for; the big screen scores the room's set live.

Not a page itself: the Room page calls presenter_handwriting and participant_handwriting. Drawings live in
the room's memory (core.rooms.RoomHandwriting) and are shown without names; a participant sees only their
own score, and only the presenter can remove a drawing or download the set.
"""

from __future__ import annotations

import streamlit as st

from core import charts
from core import config as settings
from core.data.images import ImageError
from core.results.handwriting import (
    DIGIT_NAMES,
    drawing_from_canvas,
    drawing_mosaic,
    handwriting_story,
    reads_digits,
    worst_readings,
)
from core.rooms import HELD_OUT_SHARE, Room, RoomError
from core.training.inference import ModelSnapshot
from core.training.run import RunSnapshot, TrainingRun
from pages.handwriting import draw_canvas, drawing_gallery, reading_captions, why_for_drawing
from pages.lesson_steps import step_our_handwriting
from pages.looks import palette
from pages.resources import dataset_or_fallback, job_runner
from pages.session import Keys

BOARD_REFRESH_SECONDS = 2.0  # the big screen's handwriting board redraws this often while the room draws
MOSAIC_DRAWINGS = 40  # the latest drawings on the big screen
WORST_READINGS = 8


def presenter_model(room: Room) -> tuple[TrainingRun, ModelSnapshot, RunSnapshot] | None:
    """The presenter's latest trained model that reads digits (its run, numpy copy and snapshot), or None."""
    for run in reversed(room.view().presenter_runs):
        snap = run.snapshot()
        model = snap.details.get("snapshot")
        if model is None or snap.is_active:
            continue
        dataset, _ = dataset_or_fallback(snap.config.dataset, snap.config.data_dir)
        if reads_digits(dataset.class_names):
            return run, model, snap
    return None


def room_story(room: Room, drawings, model: ModelSnapshot, snap: RunSnapshot) -> list[str]:
    """The sentences of "Does it work on our handwriting?": before teaching, and after when taught."""
    fine = room.fine_tune
    if fine is None or fine.run.run_id != snap.run_id:
        return handwriting_story(snap.test_metrics.get("accuracy"), room.score_handwriting(model, drawings))
    taught = (
        fine.taught,
        room.score_handwriting(fine.before, fine.held_out),
        room.score_handwriting(model, fine.held_out),
        fine.before_test_accuracy,
        snap.test_metrics.get("accuracy"),
    )
    return handwriting_story(fine.before_test_accuracy, room.score_handwriting(fine.before, drawings), taught)


def lesson_story(room: Room | None) -> list[str] | None:
    """Step 7's sentences for a screen of this room; None without a room, its drawings, or a model that reads digits."""
    if room is None:
        return None
    drawings = room.drawings()
    found = presenter_model(room) if drawings else None
    if found is None:
        return None
    _, model, snap = found
    return room_story(room, drawings, model, snap)


# --- the presenter -------------------------------------------------------------------------------


def presenter_handwriting(room: Room, secret: str) -> None:
    """The button "Collect the room's handwriting", then the live board of the room's digits."""
    st.subheader("The room's handwriting")
    if not room.collecting_handwriting:
        st.write(
            "A model that scores well on its test set has promised that for its test set. Ask the room to draw "
            "digits on their phones, and see how your model reads the room's handwriting."
        )
        if st.button("Collect the room's handwriting", icon=":material/draw:", key="room.handwriting.open"):
            room.collect_handwriting(secret)
            st.rerun()
        return

    @st.fragment(run_every=BOARD_REFRESH_SECONDS)
    def live_board() -> None:
        handwriting_board(room, secret)

    live_board()


def handwriting_board(room: Room, secret: str) -> None:
    """Counts per digit, the latest drawings, the model's two scores, the room's confusion and its worst readings."""
    drawings = room.drawings()
    people = len({drawing.participant_id for drawing in drawings})
    st.caption(f"{len(drawings)} drawings from {people} people. Every phone in the room asks for a digit to draw.")
    counts, latest = st.columns(2)
    counts.bar_chart(
        {"digit": list(DIGIT_NAMES), "drawings": room.drawing_counts().tolist()}, x="digit", y="drawings", height=220
    )
    latest.image(charts.digit_picture(drawing_mosaic([d.image for d in drawings[-MOSAIC_DRAWINGS:]]), side=400))
    latest.caption("The latest drawings, without names.")
    found = presenter_model(room)
    if found is None:
        st.info(waiting_for_a_model(room))
    elif drawings:
        run, model, snap = found
        room_scores(room, drawings, model, snap)
        step_our_handwriting(room_story(room, drawings, model, snap))
        teach(room, secret, run, snap)
    moderation(room, secret, drawings)


def waiting_for_a_model(room: Room) -> str:
    fine = room.fine_tune
    if fine is not None and fine.run.snapshot().is_active:
        return f"Your model is learning the room's handwriting: {fine.run.snapshot().message}"
    return "Train a model on digits (the lesson or Train) to score the room's handwriting."


def teach(room: Room, secret: str, run: TrainingRun, snap: RunSnapshot) -> None:
    """Teach it our handwriting: more epochs with part of the room's digits; then before and after."""
    fine = room.fine_tune
    if fine is not None and fine.run.run_id == snap.run_id:
        before_and_after(room, fine, snap)
    with st.expander("Teach it our handwriting", expanded=fine is None):
        st.caption(
            f"{HELD_OUT_SHARE:.0%} of each digit's drawings stay out, to score it on handwriting it was not "
            "taught; the rest join its training images for a few more epochs."
        )
        epochs = st.number_input("More epochs", 1, settings.EPOCHS_RANGE[1], 3, key=Keys.ROOM_HANDWRITING_EPOCHS)
        if st.button("Teach it our handwriting", icon=":material/school:", key="room.handwriting.teach"):
            dataset, _ = dataset_or_fallback(snap.config.dataset, snap.config.data_dir)
            try:
                room.teach_handwriting(secret, job_runner(), run, dataset, int(epochs))
            except RoomError as error:
                st.error(str(error))
                return
            st.rerun()


def before_and_after(room: Room, fine, snap: RunSnapshot) -> None:
    """The room's held-out digits and the original test set, before and after teaching."""
    before = room.score_handwriting(fine.before, fine.held_out).accuracy
    after = room.score_handwriting(snap.details["snapshot"], fine.held_out).accuracy
    test_after = snap.test_metrics.get("accuracy")
    held, test = st.columns(2)
    if before is not None and after is not None:
        held.metric(
            f"The room's {len(fine.held_out)} held-out digits",
            f"{after:.1%}",
            delta=f"{100 * (after - before):+.1f} points (was {before:.1%})",
        )
    if fine.before_test_accuracy is not None and test_after is not None:
        test.metric(
            "The original test set",
            f"{test_after:.1%}",
            delta=f"{100 * (test_after - fine.before_test_accuracy):+.1f} points (was {fine.before_test_accuracy:.1%})",
        )


def room_scores(room: Room, drawings, model: ModelSnapshot, snap: RunSnapshot) -> None:
    """The model's test accuracy beside its accuracy on the room's digits, the confusion, the worst readings."""
    score = room.score_handwriting(model, drawings)
    test, ours = st.columns(2)
    test.metric("On its test set", f"{snap.test_metrics.get('accuracy', 0):.1%}")
    ours.metric("On the room's handwriting", f"{score.accuracy:.1%}")
    fine = room.fine_tune
    taught = f" It was taught {fine.taught} of them." if fine is not None and fine.run.run_id == snap.run_id else ""
    st.write(f"{snap.label} read {score.correct} of the room's {score.total} drawings right.{taught}")
    st.altair_chart(charts.confusion_matrix_chart(score.confusion, DIGIT_NAMES, palette=palette()), width="stretch")
    worst = worst_readings(score, WORST_READINGS)
    if not worst:
        return
    st.markdown("**Read most wrongly**: the wrong answers the model was surest of.")
    captions = reading_captions(score)
    drawing_gallery([drawings[i].image for i in worst], [captions[i] for i in worst], columns=WORST_READINGS)
    with st.expander("Why? Pick a drawing"):
        images = [drawing.image for drawing in drawings]
        why_for_drawing(model, images, score, worst, Keys.ROOM_HANDWRITING_WHY, "room.handwriting")


def moderation(room: Room, secret: str, drawings) -> None:
    """Remove any drawing from the set and the screen; download the set (nothing is written on the server)."""
    if not drawings:
        return
    with st.expander("Moderate and download"):
        chosen = st.selectbox(
            "Drawing to remove",
            [drawing.drawing_id for drawing in reversed(drawings)],
            format_func=lambda drawing_id: f"drawing #{drawing_id}",
            key=Keys.ROOM_HANDWRITING_REMOVE,
        )
        by_id = {drawing.drawing_id: drawing for drawing in drawings}
        if chosen in by_id:
            st.image(charts.digit_picture(by_id[chosen].image / 255, side=84), caption=f"a {by_id[chosen].digit}")
        if st.button("Remove this drawing", icon=":material/delete:", key="room.handwriting.remove"):
            room.remove_drawing(secret, chosen)
            st.rerun()
        st.download_button(
            "Download the room's drawings (.zip)",
            data=lambda: room.handwriting_zip(secret),  # made only when pressed
            file_name=f"room_{room.code}_handwriting.zip",
            mime="application/zip",
            on_click="ignore",
            help="Class folders (0/ to 9/): Train's “Your own images” reads them as a dataset.",
            key="room.handwriting.download",
        )


# --- a participant -------------------------------------------------------------------------------


def participant_handwriting(room: Room, me: str) -> None:
    """The digit to draw, a canvas and Send; then, privately, how the model read this person's drawings."""
    if not room.collecting_handwriting:
        return
    st.subheader("Draw for the room")
    digit = room.handwriting_prompt(me)
    st.markdown(f"### Draw a {digit}")
    sent = st.session_state.get(Keys.ROOM_HANDWRITING_SENT, 0)
    image_data = draw_canvas(f"{Keys.ROOM_HANDWRITING_CANVAS}{room.code}.{sent}")  # a new canvas per drawing
    if st.button("Send", type="primary", icon=":material/send:", key="room.handwriting.send"):
        try:
            room.submit_drawing(me, drawing_from_canvas(image_data))
        except (ImageError, RoomError) as error:
            st.warning(str(error))
        else:
            st.session_state[Keys.ROOM_HANDWRITING_SENT] = sent + 1
            st.rerun()
    my_score(room, me)


def my_score(room: Room, me: str) -> None:
    """This participant's own score, "the model read 7 of your 10", and the room's story."""
    mine = room.drawings(me)
    found = presenter_model(room) if mine else None
    if found is None:
        st.caption(f"You have sent {len(mine)} drawings. The presenter's model reads them on the big screen.")
        return
    _, model, snap = found
    score = room.score_handwriting(model, mine)
    st.write(f"The model read {score.correct} of your {score.total}.")
    step_our_handwriting(room_story(room, room.drawings(), model, snap))
