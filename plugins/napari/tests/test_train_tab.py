"""The Train tab against the real server's Training API: a tiny real job on real malaria cells."""
from __future__ import annotations

import pytest

from napari_bioclass.suggestions import read_image
from napari_bioclass.training_run import progress_of
from napari_bioclass.widget import ClassifierWidget

from .conftest import MALARIA, MALARIA_CLASSES, unsorted_malaria

WAIT_MS = 20_000
TRAIN_MS = 180_000
# The smallest budget the API takes that still runs every stage: one epoch at 32x32 of a small
# network, a fixed learning rate (no finder), one CPU thread (two shared cores here).
TINY = {"epochs": 1, "image_size": 32, "batch_size": 8, "threads": 1}
ARCH = "mobilenetv3_small_050"


@pytest.fixture
def connected(napari_viewer, napari_server, qtbot) -> ClassifierWidget:
    widget = ClassifierWidget(napari_viewer)
    napari_viewer.window.add_dock_widget(widget)
    widget.address.setText(napari_server.address)
    widget.connect_button.click()
    qtbot.waitUntil(lambda: not widget.busy, timeout=WAIT_MS)
    return widget


@pytest.fixture
def tab(connected, tmp_path):
    """The Train tab on a class-per-folder folder sorted in the Annotate tab: 8 cells per class."""
    annotate = connected.annotate_tab
    truth = unsorted_malaria(tmp_path / "unsorted", 8)
    annotate.set_class_names(MALARIA_CLASSES)
    annotate.open_folder(tmp_path / "unsorted", tmp_path / "sorted")
    while annotate.session.current is not None:
        annotate.assign(MALARIA_CLASSES.index(truth[annotate.session.current]))
    tab = connected.train_tab
    tab.use_annotated_button.click()
    tab.arch.setCurrentText(ARCH)
    for name, value in TINY.items():
        tab.numbers[name].setValue(value)
    tab.learning_rate.setValue(1e-3)
    return tab


def test_training_the_annotated_folder_adds_a_usable_model(tab, connected, qtbot, tmp_path):
    assert tab.dataset_edit.text() == str(tmp_path / "sorted")
    tab.model_id.setText("napari-tiny-malaria")
    updates = []
    tab.start_button.click()
    assert tab.busy and not tab.start_button.isEnabled()
    tab.worker.yielded.connect(updates.append)
    qtbot.waitUntil(lambda: not tab.busy, timeout=TRAIN_MS)

    assert tab.status.text().startswith("Trained napari-tiny-malaria (held-out accuracy "), tab.status.text()
    assert any(progress_of(u)[2].startswith("training: epoch 1/1") for u in updates if hasattr(u, "progress"))
    log = tab.log.toPlainText()
    assert "train epoch 1/1" in log and "export torchscript" in log
    assert (tab.progress.value(), tab.progress.maximum()) == (1, 1)

    qtbot.waitUntil(lambda: connected.model == "napari-tiny-malaria", timeout=WAIT_MS)  # chosen in Classify
    cell = sorted((MALARIA / "Parasitized").iterdir())[500]
    connected.viewer.add_image(read_image(cell), name="cell", rgb=True)
    connected.classify_selected_button.click()
    qtbot.waitUntil(lambda: not connected.busy, timeout=WAIT_MS)
    assert connected.table.texts("label")[0] in MALARIA_CLASSES
    assert connected.status.text() == "Done with napari-tiny-malaria: 1 classified."

    # The same id again: refused without overwrite, queued with it; the earlier log stays.
    tab.on_server.setChecked(True)  # no second upload
    assert tab.request().config["overwrite"] is False
    tab.start_button.click()
    qtbot.waitUntil(lambda: not tab.busy, timeout=WAIT_MS)
    assert tab.status.text().startswith("Model napari-tiny-malaria already exists. Choose another id, or replace it "
                                        "(the overwrite box, or --overwrite).\nDetails: ALREADY_EXISTS: ")
    tab.overwrite.setChecked(True)
    assert tab.request().config["overwrite"] is True
    tab.start_button.click()
    qtbot.waitUntil(lambda: tab.cancel_button.isEnabled(), timeout=WAIT_MS)  # the server queued the job
    tab.cancel_button.click()
    qtbot.waitUntil(lambda: not tab.busy, timeout=WAIT_MS)
    assert tab.status.text().startswith(f"Job {tab.job_id} cancelled")
    log = tab.log.toPlainText()
    assert log.count(f"---- {ARCH} on {tmp_path / 'sorted'} ----") == 3 and "train epoch 1/1" in log


def test_cancel_a_long_job_on_a_server_folder(tab, qtbot):
    tab.numbers["epochs"].setValue(500)
    tab.on_server.setChecked(True)  # the server runs on this machine: it reads the folder itself
    tab.start_button.click()
    qtbot.waitUntil(lambda: tab.cancel_button.isEnabled(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "training:" in tab.status.text(), timeout=TRAIN_MS)
    tab.cancel_button.click()
    qtbot.waitUntil(lambda: not tab.busy, timeout=WAIT_MS)
    assert tab.status.text() == f"Job {tab.job_id} cancelled: cancelled by the user"
    assert tab.start_button.isEnabled() and not tab.cancel_button.isEnabled()


def test_start_before_connecting_and_without_a_folder(napari_viewer):
    widget = ClassifierWidget(napari_viewer)
    napari_viewer.window.add_dock_widget(widget)
    widget.train_tab.start_button.click()
    assert widget.train_tab.status.text() == "Connect to a server first."


def test_a_missing_folder_is_a_message(connected, qtbot, tmp_path):
    tab = connected.train_tab
    tab.dataset_edit.setText(str(tmp_path / "nowhere"))
    tab.start_button.click()
    qtbot.waitUntil(lambda: not tab.busy, timeout=WAIT_MS)
    assert tab.status.text() == (f"No such folder: {tmp_path / 'nowhere'}.\n"
                                 f"Details: ValueError: no such folder: {tmp_path / 'nowhere'}")
    assert (tab.progress.value(), tab.progress.maximum()) == (0, 1) and tab.start_button.isEnabled()
