"""Evaluate page: what the trained model gets wrong, what it looks at, and how it reads your own digits."""

import streamlit as st

from core import charts
from core.data.images import (
    FORMAT_NAMES,
    MAX_FILE_BYTES,
    ImageError,
    canvas_to_image,
    on_square,
    prepare_digit_file,
    preprocess_digit,
)
from core.data.splits import validation_images
from core.results import inspection
from core.training.inference import predict_probabilities
from core.training.run import FAILED
from pages.handwriting import show_my_handwriting
from pages.live import live
from pages.looks import palette
from pages.resources import dataset_choice, dataset_or_fallback
from pages.session import Keys, any_active, current_runs
from pages.streamlit_patches import route_through_app
from pages.why import WHY_MISTAKE_KEY, show_hidden_map, show_why

route_through_app()  # a fresh server's first visitor may land here without app.py: send the run through it

UPLOAD_TYPES = ["png", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff"]
INKS = {
    "white on black": ("#FFFFFF", "#000000"),  # (stroke, background): MNIST's own look
    "black on white": ("#000000", "#FFFFFF"),  # pen on paper
}
MISTAKE_FILTERS = ("all classes", "true class", "predicted class")
GALLERY_COLUMNS = 8
EPOCH_MISTAKES = 16
CANVAS_SIDE = 280  # 10 screen pixels per MNIST pixel


def scored_runs(runs) -> dict:
    """This session's runs that have test predictions and a numpy copy of their weights, by label."""
    return {
        run.label: run
        for run in runs
        if run.test_probabilities is not None and run.snapshot().details.get("snapshot") is not None
    }


def picture_grid(pictures, columns: int = GALLERY_COLUMNS, width: int = 84) -> None:
    """Images with captions, `columns` to a row."""
    for start in range(0, len(pictures), columns):
        row = st.columns(columns)
        for column, (image, caption) in zip(row, pictures[start : start + columns], strict=False):
            column.image(charts.digit_picture(image), caption=caption, width=width)


def show_scores(snap, counts, names) -> None:
    """Test accuracy, then precision, recall and F1 for every class."""
    left, middle, right = st.columns(3)
    left.metric("Test accuracy", f"{snap.test_metrics.get('accuracy', 0):.2%}")
    middle.metric("Test loss", f"{snap.test_metrics.get('loss', 0):.4f}")
    right.metric("Test images", f"{int(counts.sum()):,}")
    st.dataframe(
        inspection.per_class_table(counts, names),
        hide_index=True,
        width="stretch",
        column_config={
            name: st.column_config.ProgressColumn(name, format="%.3f", min_value=0, max_value=1)
            for name in ("precision", "recall", "f1")
        },
    )
    st.caption(
        "Precision: of the images the model called this class, the share that were. "
        "Recall: of the images of this class, the share it found. F1 combines the two."
    )


def show_confusion(counts, probabilities, dataset, snapshot) -> None:
    """The confusion matrix, and the test images behind any one of its cells."""
    names = list(dataset.class_names)
    normalise = st.toggle("Show shares of each true class (row-normalised)", key=Keys.EVALUATE_NORMALISE)
    chart = charts.confusion_matrix_chart(counts, names, normalise=normalise, palette=palette())
    st.altair_chart(chart, width="stretch")
    st.markdown("**Look at one cell.** The brightest square off the diagonal is the model's most common mistake.")
    true_default, predicted_default = inspection.most_confused_cell(counts) or (0, 0)
    left, right = st.columns(2)
    true_class = left.selectbox(
        "True class", range(len(names)), index=true_default, format_func=names.__getitem__, key=Keys.EVALUATE_CELL_TRUE
    )
    predicted_class = right.selectbox(
        "Predicted class",
        range(len(names)),
        index=predicted_default,
        format_func=names.__getitem__,
        key=Keys.EVALUATE_CELL_PREDICTED,
    )
    rows = inspection.cell_examples(dataset.y_test, probabilities, true_class, predicted_class)
    count = int(counts[true_class, predicted_class])
    st.caption(
        f"{count:,} test image(s) of {names[true_class]} predicted as {names[predicted_class]}"
        + (f"; the {len(rows)} the model was surest of:" if rows else ".")
    )
    picture_grid([(dataset.x_test[i], f"{probabilities[i, predicted_class]:.0%}") for i in rows])
    if rows:
        with st.expander(f"Why? The surest of these: {names[true_class]} read as {names[predicted_class]}"):
            show_why(snapshot, dataset.x_test[rows[0]], names, "cell")


def show_over_time(snap, dataset) -> None:
    """Per-class F1 epoch by epoch, and any epoch's validation confusion matrix and mistakes."""
    names = list(dataset.class_names)
    per_class_f1 = snap.details.get("val_per_class_f1") or []
    matrices = snap.details.get("val_confusion_matrices") or []
    if not per_class_f1:
        st.info("No validation scores were recorded: train with a validation split above 0 to see this.")
        return
    st.altair_chart(charts.per_class_heat_strip(per_class_f1, names, "F1", palette()), width="stretch")
    st.caption("Each column is an epoch, each row a class, coloured by validation F1: which classes are learned when.")
    epoch = len(matrices)
    if len(matrices) > 1:
        epoch = st.slider("Epoch", 1, len(matrices), len(matrices), key=Keys.EVALUATE_EPOCH)
    st.markdown(f"**Validation confusion matrix after epoch {epoch}**")
    st.altair_chart(charts.confusion_matrix_chart(matrices[epoch - 1], names, palette=palette()), width="stretch")
    show_epoch_mistakes(snap, dataset, epoch)


def show_epoch_mistakes(snap, dataset, epoch: int) -> None:
    """The validation images one epoch got wrong with most confidence, and what changed since the epoch before."""
    predictions = snap.details.get("val_predictions") or []
    confidences = snap.details.get("val_confidences") or []
    x_val, y_val = validation_images(snap.config, dataset)
    if len(predictions) < epoch or len(predictions[epoch - 1]) != len(y_val):
        st.caption("This run's answers for each epoch were not kept, so its mistakes per epoch cannot be shown.")
        return
    names = list(dataset.class_names)
    # Before the first epoch nothing was answered: compare with a perfect score, so every mistake is new.
    before = predictions[epoch - 2] if epoch > 1 else y_val
    changes = inspection.mistake_changes(y_val, before, predictions[epoch - 1])
    st.markdown(f"**Validation mistakes after epoch {epoch}**")
    since = f" Since epoch {epoch - 1}: {changes.fixed:,} fixed, {changes.new:,} new." if epoch > 1 else ""
    st.caption(f"{changes.wrong:,} of {len(y_val):,} validation images wrong.{since} The surest mistakes first:")
    mistakes = inspection.ranked_mistakes(y_val, predictions[epoch - 1], confidences[epoch - 1], limit=EPOCH_MISTAKES)
    picture_grid([(x_val[m.index], f"{names[m.true]} → {names[m.predicted]} ({m.confidence:.0%})") for m in mistakes])


def show_mistakes(probabilities, dataset, snapshot) -> None:
    """The wrong answers the model was surest of, optionally for one true or predicted class."""
    names = list(dataset.class_names)
    left, right = st.columns(2)
    how = left.radio("Filter", MISTAKE_FILTERS, horizontal=True, key=Keys.EVALUATE_MISTAKES_FILTER)
    chosen = right.selectbox(
        "Class", range(len(names)), format_func=names.__getitem__, key=Keys.EVALUATE_MISTAKES_CLASS
    )
    mistakes = inspection.confident_mistakes(
        dataset.y_test,
        probabilities,
        true_class=chosen if how == "true class" else None,
        predicted_class=chosen if how == "predicted class" else None,
    )
    if not mistakes:
        st.success("No mistakes here: every test image in this selection was classified correctly.")
        return
    st.caption(f"The {len(mistakes)} most confident mistakes. Caption: true → predicted (confidence).")
    picture_grid(
        [(dataset.x_test[m.index], f"{names[m.true]} → {names[m.predicted]} ({m.confidence:.0%})") for m in mistakes]
    )
    with st.expander("Why? Pick a mistake from the gallery"):
        mistake = st.selectbox(
            "Mistake",
            mistakes,
            format_func=lambda m: f"{names[m.true]} → {names[m.predicted]} ({m.confidence:.0%}), test image {m.index}",
            key=WHY_MISTAKE_KEY,
        )
        show_why(snapshot, dataset.x_test[mistake.index], names, "mistake")


def show_weights(snap, image_shape) -> None:
    """The first layer's weights as pictures (updated every epoch while training)."""
    weights = snap.details.get("first_layer_weights")
    if weights is None:
        st.caption(f"{snap.label}: the first layer's weights appear after the first epoch.")
        return
    tiles = inspection.weight_tiles(weights, image_shape)
    dense = weights.ndim == 2
    what = "unit" if dense else "3×3 filter"
    total = weights.shape[-1]
    st.markdown(
        f"**{snap.label}: first-layer weights** after epoch {len(snap.epochs)}, {len(tiles)} of {total} {what}s"
    )
    # About 56 screen pixels a tile, whatever the image size; 3×3 filters a little smaller.
    cell = max(1, 56 // max(tiles.shape[1:])) if dense else 12
    st.image(charts.tile_grid_picture(tiles, columns=16, cell=cell, palette=palette()), width="content")
    st.caption(
        "Blue weights add to the unit's input where the pixel has ink, orange ones subtract. "
        + (
            "Each tile is one unit's pattern over the image: strokes it looks for, and where."
            if dense
            else "Each tile is one filter: the small edge or blob it detects anywhere in the image."
        )
    )


def draw_weights(snapshots) -> None:
    """Weights of every run, for the live fragment."""
    for snap in snapshots:
        dataset, _ = dataset_or_fallback(snap.config.dataset, snap.config.data_dir)
        show_weights(snap, dataset.image_shape)


def draw_live(snapshots) -> None:
    """While training: each run's hidden map, filling epoch by epoch, then its weights."""
    for snap in snapshots:
        dataset, _ = dataset_or_fallback(snap.config.dataset, snap.config.data_dir)
        show_hidden_map(snap, dataset, "evaluate.live")
    draw_weights(snapshots)


def show_activations(run, dataset, probabilities) -> None:
    """One test image through every layer."""
    snapshot = run.snapshot().details["snapshot"]
    index = st.number_input(
        "Test image number", 0, len(dataset.x_test) - 1, 0, key=f"{Keys.EVALUATE_INSIDE_IMAGE}.{run.kind}"
    )
    image = dataset.x_test[index]
    names = dataset.class_names
    left, right = st.columns([1, 4])
    predicted = int(probabilities[index].argmax())
    left.image(
        charts.digit_picture(image),
        caption=f"true {names[dataset.y_test[index]]}, predicted {names[predicted]}",
        width=112,
    )
    with right:
        for view in inspection.activation_views(snapshot, image):
            shape = "×".join(str(side) for side in view.shape)
            shown = f", {view.shown} of {view.total} feature maps" if view.shown < view.total else ""
            st.markdown(f"`{view.layer}` ({view.kind}, output {shape}{shown})")
            cell = charts.tile_cell(view.tiles, 2 * charts.TILE_SIDE if len(view.tiles) == 1 else charts.TILE_SIDE)
            picture = charts.tile_grid_picture(
                view.tiles, columns=8, diverging=False, per_tile=False, cell=cell, palette=palette()
            )
            st.image(picture, width="content")
    st.caption(
        "A deeper blue means a stronger response. Dense units are laid out in a square, in order; "
        "the last layer's ten units are the class probabilities."
    )
    st.markdown(f"**Why? Test image {index}**")
    show_why(snapshot, image, names, f"test.{run.kind}")


def show_prediction(digit, snapshots: dict, names, place: str) -> None:
    """What the models read in one prepared digit, and the preparation step by step."""
    probabilities = {
        label: predict_probabilities(snap, digit.model_input[None])[0] for label, snap in snapshots.items()
    }
    readings = [f"**{label}** reads **{names[p.argmax()]}** ({p.max():.0%})" for label, p in probabilities.items()]
    st.markdown(" · ".join(readings))
    st.altair_chart(charts.probability_bars(probabilities, names, palette()), width="stretch")
    columns = st.columns(len(digit.steps))
    for column, (step, image) in zip(columns, digit.steps, strict=True):
        # A square of black paper: a thin "1" cropped or scaled would otherwise stand as a tall white bar.
        column.image(charts.digit_picture(on_square(image)), caption=step, width=112)
    if digit.inverted:
        st.caption("The paper was light, so the image was inverted: models here read light ink on a dark background.")
    for label, snapshot in snapshots.items():
        with st.expander(f"Why did {label} read it so?"):
            show_why(snapshot, digit.model_input, names, f"{place}.{label}", label)


def show_canvas(snapshots: dict, image_shape, names) -> None:
    """A canvas to draw on; the models read the drawing each time a stroke ends."""
    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception as error:  # the component registers with Streamlit at import; a version clash breaks it
        st.warning(
            f"The drawing canvas (streamlit-drawable-canvas) could not start here ({type(error).__name__}: {error}). "
            "Upload a photo or a scan of a digit below instead."
        )
        return
    left, right = st.columns([1, 2])
    with left:
        ink = st.radio("Ink", list(INKS), horizontal=True, key=Keys.EVALUATE_INK)
        stroke, background = INKS[ink]
        version = st.session_state.get(Keys.EVALUATE_CANVAS_VERSION, 0)
        result = st_canvas(
            stroke_width=20,
            stroke_color=stroke,
            background_color=background,
            height=CANVAS_SIDE,
            width=CANVAS_SIDE,
            return_image_data=True,
            key=f"{Keys.EVALUATE_CANVAS}{version}",
        )
        if st.button("Clear", icon=":material/ink_eraser:"):
            # A new key gives a new, empty canvas.
            st.session_state[Keys.EVALUATE_CANVAS_VERSION] = version + 1
            st.rerun()
    with right:
        try:
            digit = preprocess_digit(canvas_to_image(result.image_data), image_shape)
        except ImageError as error:
            st.info(f"{error} The models' answers appear here when you lift the pen.")
            return
        show_prediction(digit, snapshots, names, "drawn")


def show_uploads(snapshots: dict, image_shape, names) -> None:
    """Photos or scans of digits, each read by the models, with its preparation."""
    files = st.file_uploader(
        f"Images of one handwritten digit each ({FORMAT_NAMES}; dark ink on light paper or the reverse)",
        type=UPLOAD_TYPES,
        accept_multiple_files=True,
        key=Keys.EVALUATE_UPLOADS,
        max_upload_size=MAX_FILE_BYTES // 2**20,  # a photo's own limit, below the server's (a dataset's)
    )
    for file in files or []:
        st.markdown(f"**{file.name}**")
        try:
            digit = prepare_digit_file(file.getvalue(), file.name, image_shape)
        except ImageError as error:
            st.error(str(error))
            continue
        show_prediction(digit, snapshots, names, f"upload.{file.name}")


st.title("Evaluate and try the model")
st.write(
    "See what the trained model gets right and wrong on test images it never saw, look inside at what "
    "its first layer has learned, and test it with your own handwriting."
)

runs = current_runs()
scored = scored_runs(runs)
if not runs:
    st.info("Nothing to evaluate yet: train a model on the **Train** page first.")
    st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")
    st.stop()
if any_active(runs):
    st.info(
        "Training is running: the evaluation appears here when it ends. Meanwhile, watch the hidden layer's "
        "map of the digits fill in and the weights form."
    )
    live(runs, draw_live)
    st.stop()
for run in runs:
    if run.status == FAILED:
        st.error(f"{run.label}: {run.snapshot().message}")
if not scored:
    st.warning("No model finished training with test scores. Train again on the **Train** page.")
    st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")
    st.stop()

label = st.radio("Model to evaluate", list(scored), horizontal=True, key=Keys.EVALUATE_MODEL)
run = scored[label]
snap = run.snapshot()
probabilities = run.test_probabilities
choice = dataset_choice(snap.config.dataset, snap.config.data_dir)
dataset, notice = choice.dataset, choice.notice or (choice.error and str(choice.error))
if notice or len(dataset.x_test) != len(probabilities):
    st.error(f"The test images of {snap.dataset_title} cannot be loaded again. {notice or ''} Train again to evaluate.")
    st.stop()
counts = snap.details["test_confusion_matrix"]
names = list(dataset.class_names)
snapshots = {label: scored_run.snapshot().details["snapshot"] for label, scored_run in scored.items()}

st.caption(f"{snap.label} on {dataset.title}: {snap.message}")
scores_tab, confusion_tab, time_tab, mistakes_tab, inside_tab, map_tab, draw_tab, upload_tab = st.tabs(
    ["Scores", "Confusion matrix", "Over the epochs", "Mistakes", "Look inside", "Hidden map", "Draw a digit", "Upload"]
)
with scores_tab:
    show_scores(snap, counts, names)
with confusion_tab:
    show_confusion(counts, probabilities, dataset, snapshots[label])
with time_tab:
    show_over_time(snap, dataset)
with mistakes_tab:
    show_mistakes(probabilities, dataset, snapshots[label])
with inside_tab:
    show_weights(snap, dataset.image_shape)
    st.divider()
    show_activations(run, dataset, probabilities)
with map_tab:
    show_hidden_map(snap, dataset, "evaluate")
with draw_tab:
    show_canvas(snapshots, dataset.image_shape, names)
with upload_tab:
    show_uploads(snapshots, dataset.image_shape, names)
show_my_handwriting(snapshots[label], snap.test_metrics.get("accuracy"), names, dataset.title)
