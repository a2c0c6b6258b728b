"""The Train tab: train a classifier on a class-per-folder folder through the server's Training API.

The job runs on the server (in its own process); this tab uploads the folder (or names a folder
on the server), watches the job in a worker thread (`training_run.run_training`), shows progress
and log, can cancel, and refreshes the model chooser when the model is ready. The server's API
has no AutoML call, so there is no AutoML here.
"""
from __future__ import annotations

from qtpy.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                            QLineEdit, QPlainTextEdit, QProgressBar, QSpinBox, QVBoxLayout, QWidget)

from bioclass.training import ARCHITECTURES
from napari_bioclass.classify import describe_error
from napari_bioclass.controls import button, folder_row
from napari_bioclass.threads import start_worker
from napari_bioclass.training_run import Queued, TrainingRequest, outcome, progress_of, run_training

# (TrainConfig field, label, maximum, the server's default shown when the box says 0)
NUMBERS = (("epochs", "Epochs", 1000, "10"), ("batch_size", "Batch size", 4096, "32"),
           ("image_size", "Image size", 1024, "224 px"), ("max_seconds", "Time limit (s)", 86400, "none"),
           ("threads", "CPU threads", 256, "all cores"))


class TrainTab(QWidget):
    """`owner` is the ClassifierWidget: its client runs the job and its model list gets the result."""

    def __init__(self, owner):
        super().__init__()
        self.owner = owner
        self.worker = None
        self.job_id = ""
        layout = QVBoxLayout(self)
        layout.addWidget(self._dataset_box())
        layout.addWidget(self._recipe_box())
        row = QHBoxLayout()
        self.start_button = button("Start training", self.start, row)
        self.cancel_button = button("Cancel", self.cancel, row)
        layout.addLayout(row)
        self.progress = QProgressBar()
        self.status = QLabel("No training job.")
        self.status.setWordWrap(True)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        for widget in (self.progress, self.status, self.log):
            layout.addWidget(widget)
        self._set_running(False)

    def _dataset_box(self) -> QGroupBox:
        box = QGroupBox("Dataset: DIR/<class>/<image>")
        form = QFormLayout(box)
        self.dataset_edit = folder_row(form, "Folder", "A class-per-folder folder")
        self.use_annotated_button = button("Use the Annotate tab's folder", self.use_annotated, None)
        form.addRow(self.use_annotated_button)
        self.on_server = QCheckBox("The folder is on the server (send its path, no upload)")
        form.addRow(self.on_server)
        return box

    def _recipe_box(self) -> QGroupBox:
        box = QGroupBox("Recipe (0 = the server's default)")
        form = QFormLayout(box)
        self.arch = QComboBox()
        self.arch.setEditable(True)
        self.arch.addItems(ARCHITECTURES)
        form.addRow("Architecture", self.arch)
        self.numbers: dict[str, QSpinBox] = {}
        for name, label, maximum, default in NUMBERS:
            box_ = QSpinBox()
            box_.setRange(0, maximum)
            box_.setSpecialValueText(f"default ({default})")
            self.numbers[name] = box_
            form.addRow(label, box_)
        self.learning_rate = QDoubleSpinBox()
        self.learning_rate.setDecimals(5)
        self.learning_rate.setRange(0.0, 10.0)
        self.learning_rate.setSingleStep(1e-4)
        self.learning_rate.setSpecialValueText("find it (learning-rate finder)")
        form.addRow("Learning rate", self.learning_rate)
        self.model_id = QLineEdit()
        self.model_id.setPlaceholderText("default: <architecture>-<job id>")
        form.addRow("Model id", self.model_id)
        self.overwrite = QCheckBox("Replace a model trained before with this id")
        form.addRow(self.overwrite)
        return box

    # ---- actions ---------------------------------------------------------------------------

    def use_annotated(self) -> None:
        annotate = self.owner.annotate_tab
        if annotate.session is not None:
            self.dataset_edit.setText(str(annotate.session.out))

    def request(self) -> TrainingRequest:
        values = {name: box.value() for name, box in self.numbers.items()}
        values["learning_rate"] = self.learning_rate.value()
        values["overwrite"] = self.overwrite.isChecked()
        return TrainingRequest(dataset=self.dataset_edit.text().strip(), arch=self.arch.currentText().strip(),
                               on_server=self.on_server.isChecked(), model_id=self.model_id.text().strip(),
                               image_size=values.pop("image_size"), config=values)

    def start(self) -> None:
        client = self.owner.client
        if client is None:
            self._say("Connect to a server first.")
            return
        request = self.request()
        if not request.dataset or not request.arch:
            self._say("Choose a dataset folder and an architecture first.")
            return
        if self.log.toPlainText():  # the previous jobs' lines stay above, for comparing
            self.log.appendPlainText("")
        self.log.appendPlainText(f"---- {request.arch} on {request.dataset} ----")
        self.progress.setRange(0, 0)
        self.job_id = ""
        self._set_running(True)
        self._say("Uploading the dataset..." if not request.on_server else "Queueing the job...")
        self.worker = start_worker(run_training, client, request, yielded=self._on_update, returned=self._on_done,
                                   errored=self._on_error, finished=self._on_finished)

    def cancel(self) -> None:
        """Ask the server to cancel; the watch stream then ends with the job cancelled."""
        if self.job_id and self.owner.client is not None:
            self._say(f"Cancelling {self.job_id}...")
            start_worker(self.owner.client.training.cancel, self.job_id, errored=self._on_error)

    # ---- worker signals --------------------------------------------------------------------

    def _on_update(self, update) -> None:
        if isinstance(update, Queued):
            self.job_id = update.job_id
            self.cancel_button.setEnabled(True)
            self._say(f"Job {update.job_id} queued.")
            return
        for line in update.log:
            self.log.appendPlainText(line)
        value, maximum, text = progress_of(update)
        self.progress.setRange(0, maximum)
        self.progress.setValue(value)
        self._say(f"Job {update.job_id}: {text}")

    def _on_done(self, job) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if job.model_id else 0)
        self._say(outcome(job))
        if job.model_id:
            self.owner.refresh_models(select=job.model_id)

    def _on_error(self, error: Exception) -> None:
        client = self.owner.client
        self._say(describe_error(error, client.address if client else ""))

    def _on_finished(self) -> None:
        self.worker = None
        if self.progress.maximum() == 0:  # still the "busy" bar: the job never reported steps
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
        self._set_running(False)

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running and bool(self.job_id))

    @property
    def busy(self) -> bool:
        return self.worker is not None

    def _say(self, text: str) -> None:
        self.status.setText(text)

