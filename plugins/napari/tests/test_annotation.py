"""The annotation state machine on real malaria images, without napari or Qt."""
from __future__ import annotations

import json

import pytest

from napari_bioclass.annotation import AnnotationSession

CLASSES = ["Parasitized", "Uninfected"]


def test_assign_copies_into_class_folders_and_advances(unsorted, tmp_path):
    out = tmp_path / "sorted"
    session = AnnotationSession(unsorted, out, CLASSES)
    first, second = session.names[:2]
    assert session.current == first and str(session.progress) == "0 of 8 labelled, 0 skipped"
    assert session.assign("Uninfected") == first
    assert session.assign(0) == second
    assert (out / "Uninfected" / first).read_bytes() == (unsorted / first).read_bytes()
    assert (out / "Parasitized" / second).is_file()
    assert session.current == session.names[2] and str(session.progress) == "2 of 8 labelled, 0 skipped"


def test_skip_moves_the_image_to_the_end(unsorted, tmp_path):
    session = AnnotationSession(unsorted, tmp_path / "sorted", CLASSES)
    skipped = session.skip()
    assert session.remaining[-1] == skipped and session.current == session.names[1]
    assert str(session.progress) == "0 of 8 labelled, 1 skipped"
    for _ in range(7):
        session.assign(1)
    assert session.current == skipped  # skipped images come back last
    session.assign(0)
    assert session.current is None and str(session.progress) == "8 of 8 labelled, 0 skipped"
    with pytest.raises(ValueError, match="every image is labelled"):
        session.assign(0)


def test_undo_takes_back_assign_and_skip_in_order(unsorted, tmp_path):
    out = tmp_path / "sorted"
    session = AnnotationSession(unsorted, out, CLASSES)
    labelled = session.assign(0)
    skipped = session.skip()
    assert session.undo() == skipped and session.current == skipped and not session.skipped
    assert session.undo() == labelled and session.current == labelled
    assert not (out / "Parasitized" / labelled).exists() and session.labels == {}
    assert session.undo() is None


def test_resume_from_the_json_in_the_output_folder(unsorted, tmp_path):
    out = tmp_path / "sorted"
    session = AnnotationSession(unsorted, out, CLASSES)
    first = session.assign(1)
    second = session.skip()
    state = json.loads((out / "annotations.json").read_text())
    assert state["classes"] == CLASSES and state["labels"] == {first: "Uninfected"} and state["skipped"] == [second]

    resumed = AnnotationSession(unsorted, out)
    assert resumed.classes == CLASSES and resumed.labels == {first: "Uninfected"}
    assert resumed.current == session.current and str(resumed.progress) == "1 of 8 labelled, 1 skipped"
    assert resumed.undo() == second and resumed.undo() == first  # the undo stack survives too


def test_classes_in_use_cannot_be_removed_but_can_be_added(unsorted, tmp_path):
    session = AnnotationSession(unsorted, tmp_path / "sorted", CLASSES)
    session.assign("Parasitized")
    with pytest.raises(ValueError, match="'Parasitized' still has labelled images"):
        session.set_classes(["Uninfected"])
    session.set_classes([*CLASSES, "Unsure"])
    assert session.classes == [*CLASSES, "Unsure"]
    with pytest.raises(ValueError, match="folder name"):
        session.set_classes([*CLASSES, "a/b"])
    with pytest.raises(ValueError, match="must differ"):
        session.set_classes([*CLASSES, "Unsure", "Unsure"])


def test_preferred_order_puts_chosen_images_first(unsorted, tmp_path):
    session = AnnotationSession(unsorted, tmp_path / "sorted", CLASSES)
    last, middle = session.names[-1], session.names[3]
    session.set_order([last, middle])
    assert session.remaining[:2] == [last, middle]
    session.assign(0)
    assert session.current == middle


def test_output_folder_must_differ_from_the_images(unsorted):
    with pytest.raises(ValueError, match="must differ"):
        AnnotationSession(unsorted, unsorted, CLASSES)
