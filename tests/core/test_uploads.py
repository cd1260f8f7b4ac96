"""Your own images: class folders, IDX files and .npz read from memory, with every refusal's message."""

import gzip
import io
import stat
import struct
import zipfile

import numpy as np
import pytest
from PIL import Image

from core.data import uploads
from core.data.datasets import keep_private, load_dataset
from core.data.uploads import (
    MAX_CLASSES,
    MIN_IMAGES_PER_CLASS,
    UploadError,
    duplicate_summary,
    load_own_data,
    load_own_path,
)


@pytest.fixture(scope="module")
def digit_pictures():
    """scikit-learn's 8×8 digits, upscaled to 32×32 greyscale pictures, by class."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    pictures = {}
    for image, label in zip(digits.images, digits.target, strict=True):
        big = np.kron(image * 255 / 16, np.ones((4, 4))).astype(np.uint8)
        pictures.setdefault(int(label), []).append(big)
    return pictures


def encoded(pixels: np.ndarray, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).convert("RGB" if fmt == "JPEG" else "L").save(buffer, format=fmt)
    return buffer.getvalue()


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, raw in files.items():
            archive.writestr(name, raw)
    return buffer.getvalue()


def class_folders(pictures, classes: dict[str, int], per_class: int = 6, prefix: str = "", fmt: str = "PNG"):
    """{prefix + class/i.png: bytes}: folder name → the digit whose pictures fill it."""
    suffix = {"PNG": "png", "JPEG": "jpg", "BMP": "bmp"}[fmt]
    return {
        f"{prefix}{name}/{index}.{suffix}": encoded(pictures[digit][index], fmt)
        for name, digit in classes.items()
        for index in range(per_class)
    }


def test_class_folders_nested_one_level_down(digit_pictures):
    files = class_folders(digit_pictures, {"0": 0, "1": 1, "2": 2}, prefix="my_digits/")
    files["my_digits/README.txt"] = b"three classes"
    files["my_digits/.DS_Store"] = b"\0"
    own = load_own_data(zipped(files), "my_digits.zip")
    assert own.dataset.class_names == ("0", "1", "2")
    assert [refused.file for refused in own.card.refused] == ["my_digits/README.txt"]
    assert own.dataset.image_shape == (28, 28)
    assert own.card.train_counts == (5, 5, 5) and own.card.test_counts == (1, 1, 1)
    assert not own.card.test_given
    # Prepared the MNIST way: ink bright on a dark frame.
    assert own.dataset.pixels_train[:, 0, :].max() == 0 and own.dataset.pixels_train.max() > 200


def test_a_zips_preparation_tells_its_progress_up_to_every_picture(digit_pictures, monkeypatch):
    monkeypatch.setattr(uploads, "PROGRESS_EVERY", 5)
    told = []
    files = class_folders(digit_pictures, {"0": 0, "1": 1, "2": 2})  # 18 pictures
    own = load_own_data(zipped(files), "my_digits.zip", lambda done, total: told.append((done, total)))
    assert told == [(0, 18), (5, 18), (10, 18), (15, 18), (18, 18)]
    assert sum(own.card.train_counts) + sum(own.card.test_counts) == 18


def test_odd_class_names_keep_their_spelling(digit_pictures):
    names = {"cat": 0, "zwölf Ünïcödé": 1, "two words": 2, "10": 3, "2": 4}
    own = load_own_data(zipped(class_folders(digit_pictures, names)), "odd.zip")
    # Numbers first, in number order, then names alphabetically.
    assert own.dataset.class_names == ("2", "10", "cat", "two words", "zwölf Ünïcödé")
    assert sum(own.card.train_counts) + sum(own.card.test_counts) == 30


def test_mixed_formats_are_all_read(digit_pictures):
    files = {}
    for fmt in ("PNG", "JPEG", "BMP"):
        for path, raw in class_folders(digit_pictures, {"a": 0, "b": 7}, 2, fmt=fmt).items():
            files[path.replace("/", f"/{fmt}_")] = raw
    own = load_own_data(zipped(files), "mixed.zip")
    assert not own.card.refused
    assert sum(own.card.train_counts) + sum(own.card.test_counts) == 12


def test_a_corrupt_image_is_listed_and_the_rest_kept(digit_pictures):
    files = class_folders(digit_pictures, {"0": 0, "1": 1})
    files["1/broken.png"] = files["1/0.png"][:40]  # cut short
    own = load_own_data(zipped(files), "one_broken.zip")
    assert [refused.file for refused in own.card.refused] == ["1/broken.png"]
    assert "not an image this app can read" in own.card.refused[0].reason
    assert sum(own.card.train_counts) + sum(own.card.test_counts) == 12


def test_a_zip_bomb_is_refused_before_it_unpacks(digit_pictures):
    files = class_folders(digit_pictures, {"0": 0, "1": 1})
    files["1/huge.bmp"] = bytes(64 * 2**20)  # zeros: deflates a thousandfold
    bomb = zipped(files)
    assert len(bomb) < 2**20
    with pytest.raises(UploadError, match="zip bomb"):
        load_own_data(bomb, "bomb.zip")


def test_a_path_that_climbs_out_is_refused(digit_pictures):
    files = class_folders(digit_pictures, {"0": 0, "1": 1})
    files["../outside.png"] = files["0/0.png"]
    with pytest.raises(UploadError, match="points outside the archive"):
        load_own_data(zipped(files), "climb.zip")
    absolute = class_folders(digit_pictures, {"0": 0, "1": 1}) | {"/etc/x.png": files["0/0.png"]}
    with pytest.raises(UploadError, match="points outside"):
        load_own_data(zipped(absolute), "absolute.zip")


def test_a_link_is_refused(digit_pictures):
    buffer = io.BytesIO(zipped(class_folders(digit_pictures, {"0": 0, "1": 1})))
    with zipfile.ZipFile(buffer, "a") as archive:
        link = zipfile.ZipInfo("1/link.png")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(UploadError, match="link"):
        load_own_data(buffer.getvalue(), "link.zip")


def test_a_nested_archive_is_refused(digit_pictures):
    files = class_folders(digit_pictures, {"0": 0, "1": 1})
    files["1/more.zip"] = zipped({"x.png": files["0/0.png"]})
    with pytest.raises(UploadError, match="another archive"):
        load_own_data(zipped(files), "nested.zip")


def test_a_class_with_no_images_is_listed_and_the_others_kept(digit_pictures):
    files = class_folders(digit_pictures, {"0": 0, "1": 1, "2": 2})
    files["3/notes.txt"] = b"to do: draw some threes"
    files["4/0.png"] = files["0/0.png"]  # fewer than the minimum
    own = load_own_data(zipped(files), "gaps.zip")
    assert own.dataset.class_names == ("0", "1", "2")
    reasons = {refused.file: refused.reason for refused in own.card.refused}
    assert "0 readable images" in reasons["3/"] and f"at least {MIN_IMAGES_PER_CLASS}" in reasons["4/"]
    assert "not an image" in reasons["3/notes.txt"]


def test_more_than_twenty_classes_are_refused(digit_pictures):
    classes = {f"class {index}": index % 10 for index in range(MAX_CLASSES + 1)}
    with pytest.raises(UploadError, match=f"{MAX_CLASSES + 1} classes; the limit is {MAX_CLASSES}"):
        load_own_data(zipped(class_folders(digit_pictures, classes, per_class=5)), "many.zip")


def idx_bytes(array: np.ndarray) -> bytes:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def test_an_idx_zip_and_an_npz(tmp_path):
    rng = np.random.default_rng(0)
    x_train, y_train = rng.integers(0, 256, (60, 28, 28), dtype=np.uint8), np.arange(60) % 3
    x_test, y_test = rng.integers(0, 256, (9, 28, 28), dtype=np.uint8), np.arange(9) % 3
    idx = {
        "mnist/train-images-idx3-ubyte.gz": gzip.compress(idx_bytes(x_train)),
        "mnist/train-labels-idx1-ubyte": idx_bytes(y_train),
        "mnist/t10k-images-idx3-ubyte": idx_bytes(x_test),
        "mnist/t10k-labels-idx1-ubyte": idx_bytes(y_test),
    }
    own = load_own_data(zipped(idx), "idx.zip")
    assert own.card.source == "IDX files" and own.card.test_given
    assert np.array_equal(own.dataset.pixels_test, x_test) and own.card.train_counts == (20, 20, 20)

    npz = tmp_path / "mine.npz"
    np.savez(npz, x_train=x_train, y_train=y_train)  # no test set: one is split off
    own = load_own_path(npz)
    assert own.card.source == "npz" and not own.card.test_given
    assert own.card.test_counts == (4, 4, 4) and len(own.dataset.pixels_train) == 48


def test_the_same_images_in_two_classes_are_reported(digit_pictures):
    files = class_folders(digit_pictures, {"0": 0, "1": 1})
    files["1/copy_of_a_zero.png"] = files["0/3.png"]
    own = load_own_data(zipped(files), "dupes.zip")
    [duplicate] = own.card.duplicates
    assert set(duplicate.files) == {"0/3.png", "1/copy_of_a_zero.png"} and duplicate.across_classes
    assert "different classes" in duplicate_summary(own.card)


def test_an_upload_resolves_by_its_private_key_while_held(digit_pictures):
    own = load_own_data(zipped(class_folders(digit_pictures, {"0": 0, "1": 1})), "two.zip")
    key = keep_private(own.dataset)
    assert load_dataset("upload", key) is own.dataset
    from core.data.datasets import DatasetUnavailable, choose_dataset

    with pytest.raises(DatasetUnavailable, match="no longer in this server's memory"):
        load_dataset("upload", key[:-2] + "xx")
    choice = choose_dataset("upload", "/etc/passwd")  # a path is no key: nothing is read, nothing stands in
    assert choice.dataset is None and "key of an upload" in str(choice.error)
