"""Every text of the Lesson page in one place, to review and translate; numbers go in through str.format."""

from __future__ import annotations

TITLE = "Lesson: compile, fit, read the curves"
INTRO = (
    "A guided walk through one training run, in seven steps. Every number about the run is computed "
    "from the run itself: start one at step 4, or look at a recorded run."
)
STEP_TITLES = (
    "The data",
    "The model",
    "Compile",
    "Fit",
    "Watching it learn",
    "Reading the result",
    "Does it work on our handwriting?",
)
STEP_HEADER = "Step {number} of {count}: {title}"
BACK = "Back"
NEXT = "Next"
PRESENTER = "Presenter mode"
PRESENTER_HELP = (
    "Large text and charts for a room, no sidebar. Keys: ← and → change step, T trains, S stops. "
    "A link with ?presenter=1 opens it."
)
TRAIN_KEY = "Train"
STOP_KEY = "Stop"
# Stop pressed, the run not ended yet (it ends at its next batch): the button and the progress lines say so.
STOPPING_LABEL = "Stopping…"
STOPPING_PROGRESS = "{label}: stopping at the next batch (epoch {epoch}/{epochs}); the model trained so far is kept…"
# A chosen dataset that cannot be loaded: why, and what to do; nothing trains on other data instead.
DATASET_ERROR = "This dataset cannot be loaded, so nothing can train on it. {problem} {fix}"
# Under the dataset box, when the bundled digits stand in for MNIST (no network here).
DATASET_STAND_IN = "Used here instead: {title}."
LINK_NOTES_DISMISS = "Got it"
SIDEBAR_DATASET = "Dataset"
SIDEBAR_EPOCHS = "Epochs"

# --- step 1: the data -----------------------------------------------------------------------
DATA_INTRO = (
    "{title}: {train:,} training images and {test:,} test images of {height}×{width} pixels, "
    "each labelled with one of {classes} classes."
)
DATA_SAMPLES = "Some training images with their labels"
DATA_PIXELS = (
    "A computer sees an image as a grid of numbers. Raw pixels go from 0 (empty background) to "
    "{pixel_max} (full intensity). We divide every pixel by {pixel_max}, so the network gets numbers between 0 and 1: "
    "small, similar-sized inputs make training stable."
)
DATA_PIXELS_RAW = "Raw pixel values (centre {size}×{size} of the first image)"
DATA_PIXELS_SCALED = "The same pixels divided by {pixel_max}"
DATA_BALANCE = (
    "How many training images of each class. Bars of about equal height mean the classes are "
    "balanced, so accuracy is a fair measure."
)

# --- step 2: the model ----------------------------------------------------------------------
MODEL_INTRO = (
    "Each image goes in at the top and {classes} probabilities come out at the bottom, one per class. "
    "Flatten lays the {height}×{width} grid out as one row of {pixels} numbers; each Dense layer "
    "connects every input to every unit. The model learns {parameters:,} numbers (weights and biases)."
)
MODEL_DIAGRAM_LABEL = "{layer}\\n{kind}  →  {shape}\\n{parameters:,} parameters"
MODEL_TABLE = "The same layers as a table, like Keras's model.summary()"

# --- step 3: compile ------------------------------------------------------------------------
COMPILE_INTRO = (
    "Compiling tells Keras how the model will learn: which optimizer changes the weights, which "
    "loss measures the mistakes, and which metric we watch. It does not train anything yet."
)
COMPILE_PARTS = (
    (
        "Optimizer: Adam",
        "After each batch, the optimizer nudges every weight in the direction that lowers the loss. "
        "Adam adapts the step size for each weight from its recent gradients, so it works well "
        "without tuning. Its learning rate here is {learning_rate:g}, Keras's default.",
    ),
    (
        "Loss: sparse categorical cross-entropy",
        "The loss is the number the optimizer makes smaller. For each image it is −log of the "
        "probability the model gives the true class: 0 when the model is sure and right, large when "
        'it is sure and wrong. "Sparse" means the labels stay plain integers 0–9.',
    ),
    (
        "Metric: accuracy",
        "Accuracy is the share of images whose most probable class is the true one. The model does "
        "not learn from it; it is for us, because it is easy to read.",
    ),
)
COMPILE_CODE = """model.compile(
    optimizer=keras.optimizers.Adam(learning_rate={learning_rate:g}),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)"""

# --- step 4: fit ----------------------------------------------------------------------------
FIT_INTRO = (
    "Fit is the training itself: the model sees x_train (the images) and y_train (their labels). "
    'One **epoch** (say "EP-uhk", or "EE-pok" in British English) is one pass over all training '
    "images."
)
FIT_NUMBERS = (
    "Here: {train:,} training images in batches of {batch_size}, so {steps:,} weight updates per epoch "
    "and {updates:,} in {epochs} epochs. {validation:,} images are held out for validation: the model "
    "never trains on them, so they show how it does on images it has not seen."
)
FIT_CODE = """model.fit(
    x_train, y_train,
    epochs={epochs},
    batch_size={batch_size},
    validation_data=(x_val, y_val),
)"""
FIT_BUTTON = "Fit: start training"
FIT_BUSY = "A run is in progress; watch it at step 5."
FIT_KERAS_FAILED = "Keras could not be loaded, so training cannot start. Step 5 shows a recorded run instead."

# --- step 5: watching -----------------------------------------------------------------------
WATCH_INTRO = (
    "Solid lines are the training images, dashed lines the validation images. A point lands at the "
    "end of each epoch; the thin line shows the running average within the epoch."
)
WATCH_NO_RUN = "No run yet in this session. Start one at step 4; a recorded run is shown meanwhile."
WATCH_NO_REPLAY = "No run yet, and no recorded run is available. Start one at step 4."
REPLAY_LABEL = "Replay of a recorded run ({dataset}, {machine}, {date}). A live run replaces it when it starts."
REPLAY_MACHINE = "{system}, {cores} cores"
REPLAY_CHOOSER = "Recorded run"
REPLAY_MISSING_NOTE = (
    "No recorded run ships for {dataset}: MNIST cannot be downloaded where the replays were recorded. "
    "The replay shows {replay} instead."
)
REPLAY_BROKEN = "The recorded run {path} cannot be shown: {error}"
LIVE_QUEUED = "Live run: {message}"
LIVE_RUNNING = "Live run on {dataset}: epoch {epoch}/{epochs}, {seconds:.0f} s"
LIVE_LEFT = ", about {left} left"  # after LIVE_RUNNING, once the run has a pace or an estimate
LIVE_STOPPING = "Live run on {dataset}: stopping at the next batch (epoch {epoch}/{epochs})…"
LIVE_DONE = "Live run on {dataset}: {message} ({seconds:.1f} s)"
ANNOTATIONS_HEADER = "What the curves say so far"
NOTHING_YET = "The first epoch has not ended yet."

# Short labels drawn on the charts.
MARK_DIMINISHING = "gain < {threshold:g} pt"
MARK_PLATEAU = "loss falls, accuracy flat"
MARK_BEST = "best epoch {epoch}"
MARK_OVERFITTING = "val loss rising"

# --- step 6: reading the result -------------------------------------------------------------
FIRST_EPOCH = (
    "After one epoch the model is right on {accuracy:.1%} of the {split} images; guessing would be "
    "right on {chance:.0%}."
)
DIMINISHING = (
    "Epoch {first_epoch} gained {first_gain:.1f} points of {split} accuracy, epoch {epoch} only {gain:+.1f}: "
    "diminishing returns. Each epoch costs the same time but buys less."
)
DIMINISHING_AT_ONCE = (
    "Epoch 1 took {split} accuracy from guessing ({chance:.0%}) to {accuracy:.1%}; epoch 2 added only "
    "{gain:+.1f} points: diminishing returns from the second epoch on."
)
NO_DIMINISHING = "Every epoch still gained at least {threshold:g} points: more epochs may still help."
PLATEAU = (
    "From epoch {before} to {epoch} the training loss still fell by {loss_drop:.0%} ({loss_before:.3f} → "
    "{loss_after:.3f}) while accuracy moved only {accuracy_change:.1f} points: the probability it gives the "
    "true class keeps rising though its top choice rarely changes. The model grows more confident."
)
BEST_EPOCH = "The best epoch is {epoch}: validation loss {val_loss:.3f}, validation accuracy {val_accuracy:.1%}."
BEST_EPOCH_LOSS_ONLY = "The best epoch is {epoch}: validation loss {val_loss:.3f}."
BEST_EPOCH_LAST = "The best epoch is the last one, {epoch}: validation loss was still falling."
OVERFITTING = (
    "From epoch {epoch} validation loss rises ({best:.3f} → {last:.3f}) while training loss keeps "
    "falling: the model starts to learn details of the training images that do not carry over to new "
    "ones. This is overfitting."
)
NO_VALIDATION = "This run held out no validation images, so it cannot show overfitting or a best epoch."
TEST_RESULT = "On the test images it never saw, the model is right on {accuracy:.1%}."
EARLY_STOPPING_USED = "Early stopping (patience {patience}) was on for this run."
EARLY_STOPPING_ADVICE = (
    "Early stopping is the answer: Keras watches validation loss, stops when it has not improved for "
    "{patience} epochs, and keeps the weights of the best epoch."
)
EARLY_STOPPING_MORE = (
    "No overfitting in these {epochs} epochs. With early stopping you can ask for more epochs safely: "
    "Keras stops when validation loss has not improved for {patience} epochs and keeps the best weights."
)
EARLY_STOPPING_SO_FAR = (
    "No overfitting in the {epochs} epochs so far. Early stopping would watch validation loss and stop "
    "once it has not improved for {patience} epochs, keeping the best weights."
)
# While the run trains, every screen says which moment its sentences read: two screens that redraw a
# moment apart then tell two moments of one story, not two stories.
READING_SO_FAR = "So far, {epochs} of {total} epochs: these sentences follow the run as its epochs end."
EARLY_STOPPING_BUTTON = "Re-run with early stopping (up to {epochs} epochs, patience {patience})"
RESULT_FROM_REPLAY = "These sentences read the recorded run shown at step 5."

# --- workshop rooms -----------------------------------------------------------------------------
START_ROOM = "Start a room"
START_ROOM_HELP = (
    "Open a workshop room: people join with a code or a QR code and see your lesson step and your run live, "
    "then try their own settings."
)
ROOM_BAR = "Room **{code}** · {people} following · your steps and runs are shown on their screens."

# Step 6, what the network has learned to look at: a test digit's saliency and the hidden layer's map.
LEARNED_HEADER = "What the network has learned to look at"
LEARNED_INTRO = (
    "Which pixels made it read this test digit as it did: blue pixels raised the score of its answer, "
    "orange ones lowered it. Below, the last hidden layer's map of the digits, epoch by epoch: as the "
    "network learns, each class gathers in its own region. Press ▶ to watch them move apart."
)
LEARNED_EXAMPLE = "**Test image {index}, a {true}.** Why did the network read it as it did?"
LEARNED_FROM_REPLAY = (
    "A recorded run keeps neither its weights nor its hidden layer: train a model at step 4 to see what it "
    "looks at and how it arranges the digits inside."
)
LEARNED_WHILE_TRAINING = "The saliency map appears when training ends; the map below fills in epoch by epoch."
# --- races (the Train page's Race section, the lesson's step 6, a room's screens) ----------------
# After the Train page's "Estimated here: … per epoch", by core.training.paces.Estimate.pace_basis.
PACE_BASIS = {
    "measured": " (as these settings last trained on this server)",
    "scaled": " (scaled from this network's runs on this server)",
    "machine": " (scaled by how fast this server's latest runs went)",
    "counted": "",
}
# After the Train page's "… for N epochs": which models the press's estimate counts, by core.config.TRAIN_CHOICES.
PRESS_MODELS = {"both": " of Keras and then the baseline", "keras": "", "baseline": " of the baseline"}
RACE_SECTION = "Race: several settings side by side, live"
RACE_INTRO = (
    "Vary one setting over 2 to 4 values; everything else comes from the sidebar: the same data, split "
    "and seed and, where the architectures allow, the same starting weights. The variants train in one "
    "job, one epoch of each in turn, and every one is saved like any run (see Experiments)."
)
RACE_QUESTION = "Question"
RACE_OWN_CHOICE = "Choose my own setting and values"
RACE_SETTING = "Setting to vary"
RACE_CHOICES = "Values (2 to 4)"
RACE_VALUES = "Values, separated by commas (2 to 4)"
RACE_VALUES_EXAMPLE = "e.g. {example}"
RACE_BUTTON = "Race"
RACE_STOP = "Stop the race"
RACE_BUSY = "Training in progress: the race can start when it ends."
RACE_SHARED = "Shared by every variant, from the sidebar:"
RACE_ESTIMATE = (
    "Estimated here for the whole race ({variants} variants): {duration} for {epochs} epochs each, "
    "and {memory} of memory."
)
RACE_CURVES_INTRO = "A race: {labels}. One colour per variant; solid lines are training, dashed lines validation."
RACE_X_AXIS = "Horizontal axis"
RACE_X_AXES = {"epoch": "epochs", "seconds": "each variant's own training seconds"}
RACE_RANKING = "The ranking"
RACE_SAYS = "What the race says"
RACE_SAYS_SO_FAR = "What the race says so far"
RACE_PARALLEL = "Setting against score"
RACE_PARALLEL_HELP = "Each line is one variant, from its setting to its scores; its colour is its test accuracy."
RACE_NO_EPOCH_YET = "No variant has finished an epoch yet."
RACE_VARIANT_QUEUED = "{label}: {message}"
RACE_VARIANT_RUNNING = "{label}: epoch {epoch}/{epochs}"
RACE_LEFT = "The whole race: about {left} left."
RACE_VARIANT_STOPPING = "{label}: stopping at the next batch (epoch {epoch}/{epochs})…"
RACE_VARIANT_DONE = "{label}: {message}"
# The lesson's step 6 asks the workshop's next question with a preset race.
LESSON_RACE_QUESTION = "What if we used another optimizer?"
LESSON_RACE_OFFER = (
    "Race the lesson's model with Adam, SGD and RMSprop, each at its own default learning rate: the same "
    "data, seed and starting weights, one epoch of each in turn. The curves grow together at step 5."
)
LESSON_RACE_BUTTON = "Race Adam vs SGD vs RMSprop"
# "Does it work on our handwriting?": the room's handwriting told from its own numbers (core.results.handwriting).
HANDWRITING_QUESTION = "Does it work on our handwriting?"
# Step 7 without a room's drawings to read: what the step is for, and how to get there.
HANDWRITING_STEP_INTRO = (
    "A model that scores well on its test set has promised that for its test set, not for the handwriting "
    "of the people in this room. This step scores it on the room's own digits, then teaches it some of them."
)
HANDWRITING_NOTEBOOK = (
    "Draw or scan digits, one folder a digit (`0/`, `1/`, …), and score the saved model on them with "
    "Training Studio's `python -m core evaluate --model MODEL.keras --images FOLDER`."
)
HANDWRITING_STEP_HOW = (
    "Start a room (below), open the Room page and press **Collect the room's handwriting**: everyone draws "
    "digits on their phone, and this step tells the story in the room's numbers."
)
HANDWRITING_NOTHING_YET = "The room has not drawn any digits yet: the story starts with the first drawing."
HANDWRITING_SCORES = (
    "On its test set the model is right on {test:.1%}; on the room's handwriting on {room:.1%} "
    "({correct} of {total} drawings)."
)
HANDWRITING_GAP = (
    "That is {points:.0f} points lower: a test set promises its own kind of images, not every hand. "
    "The room's digits come from another distribution."
)
HANDWRITING_NO_GAP = "The room's hand reads about as well as its test set: these digits resemble what it learned."
HANDWRITING_CONFUSED = "It most often read a {true} as a {predicted} ({count} times)."
HANDWRITING_TAUGHT = (
    "Taught {taught} of the room's drawings for more epochs, it reads the {held} it was not taught "
    "{after:.1%} right, against {before:.1%} before: {points:+.0f} points."
)
HANDWRITING_REMEMBERED = (
    "On its original test set it scores {after:.1%}, against {before:.1%} before: it forgot nothing."
)
HANDWRITING_FORGOT = (
    "On its original test set it scores {after:.1%}, against {before:.1%} before: it lost {points:.1f} points "
    "while learning the room's hand."
)
HANDWRITING_TEACH_NEXT = "Next: teach it part of the room's handwriting and score it on the rest."
