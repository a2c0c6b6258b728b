"""The Annotate tab in a real (offscreen) napari viewer: real malaria images, real key presses."""
from __future__ import annotations

import json

import numpy as np
import pytest
from qtpy.QtCore import Qt

from napari_bioclass.annotate_tab import LAYER_NAME
from napari_bioclass.suggestions import read_image
from napari_bioclass.widget import ClassifierWidget

from .conftest import MALARIA_CLASSES, unsorted_malaria

WAIT_MS = 20_000


@pytest.fixture
def tab(napari_viewer, unsorted, tmp_path):
    widget = ClassifierWidget(napari_viewer)
    napari_viewer.window.add_dock_widget(widget)
    tab = widget.annotate_tab
    tab.set_class_names(MALARIA_CLASSES)
    tab.source_edit.setText(str(unsorted))
    tab.out_edit.setText(str(tmp_path / "sorted"))
    tab.open_button.click()
    return tab


def press(tab, qtbot, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """A real key press on the viewer's canvas, as a user's keyboard would send it."""
    canvas = tab.viewer.window._qt_viewer.canvas.native
    qtbot.keyClick(canvas, key, modifier)


def test_open_shows_the_first_image_and_the_progress(tab):
    session = tab.session
    layer = tab.viewer.layers[LAYER_NAME]
    assert np.array_equal(layer.data, read_image(session.path(session.names[0]))) and layer.rgb
    assert tab.progress_label.text() == "0 of 8 labelled, 0 skipped"
    assert [b.text() for b in tab.class_buttons] == ["1: Parasitized", "2: Uninfected"]
    assert tab.viewer.layers.selection.active is layer


def test_labelling_fills_the_canvas_and_hides_other_layers(napari_viewer, unsorted, tmp_path):
    slide = napari_viewer.add_image(np.zeros((2000, 3000), np.uint8), name="slide")
    tab = ClassifierWidget(napari_viewer).annotate_tab
    tab.open_folder(unsorted, tmp_path / "sorted")
    assert tab.layer.visible and not slide.visible
    shown = napari_viewer.camera.zoom * np.asarray(tab.layer.data.shape[:2])  # canvas pixels of the cell
    assert max(shown / np.asarray(napari_viewer.canvas.size)) == pytest.approx(0.95, abs=0.02)
    for _ in range(8):
        tab.class_buttons[0].click()
    assert slide.visible


def test_keys_assign_skip_and_undo(tab, qtbot, tmp_path):
    names = tab.session.names
    press(tab, qtbot, Qt.Key.Key_2)
    press(tab, qtbot, Qt.Key.Key_1)
    press(tab, qtbot, Qt.Key.Key_S)
    assert tab.session.labels == {names[0]: "Uninfected", names[1]: "Parasitized"}
    assert tab.progress_label.text() == "2 of 8 labelled, 1 skipped"
    assert np.array_equal(tab.layer.data, read_image(tab.session.path(names[3])))
    press(tab, qtbot, Qt.Key.Key_U)  # takes back the skip
    press(tab, qtbot, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # and the label before it
    assert tab.session.labels == {names[0]: "Uninfected"} and tab.session.current == names[1]
    assert tab.progress_label.text() == "1 of 8 labelled, 0 skipped"
    assert sorted(p.name for p in (tmp_path / "sorted").rglob("*.png")) == [names[0]]
    assert tab.message.text() == f"Undid {names[1]}"


def test_buttons_label_everything_and_write_the_dataset(tab, qtbot, tmp_path):
    for _ in range(8):
        tab.class_buttons[0].click()
    assert tab.progress_label.text() == "8 of 8 labelled, 0 skipped"
    assert tab.current_label.text() == "All images are labelled." and not tab.class_buttons[0].isEnabled()
    assert len(list((tmp_path / "sorted" / "Parasitized").iterdir())) == 8
    assert len(json.loads((tmp_path / "sorted" / "annotations.json").read_text())["labels"]) == 8


def test_reopening_resumes_with_the_saved_classes(tab, qtbot):
    press(tab, qtbot, Qt.Key.Key_2)
    tab.set_class_names(["x", "y"])  # what the list shows is replaced by the saved classes
    tab.open_button.click()
    assert tab.class_names() == list(MALARIA_CLASSES)
    assert tab.progress_label.text() == "1 of 8 labelled, 0 skipped"
    assert tab.message.text().startswith("Resumed 8 image(s).")


def test_editing_the_class_list(tab, qtbot):
    tab.add_class()
    tab.class_list.item(2).setText("Unsure")  # as a double-click edit does
    assert tab.session.classes == [*MALARIA_CLASSES, "Unsure"]
    assert [b.text() for b in tab.class_buttons][-1] == "3: Unsure"
    press(tab, qtbot, Qt.Key.Key_3)
    assert list(tab.session.labels.values()) == ["Unsure"]
    tab.class_list.setCurrentRow(2)
    tab.remove_class()  # refused: it has an image
    assert tab.class_names() == [*MALARIA_CLASSES, "Unsure"]
    assert tab.message.text() == "class 'Unsure' still has labelled images; undo them first"


def test_suggestions_reorder_the_queue_and_a_accepts(napari_viewer, tmp_path, qtbot):
    truth = unsorted_malaria(tmp_path / "unsorted", 12)
    widget = ClassifierWidget(napari_viewer)
    napari_viewer.window.add_dock_widget(widget)
    tab = widget.annotate_tab
    tab.set_class_names(MALARIA_CLASSES)
    tab.open_folder(tmp_path / "unsorted", tmp_path / "sorted")
    for _ in range(6):  # label from the truth with the keys
        press(tab, qtbot, Qt.Key.Key_1 if truth[tab.session.current] == "Parasitized" else Qt.Key.Key_2)
    tab.suggest_button.click()
    qtbot.waitUntil(lambda: tab.worker is None, timeout=WAIT_MS)
    margins = [tab.suggestions[name].margin for name in tab.session.remaining]
    assert len(margins) == 18 and margins == sorted(margins)
    current = tab.suggestions[tab.session.current]
    assert tab.suggestion_label.text() == f"Suggested: {current.label} ({current.probability:.2f})"
    press(tab, qtbot, Qt.Key.Key_A)
    assert tab.session.labels[current.name] == current.label
    assert tab.progress_label.text() == "7 of 24 labelled, 0 skipped"
