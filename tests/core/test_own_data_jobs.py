"""Uploaded images travel with a job to another process (a Ray worker) as bytes, and train there the same."""

import io
import zipfile

import numpy as np
from PIL import Image

from core.config import TrainingConfig
from core.data.datasets import keep_private
from core.data.uploads import load_own_data
from core.jobs.ray_jobs import TrainingWorker
from core.jobs.training_job import training_job
from core.training.run import FINISHED, TrainingRun


def three_classes_zip() -> bytes:
    from sklearn.datasets import load_digits

    digits = load_digits()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, digit in (("o", 0), ("i", 1), ("seven", 7)):
            for index, image in enumerate(digits.images[digits.target == digit][:10]):
                picture = io.BytesIO()
                Image.fromarray(np.kron(image * 255 / 16, np.ones((4, 4))).astype(np.uint8)).save(picture, "PNG")
                archive.writestr(f"{name}/{index}.png", picture.getvalue())
    return buffer.getvalue()


def test_a_ray_worker_trains_on_the_uploaded_images_it_was_sent():
    own = load_own_data(three_classes_zip(), "three.zip")
    config = TrainingConfig(dataset="upload", data_dir=keep_private(own.dataset), epochs=1, batch_size=8)
    spec = training_job([TrainingRun(config, "keras")], own.dataset).spec
    assert spec.own_images and "own_images" not in repr(spec)  # the bytes travel, and stay out of logs
    worker = TrainingWorker()
    # The worker's process knows nothing of the key: it reads the images from the job itself.
    sent = {"dataset_name": spec.dataset_name, "data_dir": "upload-unknown", "extra_epochs": None}
    worker.train("job", [("keras", config.to_dict())], sent | {"own_images": spec.own_images}, [None])
    (run,) = worker._runs
    snapshot = run.snapshot()
    assert snapshot.status == FINISHED, snapshot.message
    assert run.test_probabilities.shape == (len(own.dataset.y_test), 3)
