"""Drawings kept, refused, scored and zipped (core.results.handwriting), on digits made offline."""

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from core.data.handwriting import synthetic_digits
from core.data.images import ImageError
from core.results import handwriting
from core.results import lesson_texts as texts
from tests.handwriting_drawings import CANVAS, canvas_of
from tests.handwriting_drawings import digits_model as trained_digits_model


@pytest.fixture(scope="module")
def digits_model():
    return trained_digits_model()


def test_a_drawing_is_kept_as_an_mnist_digit():
    digits, _ = synthetic_digits(3, seed=1)
    for digit in digits:
        kept = handwriting.drawing_from_canvas(canvas_of(digit))
        assert kept.shape == (28, 28) and kept.dtype == np.uint8
        assert kept.max() == 255 and kept[0].max() == 0  # ink bright, a blank margin as MNIST's


@pytest.mark.parametrize("where", ["empty", "dot", "short tick"])
def test_an_empty_or_nearly_empty_canvas_is_refused_with_a_message(where):
    rgba = np.zeros((CANVAS, CANVAS, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    if where == "dot":
        rgba[130:145, 130:145, :3] = 255
    elif where == "short tick":
        rgba[100:120, 100:140, :3] = 255
    with pytest.raises(ImageError, match=r"empty|too little ink"):
        handwriting.drawing_from_canvas(rgba)


def test_drawings_are_scored_with_a_confusion_matrix(digits_model):
    digits, labels = synthetic_digits(40, style="bundled", seed=2)
    score = handwriting.score_drawings(digits_model, list(digits), labels)

    assert score.total == 40 and score.confusion.sum() == 40 and score.confusion.shape == (10, 10)
    assert np.trace(score.confusion) == score.correct
    assert score.accuracy > 0.3  # better than chance by far: the drawings are re-prepared for 8×8
    worst = handwriting.worst_readings(score, limit=5)
    assert all(score.labels[i] != score.predictions[i] for i in worst)
    assert list(score.confidences[worst]) == sorted(score.confidences[worst], reverse=True)


def test_nothing_to_score_gives_no_accuracy(digits_model):
    score = handwriting.score_drawings(digits_model, [], [])
    assert score.total == 0 and score.accuracy is None


def test_the_zip_holds_class_folders_of_the_drawings():
    digits, labels = synthetic_digits(12, seed=3)
    data = handwriting.dataset_zip(list(digits), labels)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert len(names) == 12
        for name, digit, label in zip(names, digits, labels, strict=True):
            assert name.split("/")[0] == str(label)
            assert np.array_equal(np.asarray(Image.open(io.BytesIO(archive.read(name)))), digit)


def test_the_upload_loader_reads_the_zip_back():
    uploads = pytest.importorskip("core.data.uploads")  # Train's "Your own images" loader
    digits, labels = synthetic_digits(60, seed=4)
    own = uploads.load_own_data(handwriting.dataset_zip(list(digits), labels), "my_handwriting.zip")
    assert own.card.class_names == handwriting.DIGIT_NAMES
    assert sum(own.card.train_counts) + len(own.dataset.y_test) == 60


def test_the_solo_prompts_ask_for_every_digit_twice():
    prompts = handwriting.solo_prompts()
    assert sorted(prompts) == sorted(list(range(10)) * 2)
    assert handwriting.reads_digits([str(d) for d in range(10)])
    assert not handwriting.reads_digits(["T-shirt", "Trouser"])


def test_the_story_is_told_from_the_rooms_numbers():
    room = handwriting.HandwritingScore.of([3, 3, 5, 7], [3, 8, 5, 1], [0.9, 0.8, 0.7, 0.6])
    sentences = handwriting.handwriting_story(0.95, room)
    assert sentences[0] == texts.HANDWRITING_SCORES.format(test=0.95, room=0.5, correct=2, total=4)
    assert "45 points lower" in sentences[1]
    assert sentences[-1] == texts.HANDWRITING_TEACH_NEXT
    before = handwriting.HandwritingScore.of([3, 5], [8, 5], [0.9, 0.9])
    after = handwriting.HandwritingScore.of([3, 5], [3, 5], [0.9, 0.9])
    told = handwriting.handwriting_story(0.95, room, (10, before, after, 0.95, 0.90))
    assert any("against 50.0% before: +50 points" in sentence for sentence in told)
    assert "it lost 5.0 points" in told[-1]
    assert handwriting.handwriting_story(0.95, handwriting.HandwritingScore.of([], [], [])) == [
        texts.HANDWRITING_NOTHING_YET
    ]
