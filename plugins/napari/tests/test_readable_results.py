"""What a biologist reads: a folder with stray files, a table whose label shows, an overlay that fits,
plain-words errors that go away on success, and a model choice that survives a reconnect."""
from __future__ import annotations

import numpy as np
from PIL import Image

from napari_bioclass.layers import CHAR_PX_PER_POINT, MIN_CHARS
from napari_bioclass.results_table import COLUMNS

from .test_widget import MODEL, connected, finish, widget  # noqa: F401 - fixtures shared with test_widget


def untidy_folder(folder):
    """Three good images (one in a sub-folder), a text file and a truncated PNG."""
    Image.fromarray(np.full((20, 20, 3), 240, np.uint8)).save(folder / "a-white.png")
    Image.fromarray(np.full((20, 20, 3), 10, np.uint8)).save(folder / "c-black.png")
    (folder / "more").mkdir()
    Image.fromarray(np.full((20, 20), 250, np.uint8)).save(folder / "more" / "e-white.png")
    (folder / "notes.txt").write_text("stained on Monday\n")
    noise = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(noise).save(folder / "bad.png")
    (folder / "bad.png").write_bytes((folder / "bad.png").read_bytes()[:4000])
    return folder


def test_a_folder_gives_every_good_row_and_one_row_per_bad_file(connected, qtbot, tmp_path):
    connected.folder_edit.setText(str(untidy_folder(tmp_path)))
    connected.classify_folder_button.click()
    finish(connected, qtbot)  # the run ends
    table = connected.table
    assert table.texts("image") == ["notes.txt", "a-white.png", "bad.png", "c-black.png", "more/e-white.png"]
    assert table.texts("label") == ["skipped", "bright", "skipped", "dark", "bright"]
    assert [table.texts("top-k")[i] for i in (0, 2)] == ["not an image", "truncated"]
    assert table.item(2, COLUMNS.index("top-k")).toolTip().startswith("cannot decode the image: image file is trunc")
    assert connected.status.text() == (f"Done with {MODEL}: 3 classified, 2 skipped: notes.txt not an image, "
                                       f"bad.png truncated.")
    assert (connected.progress.value(), connected.progress.maximum()) == (5, 5)


def test_a_folder_without_images_says_so(connected, qtbot, tmp_path):
    (tmp_path / "notes.txt").write_text("no images\n")
    connected.folder_edit.setText(str(tmp_path))
    connected.classify_folder_button.click()
    finish(connected, qtbot)
    assert connected.status.text().startswith(f"No images to classify in {tmp_path} (skipped: notes.txt not an "
                                              f"image); images end in .png")
    assert connected.table.rowCount() == 0


def test_the_label_column_shows_at_the_default_size(connected, qtbot):
    name = "2026-12-02 plate 4 well B7 field 12 channel DAPI maximum projection deconvolved" * 2
    connected.viewer.add_image(np.full((20, 20), 255, np.uint8), name=name)
    connected.viewer.window.show()
    connected.classify_selected_button.click()
    finish(connected, qtbot)
    table = connected.table
    qtbot.waitUntil(table.isVisible)
    viewport = table.viewport().rect()
    for column in ("label", "probability", "top-k"):
        cell = table.visualRect(table.model().index(0, COLUMNS.index(column)))
        assert viewport.contains(cell), (column, cell, viewport)
    top_k = table.item(0, COLUMNS.index("top-k")).text()
    assert table.columnWidth(COLUMNS.index("top-k")) >= table.fontMetrics().horizontalAdvance(top_k)
    assert table.item(0, COLUMNS.index("image")).toolTip() == name


def test_the_overlay_fits_the_canvas(connected, qtbot):
    viewer = connected.viewer
    viewer.add_image(np.full((20, 20), 255, np.uint8), name="cell " * 200)
    connected.classify_selected_button.click()
    finish(connected, qtbot)
    limit = max(MIN_CHARS, int(viewer.canvas.size[1] / (viewer.text_overlay.font_size * CHAR_PX_PER_POINT)))
    text = viewer.text_overlay.text
    assert text.startswith("bright 1.00 · cell cell") and text.endswith("…") and len(text) == limit


def test_a_success_closes_stale_error_notifications(widget, qtbot, dead_address, napari_server):
    from napari._qt.dialogs.qt_notification import NapariQtNotification

    def toasts():
        return [t for t in widget.window().findChildren(NapariQtNotification) if t.isVisible()]

    widget.viewer.window.show()
    widget.address.setText(dead_address)
    widget.connect_button.click()
    finish(widget, qtbot)
    qtbot.waitUntil(lambda: bool(toasts()))
    widget.address.setText(napari_server.address)
    widget.connect_button.click()
    finish(widget, qtbot)
    assert widget.status.text().startswith("Connected to") and toasts() == []


def test_reconnecting_keeps_the_chosen_model(connected, qtbot):
    last = connected.model_box.count() - 1
    chosen = connected.model_box.itemData(last)
    assert last > 0 and chosen != connected.model_box.itemData(0)
    connected.model_box.setCurrentIndex(last)
    connected.connect_button.click()
    finish(connected, qtbot)
    assert connected.model == chosen
