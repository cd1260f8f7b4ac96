"""Your own images in AppTest: upload a .zip on Train, read its dataset card, train, and see the run on Evaluate."""

import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

from core.training.run import FINISHED
from tests.polling import poll_until, rerun_until

APP = str(Path(__file__).resolve().parents[2] / "app.py")
TIMEOUT = 120
UPLOADER = "train.own_data_upload"


def animals_zip(per_class: int = 10) -> bytes:
    """scikit-learn's digits 0, 1 and 7 upscaled to 32×32 PNGs, in folders with odd class names."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, digit in (("cat", 0), ("dög", 1), ("seven sisters", 7)):
            for index, image in enumerate(digits.images[digits.target == digit][:per_class]):
                picture = io.BytesIO()
                Image.fromarray(np.kron(image * 255 / 16, np.ones((4, 4))).astype(np.uint8)).save(picture, "PNG")
                archive.writestr(f"animals/{name}/{index}.png", picture.getvalue())
        archive.writestr("animals/dög/broken.png", b"not a picture")
    return buffer.getvalue()


def train_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["train.dataset"] = "upload"
    at.session_state["train.epochs"] = 2
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    return at


def test_a_refused_upload_says_why_and_train_waits():
    at = train_page()
    train = next(b for b in at.button if b.label == "Train")
    assert train.disabled
    at.file_uploader(key=UPLOADER).upload("bad.zip", b"PK\x03\x04 not really a zip").run()
    assert not at.exception, at.exception
    assert any("not a readable zip file" in error.value for error in at.error)
    assert next(b for b in at.button if b.label == "Train").disabled


def test_upload_then_train_then_evaluate_shows_the_run():
    at = train_page()
    at.file_uploader(key=UPLOADER).upload("animals.zip", animals_zip()).run()
    assert not at.exception, at.exception
    card = at.table[0].value
    assert list(card["class"]) == ["cat", "dög", "seven sisters"]
    assert list(card["training images"]) == [8, 8, 8] and list(card["test images"]) == [2, 2, 2]
    assert any("left out" in warning.value for warning in at.warning)
    assert any("animals/dög/broken.png" in str(table.value["file"].tolist()) for table in at.table[1:])
    assert len(at.image) == 1 and "A row a class" in at.image[0].proto.imgs[0].caption

    next(b for b in at.button if b.label == "Train").click().run()
    rerun_until(
        at,
        lambda at: " ".join(p.proto.text for p in at.get("progress")).count("Finished") == 2,
        TIMEOUT,
        "Keras and the baseline have both finished on the uploaded images",
    )
    at.switch_page("pages/evaluate.py").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert list(table["class"]) == ["cat", "dög", "seven sisters"] and table["support"].sum() == 6
    accuracy = float(at.metric[0].value.rstrip("%")) / 100
    assert 0 <= accuracy <= 1


def test_a_rooms_participants_train_on_the_presenters_upload():
    from core.results import lesson_texts as texts
    from pages.resources import room_registry
    from pages.session import Keys

    room_registry.clear()
    presenter = train_page()
    presenter.file_uploader(key=UPLOADER).upload("animals.zip", animals_zip()).run()
    next(b for b in presenter.button if b.label == texts.START_ROOM).click().run()
    code, _ = presenter.session_state[Keys.ROOM_PRESENTED]
    viewer = AppTest.from_file(APP, default_timeout=TIMEOUT)
    viewer.query_params["code"] = code
    viewer.run()
    viewer.switch_page("pages/room.py").run()
    assert not viewer.exception, viewer.exception
    # The participant's "try it yourself" trains on the presenter's images, reached through the room alone.
    next(b for b in viewer.button if b.label == "Train").click().run()
    assert not viewer.exception, viewer.exception
    room = room_registry().get(code)
    (try_run,) = room.active_try(viewer.session_state[Keys.ROOM_PARTICIPANT_ID]) or room.entries()[-1:]
    poll_until(lambda: try_run.status == FINISHED, TIMEOUT, "the participant's run has finished")
    assert try_run.config.dataset == "upload" and try_run.snapshot().test_metrics
    room_registry.clear()


def test_the_lesson_offers_the_sessions_upload():
    from pages.session import Keys

    at = train_page()
    at.file_uploader(key=UPLOADER).upload("animals.zip", animals_zip()).run()
    at.switch_page("pages/lesson.py").run()
    assert not at.exception, at.exception
    at.selectbox(key=Keys.LESSON_DATASET).set_value("upload").run()
    assert not at.exception, at.exception
    shown = " ".join([m.value for m in at.markdown] + [c.value for c in at.caption])
    assert "animals.zip" in shown or "seven sisters" in shown


def test_saved_by_name_then_opened_in_a_new_session():
    at = train_page()
    at.file_uploader(key=UPLOADER).upload("animals.zip", animals_zip()).run()
    at.text_input(key="train.own_data_save_name").input("zoo").run()
    next(b for b in at.button if b.label == "Save").click().run()
    assert any("Saved as zoo.npz" in success.value for success in at.success)

    later = train_page()
    later.selectbox(key="train.own_data_pick").set_value("zoo")
    next(b for b in later.button if b.label == "Open").click().run()
    assert not later.exception, later.exception
    assert list(later.table[0].value["class"]) == ["cat", "dög", "seven sisters"]
    assert not next(b for b in later.button if b.label == "Train").disabled


def test_a_shared_server_offers_no_saving(monkeypatch):
    from core.results.experiments import SHARED_SERVER_ENV

    monkeypatch.setenv(SHARED_SERVER_ENV, "1")
    at = train_page()
    at.file_uploader(key=UPLOADER).upload("animals.zip", animals_zip()).run()
    assert at.table  # the card is there
    assert not any(b.label in ("Save", "Open") for b in at.button)
