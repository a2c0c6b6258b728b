"""The dock widget: connect to a server and pick a model, then three tabs.

Classify: thin on purpose, it gathers layers on the GUI thread, runs `layers.classify_jobs` in a
napari worker thread, and shows what comes back in a table, in layer metadata and in the viewer's
text overlay; "Show explanation" adds the server's saliency map as an overlay layer; "Classify current
slice in tiles" adds the class map of `tiles.py` (an Image layer per class, a Labels layer) over it.
Annotate (`annotate_tab.py`) and Train (`train_tab.py`) share the connection and the model list.
Errors become a status line and a napari notification.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QProgressBar,
                            QSpinBox, QTabWidget, QVBoxLayout, QWidget)

from bioclass.client import Client, default_address
from napari_bioclass.annotate_tab import AnnotateTab
from napari_bioclass.classify import classify_folder, describe_error, run_summary
from napari_bioclass.connection import ConnectionFields
from napari_bioclass.controls import button, close_notifications, folder_row
from napari_bioclass.layers import (Job, classify_jobs, plane_job, fit_text, image_layers, job_for,
                                    result_text, shown_slice, store_rows)
from napari_bioclass.results_table import ResultsTable
from napari_bioclass.threads import start_worker
from napari_bioclass.tiles import classify_tiles, map_layers, summary_text, tile_job
from napari_bioclass.train_tab import TrainTab


class ClassifierWidget(QWidget):
    """The bioclass dock widget; `napari_viewer` is injected by napari when opened from the menu."""

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.client: Client | None = None
        self.worker = None
        self.rows: list = []  # this run's rows, for its summary
        self.tabs = QTabWidget()
        self.tabs.addTab(self._classify_tab(), "Classify")
        self.annotate_tab = AnnotateTab(napari_viewer, self)
        self.tabs.addTab(self.annotate_tab, "Annotate")
        self.train_tab = TrainTab(self)
        self.tabs.addTab(self.train_tab, "Train")
        layout = QVBoxLayout(self)
        layout.addWidget(self._server_box())  # above the tabs: every tab uses the connection
        layout.addWidget(self.tabs)
        self.viewer.dims.events.current_step.connect(self.refresh_overlay)
        self.viewer.layers.selection.events.active.connect(self.refresh_overlay)
        self._set_busy(False)

    # ---- layout ----------------------------------------------------------------------------

    def _classify_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        buttons = QVBoxLayout()
        self.classify_selected_button = button("Classify selected layer(s)", self.classify_selected, buttons)
        self.classify_slice_button = button("Classify current slice", self.classify_current_slice, buttons)
        self.classify_all_button = button("Classify all image layers", self.classify_all, buttons)
        self.explain_button = button("Show explanation (current slice)", self.show_explanation, buttons)
        self.stop_button = button("Stop", self.stop, buttons)
        layout.addLayout(buttons)
        layout.addLayout(self._tiles_form())
        folder_form = QFormLayout()
        self.folder_edit = folder_row(folder_form, "Folder", "Images on disk, classified without opening them")
        self.classify_folder_button = button("Classify folder", self.classify_folder)
        folder_form.addRow(self.classify_folder_button)
        layout.addLayout(folder_form)
        self.progress = QProgressBar()
        self.status = QLabel("Not connected.")
        self.status.setWordWrap(True)
        self.table = ResultsTable()
        for widget in (self.progress, self.status, self.table):
            layout.addWidget(widget)
        return tab

    def _tiles_form(self) -> QFormLayout:
        form = QFormLayout()
        self.tile_size = QSpinBox()
        self.tile_size.setRange(0, 100_000)
        self.tile_size.setSpecialValueText("model input")  # 0: the server takes the model's input size
        self.tile_size.setSuffix(" px")
        form.addRow("Tile", self.tile_size)
        self.tile_stride = QSpinBox()
        self.tile_stride.setRange(0, 100_000)
        self.tile_stride.setSpecialValueText("tile (no overlap)")
        self.tile_stride.setSuffix(" px")
        form.addRow("Stride", self.tile_stride)
        self.classify_tiles_button = button("Classify current slice in tiles", self.classify_in_tiles)
        form.addRow(self.classify_tiles_button)
        return form

    def _server_box(self) -> QGroupBox:
        box = QGroupBox("Server and model")
        form = QFormLayout(box)
        row = QHBoxLayout()
        self.address = QLineEdit(default_address())
        row.addWidget(self.address)
        self.connect_button = button("Connect", self.connect, row)
        form.addRow("Address", row)
        self.connection = ConnectionFields()
        self.connection.setVisible(False)
        self.connection_button = button("Token and TLS…", self._toggle_connection)
        form.addRow(self.connection_button)
        form.addRow(self.connection)
        self.model_box = QComboBox()
        # Long "id — name (framework)" entries must not widen the dock.
        self.model_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_box.setMinimumContentsLength(12)
        form.addRow("Model", self.model_box)
        self.top_k = QSpinBox()
        self.top_k.setRange(1, 100)
        self.top_k.setValue(5)
        form.addRow("Top-k", self.top_k)
        return box

    # ---- actions ---------------------------------------------------------------------------

    def connect(self) -> None:
        """(Re)connect to the address typed in and list its models, in the worker thread."""
        if self.client is not None:
            self.client.close()
            self.client = None
        chosen = self.model  # chosen again if the server still serves it
        self.model_box.clear()
        try:
            self.client = Client(self.address.text().strip() or default_address(), **self.connection.client_options())
        except OSError as error:  # a certificate or key file that cannot be read
            self._show_error(f"Cannot read a TLS file: {error}")
            return
        self._start(self.client.models, on_returned=partial(self._fill_models, select=chosen),
                    message="Connecting...")

    def _toggle_connection(self) -> None:
        self.connection.setVisible(self.connection.isHidden())

    def classify_selected(self) -> None:
        self._classify([job_for(layer) for layer in image_layers(self.viewer.layers.selection)])

    def classify_current_slice(self) -> None:
        point = self.viewer.dims.point
        self._classify([job_for(layer, point) for layer in image_layers(self.viewer.layers.selection)])

    def classify_all(self) -> None:
        self._classify([job_for(layer) for layer in image_layers(self.viewer.layers)])

    def classify_folder(self) -> None:
        """Every file of the folder typed in: a row per image, and per file that cannot be classified."""
        folder = self.folder_edit.text().strip()
        if not self.model:
            self._show_error("Connect to a server and choose a model first.")
            return
        if not folder or not Path(folder).is_dir():
            self._show_error(f"Choose a folder of images first{f' ({folder} is not one)' if folder else ''}.")
            return
        self._begin_rows(0)
        self._start(classify_folder, self.client, folder, self.model, self.top_k.value(),
                    on_yielded=self._add_folder_row, on_returned=partial(self._report_done, self.model),
                    on_aborted=self._report_stopped, message=f"Classifying {folder} with {self.model}...",
                    _progress={"desc": "bioclass"})

    def show_explanation(self) -> None:
        """The saliency map of the active layer's shown plane, as an overlay layer above it."""
        layer = self.viewer.layers.selection.active
        if not self.model or not image_layers([layer]):
            self._show_error("Connect, choose a model and select an image layer first.")
            return
        job = plane_job(layer, self.viewer.dims.point)
        self._start(self.client.explain, job.plane, self.model, on_returned=partial(self._add_explanation, job),
                    message=f"Explaining {job.name} with {self.model}...")

    def classify_in_tiles(self) -> None:
        """The active layer's shown plane tile by tile: a map layer per class and a Labels layer over it."""
        layer = self.viewer.layers.selection.active
        if not self.model or not image_layers([layer]):
            self._show_error("Connect, choose a model and select an image layer first.")
            return
        job = tile_job(layer, self.viewer.dims.point)
        self.progress.setRange(0, 0)
        self._start(classify_tiles, self.client, job, self.model, self.tile_size.value(), self.tile_stride.value(),
                    on_yielded=self._show_tile_progress, on_returned=partial(self._add_tile_maps, job, self.model),
                    on_aborted=lambda: self.status.setText(f"Stopped: tiles of {job.name}."),
                    message=f"Classifying {job.name} in tiles with {self.model}...")

    def refresh_models(self, select: str = "") -> None:
        """List the server's models again (e.g. after training), keeping or selecting a model.

        In its own worker, so it can run while a classification is in flight."""
        if self.client is not None:
            start_worker(self.client.models, returned=partial(self._fill_models, select=select or self.model),
                         errored=self._on_error)

    def stop(self) -> None:
        """Stop a classification after the plane in flight; rows so far are kept."""
        if self.worker is not None and hasattr(self.worker, "quit"):
            self.worker.quit()

    @property
    def model(self) -> str:
        return self.model_box.currentData() or ""

    @property
    def busy(self) -> bool:
        return self.worker is not None

    # ---- running in the worker thread ------------------------------------------------------

    def _classify(self, jobs: list[Job]) -> None:
        if not self.model:
            self._show_error("Connect to a server and choose a model first.")
            return
        if not jobs:
            self._show_error("Select an image layer first.")
            return
        total = sum(job.plane_count for job in jobs)
        self._begin_rows(total)
        self._start(classify_jobs, self.client, jobs, self.model, self.top_k.value(),
                    on_yielded=self._add_row, on_returned=partial(self._report_done, self.model),
                    on_aborted=self._report_stopped,
                    message=f"Classifying {total} plane(s) with {self.model}...",
                    _progress={"total": total, "desc": "bioclass"})

    def _start(self, function, *args, on_returned=None, on_yielded=None, on_aborted=None, message: str,
               **kwargs) -> None:
        """Run `function` in a napari worker thread; its signals come back on the GUI thread."""
        self.status.setText(message)
        self._set_busy(True)
        self.worker = start_worker(function, *args, returned=on_returned, yielded=on_yielded, aborted=on_aborted,
                                   errored=self._on_error, finished=self._on_finished, **kwargs)

    def _begin_rows(self, total: int) -> None:
        """An empty table and progress bar; total 0 shows "busy" until the count is known."""
        self.rows = []
        self.table.clear_rows()
        self.progress.setRange(0, total)
        self.progress.setValue(0)

    def _fill_models(self, models, select: str = "") -> None:
        self.model_box.clear()
        for model in models:
            self.model_box.addItem(model_label(model), model.id)
            tooltip = "labels: " + ", ".join(model.labels)
            self.model_box.setItemData(self.model_box.count() - 1, tooltip, Qt.ItemDataRole.ToolTipRole)
        if select and self.model_box.findData(select) >= 0:
            self.model_box.setCurrentIndex(self.model_box.findData(select))
        self._succeeded(f"Connected to {self.client.address}: {len(models)} model(s).")

    def _add_row(self, job_and_row) -> None:
        job, row = job_and_row
        self._show_row(row)
        store_rows(job.layer, [row])
        self.refresh_overlay()

    def _add_folder_row(self, count_or_row) -> None:
        """The first value is how many rows will come; then the rows."""
        if isinstance(count_or_row, int):
            self.progress.setRange(0, count_or_row)
        else:
            self._show_row(count_or_row)

    def _show_row(self, row) -> None:
        self.rows.append(row)
        self.table.add_row(row)
        self.progress.setValue(self.progress.value() + 1)

    def _on_error(self, error: Exception) -> None:
        self._show_error(describe_error(error, self.client.address if self.client else ""))

    def _report_done(self, model: str, _=None) -> None:
        self._succeeded(f"Done with {model}: {run_summary(self.rows)}.")

    def _add_explanation(self, job, explanation) -> None:
        self.viewer.add_image(explanation.saliency, name=f"{job.name} explanation ({explanation.class_label})",
                              colormap="inferno", blending="additive", opacity=0.6, contrast_limits=(0.0, 1.0),
                              scale=job.scale, translate=job.translate,
                              metadata={"bioclass_explanation": {"method": explanation.method,
                                                                  "class": explanation.class_label,
                                                                  "slice": list(job.slice)}})
        self._succeeded(f"Explanation of {job.name}: {explanation.class_label} "
                        f"({explanation.method}, {explanation.explain_ms:.0f} ms).")

    def _show_tile_progress(self, progress) -> None:
        done, total = progress
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _add_tile_maps(self, job, model: str, result) -> None:
        for data, options, kind in map_layers(job, result, model):
            getattr(self.viewer, f"add_{kind}")(data, **options)
        self._succeeded(summary_text(job, result))

    def _report_stopped(self) -> None:
        self.status.setText(f"Stopped: {run_summary(self.rows)}.")

    def _on_finished(self) -> None:
        self.worker = None
        self._set_busy(False)

    def _succeeded(self, message: str) -> None:
        """A success: its status line, and the error notifications still on screen go (they are stale)."""
        self.status.setText(message)
        close_notifications(self.window())

    def _show_error(self, message: str) -> None:
        from napari.utils.notifications import show_error

        self.status.setText(message)
        show_error(message)

    def _set_busy(self, busy: bool) -> None:
        for push in (self.connect_button, self.classify_selected_button, self.classify_slice_button,
                     self.classify_all_button, self.explain_button, self.classify_folder_button,
                     self.classify_tiles_button):
            push.setEnabled(not busy)
        self.stop_button.setEnabled(busy)

    # ---- visible result --------------------------------------------------------------------

    def refresh_overlay(self, event=None) -> None:
        """Show the active layer's results for the slice on screen in the viewer's text overlay."""
        layer = self.viewer.layers.selection.active
        text = ""
        if image_layers([layer]):
            overlay = self.viewer.text_overlay
            text = fit_text(result_text(layer, shown_slice(layer, self.viewer.dims.point)),
                            self.viewer.canvas.size[1], overlay.font_size)
        self.viewer.text_overlay.text = text
        self.viewer.text_overlay.visible = bool(text)


def model_label(model) -> str:
    """`id — name (framework)`, without the framework twice when the name already gives it."""
    framework = f"({model.framework})"
    name = model.name if framework.lower() in model.name.lower() else f"{model.name} {framework}"
    return f"{model.id} — {name}"
