"""The dock widget in a real (offscreen) napari viewer against the real server."""
from __future__ import annotations

import numpy as np
import pytest

from napari_bioclass.widget import ClassifierWidget

MODEL = "brightness-onnx"
WAIT_MS = 20_000


@pytest.fixture
def widget(napari_viewer, napari_server, qtbot) -> ClassifierWidget:
    widget = ClassifierWidget(napari_viewer)
    napari_viewer.window.add_dock_widget(widget)  # the viewer closes it at teardown
    widget.address.setText(napari_server.address)
    return widget


@pytest.fixture
def connected(widget, qtbot) -> ClassifierWidget:
    widget.connect_button.click()
    qtbot.waitUntil(lambda: not widget.busy, timeout=WAIT_MS)
    widget.model_box.setCurrentIndex(widget.model_box.findData(MODEL))
    return widget


def finish(widget, qtbot) -> None:
    qtbot.waitUntil(lambda: not widget.busy, timeout=WAIT_MS)


def test_connect_lists_the_server_models(connected):
    ids = [connected.model_box.itemData(i) for i in range(connected.model_box.count())]
    assert MODEL in ids and connected.model == MODEL
    assert connected.model_box.currentText() == "brightness-onnx — Brightness (onnx)"
    assert connected.status.text().startswith(f"Connected to {connected.client.address}")


def test_classify_all_runs_in_a_worker_and_fills_table_and_metadata(connected, qtbot):
    viewer = connected.viewer
    white = viewer.add_image(np.full((20, 20), 255, np.uint8), name="white")
    black = viewer.add_image(np.zeros((20, 20), np.uint8), name="black")
    connected.classify_all_button.click()
    # The click returned before any result: rows arrive from the worker thread afterwards.
    assert connected.busy and connected.table.rowCount() == 0
    assert not connected.classify_all_button.isEnabled()
    finish(connected, qtbot)
    assert connected.table.texts("image") == ["white", "black"]
    assert connected.table.texts("label") == ["bright", "dark"]
    assert connected.table.texts("top-k")[0].startswith("bright 1.000, dark 0.000")
    assert [white.metadata["bioclass"][0]["label"], black.metadata["bioclass"][0]["label"]] == ["bright", "dark"]
    assert connected.status.text() == f"Done with {MODEL}: 2 classified."


def test_stack_rows_current_slice_and_overlay(connected, qtbot):
    viewer = connected.viewer
    stack = viewer.add_image(np.stack([np.zeros((20, 20)), np.ones((20, 20)), np.zeros((20, 20))]), name="stack")
    connected.classify_selected_button.click()
    finish(connected, qtbot)
    assert connected.table.texts("slice") == ["0", "1", "2"]
    assert connected.table.texts("label") == ["dark", "bright", "dark"]
    assert [entry["label"] for entry in stack.metadata["bioclass"]] == ["dark", "bright", "dark"]

    viewer.dims.set_current_step(0, 1)
    assert viewer.text_overlay.visible and viewer.text_overlay.text == f"bright 1.00 · stack [1] ({MODEL})"
    connected.classify_slice_button.click()
    finish(connected, qtbot)
    assert (connected.table.texts("slice"), connected.table.texts("label")) == (["1"], ["bright"])


@pytest.mark.parametrize("data, rgb", [(np.full((24, 24, 3), 250, np.uint8), True),
                                       (np.full((24, 24, 4), 250, np.uint8), True),
                                       (np.full((24, 24), 60000, np.uint16), False),
                                       (np.full((24, 24), 0.9, np.float32), False)],
                         ids=["rgb", "rgba", "uint16", "float32"])
def test_rgb_16_bit_and_float_layers(connected, qtbot, data, rgb):
    layer = connected.viewer.add_image(data, rgb=rgb, name="image")
    assert layer.rgb == rgb
    connected.classify_selected_button.click()
    finish(connected, qtbot)
    assert connected.table.texts("label") == ["bright"]


def test_server_down_shows_a_message(widget, qtbot, dead_address):
    from napari.utils.notifications import notification_manager

    widget.address.setText(dead_address)
    widget.connect_button.click()
    finish(widget, qtbot)
    assert widget.status.text().startswith(f"Cannot reach the bioclass server at {dead_address}. Is `bioclass serve` "
                                           f"running there?\nDetails: UNAVAILABLE: ")
    assert widget.model_box.count() == 0
    assert notification_manager.records[-1].message == widget.status.text()


def test_classify_before_connecting_asks_to_connect(widget):
    widget.viewer.add_image(np.zeros((8, 8)))
    widget.classify_all_button.click()
    assert widget.status.text() == "Connect to a server and choose a model first." and not widget.busy


def test_unknown_model_shows_not_found(connected, qtbot):
    connected.viewer.add_image(np.zeros((8, 8)))
    connected.model_box.addItem("gone", "removed-model")
    connected.model_box.setCurrentIndex(connected.model_box.count() - 1)
    connected.classify_all_button.click()
    finish(connected, qtbot)
    first, details = connected.status.text().split("\n")
    assert first.startswith(f"The server has no model 'removed-model'. Choose one it serves: {MODEL}")
    assert details.startswith("Details: NOT_FOUND: unknown model 'removed-model'; served models: ")
    assert connected.table.rowCount() == 0


def test_a_refused_plane_is_an_error_row_not_an_exception(connected, qtbot):
    stack = np.stack([np.ones((16, 16), np.float32), np.full((16, 16), np.nan, np.float32)])
    layer = connected.viewer.add_image(stack, name="nan")
    connected.classify_selected_button.click()
    finish(connected, qtbot)
    assert connected.table.texts("label") == ["bright", "skipped"]
    refused = layer.metadata["bioclass"][1]
    assert connected.table.texts("top-k")[1] == "NaN or infinite pixels"
    assert connected.table.item(1, 2).toolTip() == refused["error"] == "the image contains NaN or infinite values"
    assert refused["probability"] is None
    assert connected.status.text() == f"Done with {MODEL}: 1 classified, 1 skipped: nan[1] NaN or infinite pixels."


def test_stop_ends_a_long_batch_early(connected, qtbot):
    connected.viewer.add_image(np.zeros((300, 16, 16), np.uint8), name="long")
    connected.classify_all_button.click()
    assert connected.stop_button.isEnabled()
    connected.stop_button.click()
    finish(connected, qtbot)
    assert connected.table.rowCount() < 300
    assert connected.status.text() == f"Stopped: {connected.table.rowCount()} classified."
    assert not connected.stop_button.isEnabled() and connected.classify_all_button.isEnabled()


def test_show_explanation_adds_an_overlay_over_the_shown_slice(connected, qtbot):
    stack = np.zeros((2, 24, 32), np.uint8)
    stack[1, :, :16] = 255  # slice 1: bright on the left only
    connected.viewer.add_image(stack, name="half", scale=(1, 0.5, 0.5), translate=(0, 10, 20))
    connected.viewer.dims.set_current_step(0, 1)
    connected.explain_button.click()
    finish(connected, qtbot)
    overlay = connected.viewer.layers[-1]
    assert overlay.name == "half explanation (bright)" and overlay.data.shape == (24, 32)
    assert (overlay.colormap.name, overlay.blending, overlay.opacity) == ("inferno", "additive", 0.6)
    assert tuple(overlay.scale) == (0.5, 0.5) and tuple(overlay.translate) == (10, 20)
    assert overlay.metadata["bioclass_explanation"]["slice"] == [1]
    assert connected.status.text().startswith("Explanation of half: bright (")
    assert overlay.data[:, :16].mean() > overlay.data[:, 16:].mean()  # the bright half decides "bright"


def test_classify_in_tiles_adds_a_map_per_class_and_labels_over_the_layer(connected, qtbot):
    from mosaic_support import CELL, COLUMNS, LABELS, ROWS, mosaic

    source = connected.viewer.add_image(mosaic(), rgb=True, name="field", scale=(0.5, 0.5), translate=(10, 20))
    connected.model_box.setCurrentIndex(connected.model_box.findData("malaria-cnn-onnx"))
    connected.tile_size.setValue(CELL)
    connected.classify_tiles_button.click()
    assert connected.busy and not connected.classify_tiles_button.isEnabled()
    finish(connected, qtbot)
    *maps, labels = connected.viewer.layers[1:]
    assert [layer.name for layer in maps] == [f"field {label} (malaria-cnn-onnx)" for label in LABELS]
    assert labels.name == "field tile labels (malaria-cnn-onnx)" and labels.data.shape == (ROWS, COLUMNS)
    assert {label for label in np.unique(labels.data)} <= {1, 2}
    np.testing.assert_array_equal(labels.data, np.nanargmax(np.stack([m.data for m in maps]), axis=0) + 1)
    np.testing.assert_allclose(labels.data_to_world((-0.5, -0.5)), source.data_to_world((-0.5, -0.5)))
    assert (connected.progress.value(), connected.progress.maximum()) == (ROWS * COLUMNS, ROWS * COLUMNS)
    assert connected.status.text().startswith(f"Tiles of field: {ROWS} x {COLUMNS}, {ROWS * COLUMNS} classified, "
                                              "0 skipped; whole image: ")
