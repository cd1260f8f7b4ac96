"""The app's macro precision / recall / F1 agree with scikit-learn, in Keras and in numpy."""

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix as sk_confusion_matrix
from sklearn.metrics import f1_score, precision_score, recall_score

from core.training.evaluation import classification_scores, confusion_matrix, per_class_scores


@pytest.fixture
def labels():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 10, 500)
    y_pred = np.where(rng.random(500) < 0.7, y_true, rng.integers(0, 10, 500))
    return y_true, y_pred


def test_numpy_scores_match_scikit_learn(labels):
    y_true, y_pred = labels
    scores = classification_scores(y_true, y_pred, 10)
    assert scores["accuracy"] == pytest.approx((y_true == y_pred).mean())
    assert scores["precision"] == pytest.approx(precision_score(y_true, y_pred, average="macro"))
    assert scores["recall"] == pytest.approx(recall_score(y_true, y_pred, average="macro"))
    assert scores["f1"] == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    np.testing.assert_array_equal(
        confusion_matrix(y_true, y_pred, 10), sk_confusion_matrix(y_true, y_pred, labels=range(10))
    )
    np.testing.assert_allclose(
        per_class_scores(confusion_matrix(y_true, y_pred, 10))["f1"], f1_score(y_true, y_pred, average=None)
    )


@pytest.mark.parametrize("which", ["precision", "recall", "f1"])
@pytest.mark.parametrize("one_hot", [False, True])
def test_keras_macro_score_matches_scikit_learn(labels, which, one_hot):
    from core import libraries

    libraries.load("keras")
    from core.training.models import MacroScore

    y_true, y_pred = labels
    probabilities = np.eye(10, dtype="float32")[y_pred] * 0.9 + 0.01
    metric = MacroScore(which, 10)
    truth = np.eye(10, dtype="float32")[y_true] if one_hot else y_true
    metric.update_state(truth[:200], probabilities[:200])
    metric.update_state(truth[200:], probabilities[200:])  # accumulates across batches
    expected = {"precision": precision_score, "recall": recall_score, "f1": f1_score}[which](
        y_true, y_pred, average="macro"
    )
    assert float(metric.result()) == pytest.approx(expected, abs=1e-5)
