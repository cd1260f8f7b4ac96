"""Tests for core.data.datasets: tiny synthetic IDX and npz files, the bundled digits, Debian's Fashion-MNIST."""

from __future__ import annotations

import gzip
import socket
import struct
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from core.data import datasets as data
from core.data.datasets import (
    DatasetError,
    DatasetFileError,
    DatasetUnavailable,
    choose_dataset,
    clear_dataset_cache,
    describe_available,
    fallback_label,
    find_fashion_mnist_folder,
    load_dataset,
    load_dataset_or_fallback,
    load_idx_folder,
    load_npz,
    read_idx,
    split_indices,
    subsample_indices,
)

IDX_CODES = {np.dtype(">u1"): 0x08, np.dtype(">i1"): 0x09, np.dtype(">i2"): 0x0B, np.dtype(">i4"): 0x0C}
NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


@pytest.fixture(autouse=True)
def isolated(tmp_path_factory, monkeypatch):
    """No test reads the real Keras cache or reaches the network, and each starts with an empty cache."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path_factory.mktemp("keras_home")))
    monkeypatch.delenv(data.FASHION_MNIST_DIR_ENV, raising=False)

    def no_network(name):
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(data, "_download_with_keras", no_network)
    clear_dataset_cache()
    yield
    clear_dataset_cache()


def write_idx(path: Path, array: np.ndarray) -> Path:
    """Write `array` as an IDX file (gzip-compressed when the name ends in .gz)."""
    array = np.asarray(array)
    big_endian = array.astype(array.dtype.newbyteorder(">"))
    header = bytes([0, 0, IDX_CODES[big_endian.dtype], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + big_endian.tobytes()
    path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)
    return path


def tiny_arrays(side: int = 10, num_train: int = 20, num_test: int = 10, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (num_train, side, side), dtype=np.uint8),
        "y_train": np.arange(num_train, dtype=np.uint8) % 10,
        "x_test": rng.integers(0, 256, (num_test, side, side), dtype=np.uint8),
        "y_test": np.arange(num_test, dtype=np.uint8) % 10,
    }


def write_idx_folder(folder: Path, arrays: dict[str, np.ndarray], suffix: str = "", dotted: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for key, stem in NAMES.items():
        name = stem.replace("-idx", ".idx") if dotted else stem
        write_idx(folder / (name + suffix), arrays[key])
    return folder


# ---------------------------------------------------------------------------------------------
# Digits


def test_digits_loads_scaled_with_a_fixed_stratified_test_split():
    digits = load_dataset("digits")
    assert digits.pixels_train.shape == (1437, 8, 8) and digits.pixels_test.shape == (360, 8, 8)
    assert digits.y_train.shape == (1437,) and digits.y_test.shape == (360,)
    assert digits.pixels_train.dtype == np.uint8 and digits.y_train.dtype == np.int64
    assert digits.pixels_train.min() == 0 and digits.pixels_train.max() == 16
    # The model's view: scaled to [0, 1] by the brightest possible pixel.
    assert digits.x_test.dtype == np.float32 and digits.x_test.shape == (360, 8, 8)
    np.testing.assert_array_equal(digits.x_test, digits.pixels_test / np.float32(16))
    assert digits.scaled(digits.pixels_train).max() == 1.0
    assert digits.image_shape == (8, 8) and digits.num_classes == 10 and digits.pixel_max_raw == 16
    assert digits.class_names == tuple("0123456789")
    assert digits.source == "scikit-learn (bundled)"
    # Stratified: every digit has 35 or 36 of the 360 test images.
    assert set(np.bincount(digits.y_test)) <= {35, 36, 37}

    clear_dataset_cache()
    again = load_dataset("digits")
    assert again is not digits
    np.testing.assert_array_equal(again.y_test, digits.y_test)
    np.testing.assert_array_equal(again.x_test, digits.x_test)


def test_dataset_arrays_are_read_only_because_they_are_shared():
    digits = load_dataset("digits")
    with pytest.raises(ValueError, match="read-only"):
        digits.pixels_train[0, 0, 0] = 5
    with pytest.raises(ValueError, match="read-only"):
        digits.x_test[0, 0, 0] = 0.5
    assert digits.x_test is digits.x_test  # scaled once, then shared


# ---------------------------------------------------------------------------------------------
# IDX and npz files


@pytest.mark.parametrize("suffix, dotted", [("", False), (".gz", False), ("", True), (".gz", True)])
def test_idx_folder_round_trip(tmp_path, suffix, dotted):
    arrays = tiny_arrays()
    folder = write_idx_folder(tmp_path / "my_digits", arrays, suffix, dotted)

    dataset = load_dataset("folder", str(folder))

    assert dataset.title == "Your folder: my_digits"
    assert str(folder) in dataset.source and "IDX" in dataset.source
    assert dataset.pixels_train.dtype == np.uint8 and dataset.y_train.dtype == np.int64
    np.testing.assert_array_equal(dataset.pixels_train, arrays["x_train"])
    np.testing.assert_allclose(dataset.x_test, arrays["x_test"] / 255, rtol=1e-6)
    np.testing.assert_array_equal(dataset.y_train, arrays["y_train"])
    np.testing.assert_array_equal(dataset.y_test, arrays["y_test"])
    assert dataset.image_shape == (10, 10) and dataset.num_classes == 10


def test_read_idx_detects_gzip_by_its_magic_bytes_not_its_name(tmp_path):
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    compressed_without_gz_name = tmp_path / "labels-idx1-ubyte"
    compressed_without_gz_name.write_bytes(gzip.compress(write_idx(tmp_path / "plain", labels).read_bytes()))
    plain_with_gz_name = write_idx(tmp_path / "plain-labels", labels).rename(tmp_path / "labels.gz")

    np.testing.assert_array_equal(read_idx(compressed_without_gz_name), labels)
    np.testing.assert_array_equal(read_idx(plain_with_gz_name), labels)


def test_read_idx_reads_big_endian_multibyte_types(tmp_path):
    values = np.array([[-300, 2], [1000, -1]], dtype=np.int16)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "values", values)), values)


def test_folder_with_more_than_ten_classes_gets_one_name_per_label(tmp_path):
    arrays = tiny_arrays(num_train=30)
    arrays["y_train"] = np.arange(30, dtype=np.uint8) % 26  # EMNIST letters style
    dataset = load_dataset("folder", str(write_idx_folder(tmp_path / "letters", arrays)))
    assert dataset.num_classes == 26 and dataset.class_names[-1] == "25"


def test_npz_as_file_in_folder_or_path_and_for_mnist(tmp_path):
    arrays = tiny_arrays(side=28)
    np.savez(tmp_path / "mnist.npz", **arrays)

    for loaded, key in zip(load_npz(tmp_path / "mnist.npz"), NAMES, strict=True):
        np.testing.assert_array_equal(loaded, arrays[key])

    from_folder = load_dataset("folder", str(tmp_path))
    from_file = load_dataset("folder", str(tmp_path / "mnist.npz"))
    as_mnist = load_dataset("mnist", str(tmp_path))
    for dataset in (from_folder, from_file, as_mnist):
        np.testing.assert_array_equal(dataset.pixels_train, arrays["x_train"])
        assert "mnist.npz" in dataset.source
    assert as_mnist.title == "MNIST handwritten digits"


def test_load_idx_folder_returns_raw_uint8(tmp_path):
    arrays = tiny_arrays()
    loaded = load_idx_folder(write_idx_folder(tmp_path / "raw", arrays, ".gz"))
    assert loaded[0].dtype == np.uint8 and loaded[0].shape == (20, 10, 10)
    for array, key in zip(loaded, NAMES, strict=True):
        np.testing.assert_array_equal(array, arrays[key])


# Each corruption: (name of the file at fault, how to break the folder, words the message must contain).
def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-7])


def bad_magic(path: Path) -> None:
    path.write_bytes(b"\x12\x34" + path.read_bytes()[2:])


def unknown_type_code(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[2] = 0x42
    path.write_bytes(bytes(raw))


def broken_gzip(path: Path) -> None:
    compressed = gzip.compress(path.read_bytes())
    path.unlink()
    (path.parent / (path.name + ".gz")).write_bytes(compressed[: len(compressed) // 2])


def images_3x3(path: Path) -> None:
    write_idx(path, np.zeros((20, 3, 3), dtype=np.uint8))


def labels_as_images(path: Path) -> None:
    write_idx(path, np.zeros(20, dtype=np.uint8))


def images_as_labels(path: Path) -> None:
    write_idx(path, np.zeros((10, 10, 10), dtype=np.uint8))


def too_few_labels(path: Path) -> None:
    write_idx(path, np.zeros(19, dtype=np.uint8))


def label_beyond_training_classes(path: Path) -> None:
    write_idx(path, np.full(10, 12, dtype=np.uint8))


def negative_label(path: Path) -> None:
    write_idx(path, np.full(20, -1, dtype=np.int8))


CORRUPTIONS = [
    ("train-images-idx3-ubyte", truncate, "truncated"),
    ("train-labels-idx1-ubyte", bad_magic, "not an IDX file"),
    ("t10k-images-idx3-ubyte", unknown_type_code, "unknown IDX type code 0x42"),
    ("t10k-labels-idx1-ubyte", broken_gzip, "could not be decompressed"),
    ("train-images-idx3-ubyte", images_3x3, "3×3 images; expected 28×28"),
    ("t10k-images-idx3-ubyte", labels_as_images, "expected images of shape"),
    ("t10k-labels-idx1-ubyte", images_as_labels, "expected one label per image"),
    ("train-labels-idx1-ubyte", too_few_labels, "19 labels"),
    ("t10k-labels-idx1-ubyte", label_beyond_training_classes, "label 12"),
    ("train-labels-idx1-ubyte", negative_label, "label -1"),
]


@pytest.mark.parametrize("file_name, corrupt, words", CORRUPTIONS, ids=[c[1].__name__ for c in CORRUPTIONS])
def test_corrupt_idx_file_is_named_in_the_error(tmp_path, file_name, corrupt, words):
    folder = write_idx_folder(tmp_path / "broken", tiny_arrays())
    corrupt(folder / file_name)

    with pytest.raises(DatasetFileError) as caught:
        load_dataset("folder", str(folder))

    assert file_name in str(caught.value)
    assert words in str(caught.value)


def test_mnist_labels_must_be_0_to_9(tmp_path):
    arrays = tiny_arrays()
    arrays["y_test"] = np.full(10, 10, dtype=np.uint8)
    folder = write_idx_folder(tmp_path / "mnist_like", arrays)
    with pytest.raises(DatasetFileError, match=r"t10k-labels-idx1-ubyte holds the label 10 .*0 to 9"):
        load_dataset("mnist", str(folder))


def test_npz_missing_keys_is_named(tmp_path):
    arrays = tiny_arrays()
    np.savez(tmp_path / "mnist.npz", x_train=arrays["x_train"], y_train=arrays["y_train"])
    with pytest.raises(DatasetFileError, match=r"mnist\.npz lacks the array\(s\) x_test, y_test"):
        load_dataset("folder", str(tmp_path))


@pytest.mark.parametrize(
    "content, words",
    [(b"this is not a zip archive", "not an .npz archive"), (None, "could not be read as an .npz archive")],
    ids=["not_a_zip", "truncated_zip"],
)
def test_unreadable_npz_is_named(tmp_path, content, words):
    path = tmp_path / "mnist.npz"
    if content is None:
        np.savez_compressed(path, **tiny_arrays())
        content = path.read_bytes()[:200]
    path.write_bytes(content)
    with pytest.raises(DatasetFileError) as caught:
        load_dataset("folder", str(path))
    assert "mnist.npz" in str(caught.value) and words in str(caught.value)


def test_missing_folder_or_files_are_unavailable_with_what_was_expected(tmp_path):
    with pytest.raises(DatasetUnavailable, match="does not exist"):
        load_dataset("folder", str(tmp_path / "nowhere"))

    folder = write_idx_folder(tmp_path / "three_of_four", tiny_arrays())
    (folder / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DatasetUnavailable, match=r"lacks t10k-labels-idx1-ubyte\(\.gz\)") as caught:
        load_dataset("folder", str(folder))
    assert "mnist.npz" in str(caught.value)

    with pytest.raises(DatasetUnavailable, match="needs a folder"):
        load_dataset("folder")


def test_unknown_dataset_name_lists_the_choices():
    with pytest.raises(DatasetError, match="Choose one of: mnist, fashion_mnist, digits, folder"):
        load_dataset("cifar10")


# ---------------------------------------------------------------------------------------------
# MNIST and Fashion-MNIST through Keras's cache or download


def test_mnist_without_cache_or_network_says_what_to_do():
    with pytest.raises(DatasetUnavailable) as caught:
        load_dataset("mnist")
    message = str(caught.value)
    assert "Could not download MNIST (" in message and "Temporary failure in name resolution" in message
    assert "Connect to the internet once" in message and "mnist.npz" in message


def test_mnist_uses_the_keras_cache_without_downloading(tmp_path, monkeypatch):
    cache = tmp_path / "keras" / "datasets"
    cache.mkdir(parents=True)
    np.savez(cache / "mnist.npz", **tiny_arrays(side=28))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))

    dataset = load_dataset("mnist")

    assert dataset.source.startswith("Keras cache") and "mnist.npz" in dataset.source
    assert dataset.pixels_train.shape == (20, 28, 28) and dataset.class_names == tuple("0123456789")
    assert describe_available()["mnist"].endswith("mnist.npz")


def test_a_broken_keras_cache_file_says_to_delete_it(tmp_path, monkeypatch):
    cache = tmp_path / "keras" / "datasets"
    cache.mkdir(parents=True)
    (cache / "mnist.npz").write_bytes(b"PK\x03\x04 half a download")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    with pytest.raises(DatasetFileError, match=r"mnist\.npz could not be read.*Delete .*mnist\.npz"):
        load_dataset("mnist")


def test_a_successful_download_is_checked_and_scaled(monkeypatch):
    arrays = tiny_arrays(side=28)
    downloaded = ((arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"]))
    monkeypatch.setattr(data, "_download_with_keras", lambda name: downloaded)
    dataset = load_dataset("mnist")
    assert "downloaded by Keras" in dataset.source
    np.testing.assert_allclose(dataset.x_test, arrays["x_test"] / 255, rtol=1e-6)


def test_socket_timeout_is_restored_even_on_error():
    before = socket.getdefaulttimeout()
    with pytest.raises(RuntimeError), data._socket_timeout(3):
        assert socket.getdefaulttimeout() == 3
        raise RuntimeError("download failed")
    assert socket.getdefaulttimeout() == before


def test_fashion_mnist_from_the_folder_in_the_environment(tmp_path, monkeypatch):
    folder = write_idx_folder(tmp_path / "fashion", tiny_arrays(side=28), ".gz")
    monkeypatch.setenv(data.FASHION_MNIST_DIR_ENV, str(folder))

    dataset = load_dataset("fashion_mnist")

    assert find_fashion_mnist_folder() == folder
    assert dataset.source == f"{folder} (IDX files)"
    assert dataset.class_names[0] == "T-shirt/top" and dataset.class_names[9] == "Ankle boot"
    assert describe_available() == {
        "digits": "bundled with scikit-learn",
        "mnist": "not cached: needs one download",
        "fashion_mnist": str(folder),
    }


def test_fashion_mnist_unavailable_when_no_folder_cache_or_network(tmp_path, monkeypatch):
    monkeypatch.setenv(data.FASHION_MNIST_DIR_ENV, str(tmp_path / "empty"))
    assert find_fashion_mnist_folder() is None
    with pytest.raises(DatasetUnavailable, match=r"Could not download Fashion-MNIST \(.*Connect to the internet"):
        load_dataset("fashion_mnist")


# ---------------------------------------------------------------------------------------------
# Fallback and cache


def test_only_the_default_mnist_offline_falls_back_and_says_what_failed_and_what_to_do():
    dataset, notice = load_dataset_or_fallback("mnist")
    assert dataset is load_dataset("digits")
    assert notice.startswith("Could not download MNIST (")
    assert notice.index("Could not download") < notice.index("Connect to the internet once")
    assert "A folder of MNIST IDX files or an mnist.npz" in notice
    assert fallback_label("mnist") == (
        "MNIST handwritten digits cannot be downloaded here: training on the bundled 8×8 scikit-learn digits instead"
    )


def test_a_chosen_dataset_that_cannot_be_loaded_is_an_error_never_a_stand_in(tmp_path, monkeypatch):
    folder = write_idx_folder(tmp_path / "broken", tiny_arrays())
    truncate(folder / "train-images-idx3-ubyte")
    choice = choose_dataset("folder", str(folder))
    assert choice.dataset is None and choice.notice is None
    assert "train-images-idx3-ubyte is truncated" in str(choice.error)
    with pytest.raises(DatasetFileError, match="is truncated"):
        load_dataset_or_fallback("folder", str(folder))
    missing = choose_dataset("folder", str(tmp_path / "nowhere"))
    assert missing.dataset is None and "does not exist" in str(missing.error) and missing.error.fix
    # MNIST from a folder the person named is theirs too: no stand-in when it is missing.
    assert choose_dataset("mnist", str(tmp_path / "nowhere")).dataset is None
    # Fashion-MNIST offline is the person's choice, not the default: an error that says what to do.
    monkeypatch.setenv(data.FASHION_MNIST_DIR_ENV, str(tmp_path / "empty"))
    offline = choose_dataset("fashion_mnist")
    assert offline.dataset is None and "Connect to the internet" in str(offline.error)


def test_no_notice_when_nothing_fell_back(tmp_path):
    assert load_dataset_or_fallback("digits")[1] is None
    folder = write_idx_folder(tmp_path / "fine", tiny_arrays())
    dataset, notice = load_dataset_or_fallback("folder", str(folder))
    assert dataset.name == "folder" and notice is None


def test_cache_returns_the_same_object_keyed_by_folder(tmp_path, monkeypatch):
    first = write_idx_folder(tmp_path / "first", tiny_arrays(seed=1))
    second = write_idx_folder(tmp_path / "second", tiny_arrays(seed=2))

    dataset = load_dataset("folder", str(first))
    monkeypatch.chdir(tmp_path)
    assert load_dataset("folder", "first/") is dataset  # the same folder, spelled differently
    other = load_dataset("folder", str(second))
    assert other is not dataset and not np.array_equal(other.pixels_train, dataset.pixels_train)

    clear_dataset_cache()
    assert load_dataset("folder", str(first)) is not dataset


def test_failures_are_not_cached(tmp_path):
    folder = tmp_path / "later"
    with pytest.raises(DatasetUnavailable):
        load_dataset("folder", str(folder))
    write_idx_folder(folder, tiny_arrays())
    assert load_dataset("folder", str(folder)).name == "folder"


def test_concurrent_loads_of_one_dataset_load_it_once(tmp_path, monkeypatch):
    folder = write_idx_folder(tmp_path / "shared", tiny_arrays())
    calls = []
    real_load = data._load

    def slow_load(name, data_dir):
        calls.append(name)
        time.sleep(0.2)
        return real_load(name, data_dir)

    monkeypatch.setattr(data, "_load", slow_load)
    results = []
    threads = [threading.Thread(target=lambda: results.append(load_dataset("folder", str(folder)))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(calls) == 1
    assert len(results) == 6 and all(result is results[0] for result in results)


# ---------------------------------------------------------------------------------------------
# Split and subsample


def test_split_and_subsample_indices_are_seeded_and_disjoint():
    train, val = split_indices(100, 0.25, seed=3)
    assert len(train) == 75 and len(val) == 25 and set(train).isdisjoint(val)
    assert sorted([*train, *val]) == list(range(100))
    again = split_indices(100, 0.25, seed=3)
    np.testing.assert_array_equal(again[1], val)
    assert not np.array_equal(split_indices(100, 0.25, seed=4)[1], val)
    chosen = subsample_indices(100, 10, seed=3)
    assert len(set(chosen)) == 10 and chosen.max() < 100
    np.testing.assert_array_equal(subsample_indices(100, 500, seed=3), np.arange(100))
    with pytest.raises(ValueError, match="validation_split"):
        split_indices(100, 1.0, seed=3)


# ---------------------------------------------------------------------------------------------
# The real thing


@pytest.mark.skipif(
    not data.DEBIAN_FASHION_MNIST.is_dir(),
    reason=f"{data.DEBIAN_FASHION_MNIST} is absent (Debian's fashion-mnist data package is not installed)",
)
def test_debian_fashion_mnist_loads_in_full():
    dataset = load_dataset("fashion_mnist")
    assert dataset.source == f"{data.DEBIAN_FASHION_MNIST} (IDX files)"
    assert dataset.pixels_train.shape == (60000, 28, 28) and dataset.pixels_test.shape == (10000, 28, 28)
    assert dataset.y_train.shape == (60000,) and dataset.y_test.shape == (10000,)
    assert dataset.pixels_train.dtype == np.uint8 and dataset.y_train.dtype == np.int64
    assert dataset.pixels_train.min() == 0 and dataset.pixels_train.max() == 255
    assert dataset.x_test.min() == 0.0 and dataset.x_test.max() == 1.0
    assert set(np.unique(dataset.y_train)) == set(range(10)) and set(np.unique(dataset.y_test)) == set(range(10))
    assert np.bincount(dataset.y_train).tolist() == [6000] * 10  # Fashion-MNIST is balanced
