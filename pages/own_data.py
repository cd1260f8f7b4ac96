"""Your own images on the Train page: the upload, its dataset card, and (on a single-user machine) saving it by name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st

from core.data.datasets import DatasetError, keep_private
from core.data.uploads import (
    MAX_CLASSES,
    MAX_IMAGES,
    MAX_UPLOAD_BYTES,
    MIN_IMAGES_PER_CLASS,
    TEST_SHARE,
    OwnData,
    class_mosaic,
    duplicate_summary,
    load_own_data,
    load_saved,
    npz_bytes,
    save_own_data,
    saved_names,
)
from core.results.experiments import default_runs_dir, shared_server
from pages.session import Keys, current_runs

UPLOAD_HELP = (
    "A .zip with one folder per class (0/, 1/, … or any names, possibly inside one outer folder) holding "
    "PNG, JPEG, BMP, GIF, WebP or TIFF images; or the four MNIST IDX files zipped; or an .npz with x_train "
    f"and y_train (x_test and y_test optional). Up to {MAX_UPLOAD_BYTES // 2**20} MB, {MAX_IMAGES:,} images, "
    f"2 to {MAX_CLASSES} classes of at least {MIN_IMAGES_PER_CLASS} images each."
)
SAMPLES_PER_CLASS = 12
SAVED_FOLDER = "datasets"  # inside the runs folder (core.results.experiments)
MOSAIC_CAPTION = (
    f"A row a class, in the table's order: its first {SAMPLES_PER_CLASS} training images as the model sees them."
)


def upload_key() -> str | None:
    """The key under which this session's upload is found (a config's data_dir); None before an upload."""
    kept = st.session_state.get(Keys.OWN_DATA)
    return kept[1] if kept else None


def upload_section() -> None:
    """The uploader, why an upload was refused, the saved datasets, and the card of the images in use."""
    upload = st.file_uploader(
        "Your images (.zip or .npz)",
        type=["zip", "npz"],
        key=Keys.OWN_DATA_UPLOAD,
        help=UPLOAD_HELP,
        max_upload_size=MAX_UPLOAD_BYTES // 2**20,
    )
    if upload is not None and st.session_state.get(Keys.OWN_DATA_READ) != upload.file_id:
        st.session_state[Keys.OWN_DATA_READ] = upload.file_id  # read once, not on every rerun
        bar = st.progress(0.0, text=f"Reading {upload.name}…")

        def preparing(done: int, total: int) -> None:
            bar.progress(done / max(total, 1), text=f"Preparing {upload.name}: {done:,} of {total:,} images…")

        if read(lambda: load_own_data(upload.getvalue(), upload.name, preparing)):
            st.rerun()  # the settings above were read before the upload: read them again, with its key
        bar.empty()
    if st.session_state.get(Keys.OWN_DATA_ERROR):
        st.error(st.session_state[Keys.OWN_DATA_ERROR])
    if not shared_server():
        saved_section()
    kept = st.session_state.get(Keys.OWN_DATA)
    if kept is None:
        st.info("Upload your images to see them here, class by class, before anything trains.")
        return
    dataset_card(kept[0], expanded=not current_runs())


def read(load: Callable[[], OwnData]) -> bool:
    """Keep what `load` returns as this session's images (True), or note why it was refused: the images
    in use stay, and nothing of the refused upload is kept."""
    try:
        own = load()
    except DatasetError as error:
        st.session_state[Keys.OWN_DATA_ERROR] = str(error)
        return False
    # Only this session holds the images: the key is unguessable, and the registry forgets them with it.
    st.session_state[Keys.OWN_DATA] = (own, keep_private(own.dataset))
    st.session_state[Keys.OWN_DATA_ERROR] = None
    return True


def saved_section() -> None:
    """On a single-user machine: save the images in use by name in the runs folder, or open a saved set."""
    folder = default_runs_dir() / SAVED_FOLDER
    names = saved_names(folder)
    with st.expander("Saved datasets (this computer only)", icon=":material/save:"):
        if names:
            left, right = st.columns([3, 1], vertical_alignment="bottom")
            name = left.selectbox("Saved datasets", names, key=Keys.OWN_DATA_PICK)
            if right.button("Open", key=Keys.OWN_DATA_OPEN):
                read(lambda: load_saved(name, folder))
                st.rerun()
        kept = st.session_state.get(Keys.OWN_DATA)
        if kept is None:
            st.caption("Upload images first to save them here.")
            return
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        name = left.text_input("Save the images in use as", key=Keys.OWN_DATA_SAVE_NAME, placeholder="my digits")
        if right.button("Save", key=Keys.OWN_DATA_SAVE, disabled=not name):
            try:
                path = save_own_data(kept[0].dataset, name, folder)
            except (DatasetError, OSError) as error:
                st.error(str(error))
            else:
                st.success(f"Saved as {path.name} in {path.parent}.")


def dataset_card(own: OwnData, expanded: bool) -> None:
    """What the model will learn from: the classes and their counts, a row of pictures each, what was left out."""
    card, dataset = own.card, own.dataset
    split = (
        "the test set came with it"
        if card.test_given
        else f"{TEST_SHARE:.0%} of each class held out as the test set, the same every run"
    )
    with st.expander(f"Dataset card: {dataset.title}", expanded=expanded, icon=":material/badge:"):
        words, download = st.columns([4, 1], vertical_alignment="center")
        words.caption(
            f"{sum(card.train_counts):,} training and {sum(card.test_counts):,} test images in "
            f"{dataset.num_classes} classes, read from {card.source}; {split}. "
            "Kept in this session's memory only."
        )
        download.download_button(
            "Prepared images (.npz)",
            lambda: npz_bytes(dataset),
            f"{Path(dataset.title.split(': ', 1)[-1]).stem}-prepared.npz",
            "application/octet-stream",
            key=Keys.OWN_DATA_DOWNLOAD,
            help="The 28×28 images as the model sees them, split as here: what an exported script reads.",
        )
        if card.refused:
            st.warning(f"{len(card.refused)} file(s) or class(es) left out: see why below.", icon=":material/block:")
        if any(item.across_classes for item in card.duplicates):
            st.warning(duplicate_summary(card), icon=":material/content_copy:")
        classes, left_out, repeated = st.tabs(
            ["Classes", f"Left out ({len(card.refused)})", f"Repeated pictures ({len(card.duplicates)})"]
        )
        with classes:
            counts, pictures = st.columns([2, 3])
            counts.table(
                {
                    "class": list(card.class_names),
                    "training images": list(card.train_counts),
                    "test images": list(card.test_counts),
                }
            )
            pictures.image(class_mosaic(dataset, SAMPLES_PER_CLASS), caption=MOSAIC_CAPTION, width="content")
        with left_out:
            if card.refused:
                st.table({"file": [item.file for item in card.refused], "why": [item.reason for item in card.refused]})
            else:
                st.caption("Every file was read.")
        with repeated:
            st.caption(duplicate_summary(card))
            for duplicate in card.duplicates:
                pairs = zip(duplicate.files, duplicate.classes, strict=True)
                st.text(" = ".join(f"{file} ({label})" for file, label in pairs))
