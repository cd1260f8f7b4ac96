"""Your own images in a real browser: a .zip dropped on Train shows its dataset card, trains, and reaches Evaluate."""

from __future__ import annotations

from tests.app.test_own_data import animals_zip
from tests.e2e.browser import choose_digits, go_to, open_app, press, run_finished, wait_until


def test_a_zip_of_class_folders_is_carded_trained_and_evaluated(page, server, tmp_path):
    images = tmp_path / "animals.zip"
    images.write_bytes(animals_zip())
    open_app(page, server, "train")
    choose_digits(page, epochs=2, keras_only=True, dataset="Your own images")
    page.get_by_test_id("stFileUploaderDropzoneInput").first.set_input_files(str(images))
    main = page.get_by_test_id("stMain")
    card = wait_until(lambda: "seven sisters" in (text := main.inner_text()) and text, 60)
    assert "Dataset card: Your images: animals.zip" in card and "left out" in card
    press(page, "Train")
    run_finished(page, name="own-data-not-finished")
    go_to(page, "evaluate")
    shown = wait_until(lambda: "Test accuracy" in (text := main.inner_text()) and text, 60)
    assert "on Your images: animals.zip" in shown
