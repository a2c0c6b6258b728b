"""Suggested labels: nearest centroid on real malaria cells, and a served model's probabilities."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from napari_bioclass.annotation import AnnotationSession
from napari_bioclass.suggestions import centroid_suggestions, features, model_suggestions, ranked

from .conftest import MALARIA_CLASSES, unsorted_malaria


def labelled_session(tmp_path, per_class: int, labels_per_class: int):
    """A session over real malaria cells with the first few of each class labelled from the truth."""
    truth = unsorted_malaria(tmp_path / "unsorted", per_class)
    session = AnnotationSession(tmp_path / "unsorted", tmp_path / "sorted", list(MALARIA_CLASSES))
    for label in MALARIA_CLASSES:
        for name in [n for n in session.names if truth[n] == label][:labels_per_class]:
            session.set_order([name])
            session.assign(label)
    return session, truth


def test_ranked_puts_the_smallest_margin_first():
    probabilities = np.array([[0.9, 0.1], [0.55, 0.45], [0.3, 0.7]])
    suggestions = ranked(["sure", "unsure", "other"], ["a", "b"], probabilities)
    assert [s.name for s in suggestions] == ["unsure", "other", "sure"]
    assert (suggestions[0].label, round(suggestions[0].probability, 2), round(suggestions[0].margin, 2)) == \
        ("a", 0.55, 0.1)


def test_features_have_one_length_for_any_image():
    shapes = [np.zeros((50, 50, 3), np.uint8), np.ones((7, 90), np.uint16),
              np.random.default_rng(0).random((32, 32, 4))]
    assert {features(image).shape for image in shapes} == {features(shapes[0]).shape}
    assert all(np.isfinite(features(image)).all() for image in shapes)


def test_centroid_suggestions_order_by_uncertainty_and_are_mostly_right(tmp_path):
    session, truth = labelled_session(tmp_path, per_class=30, labels_per_class=5)
    suggestions = centroid_suggestions(session)
    assert sorted(s.name for s in suggestions) == sorted(n for n in session.names if n not in session.labels)
    margins = [s.margin for s in suggestions]
    assert margins == sorted(margins) and all(0.5 <= s.probability <= 1 for s in suggestions)
    right = [s.label == truth[s.name] for s in suggestions]
    # Measured: 42 of 50 right; all 25 of the most certain, 17 of the 25 least certain.
    assert sum(right) >= 38 and sum(right[25:]) >= 23 and sum(right[25:]) > sum(right[:25])


def test_centroid_suggestions_need_two_labelled_classes(unsorted, tmp_path):
    session = AnnotationSession(unsorted, tmp_path / "sorted", list(MALARIA_CLASSES))
    session.assign(0)
    with pytest.raises(ValueError, match="two classes"):
        centroid_suggestions(session)


def test_model_suggestions_use_the_served_probabilities(napari_client, tmp_path):
    folder = tmp_path / "unsorted"
    folder.mkdir()
    for name, value in [("black.png", 0), ("gray.png", 120), ("white.png", 255)]:
        Image.fromarray(np.full((16, 16), value, np.uint8)).save(folder / name)
    session = AnnotationSession(folder, tmp_path / "sorted", ["dark", "bright"])
    suggestions = model_suggestions(napari_client, "brightness-onnx", session)
    assert suggestions[0].name == "gray.png"  # mid-gray: the least certain
    assert {s.name: s.label for s in suggestions[1:]} == {"black.png": "dark", "white.png": "bright"}
    session.set_classes(["cells", "debris"])
    with pytest.raises(ValueError, match="not the classes"):
        model_suggestions(napari_client, "brightness-onnx", session)
