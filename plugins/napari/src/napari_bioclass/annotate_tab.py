"""The Annotate tab: sort a folder of images into classes with one key press per image.

The state lives in `annotation.AnnotationSession`; this tab shows its current image in one napari
image layer, binds the keys on that layer (1..9 assign, u or Ctrl+Z undo, s skip, a accept the
suggestion) and mirrors the session in buttons and a progress line. Suggestions are computed in a
worker thread (`suggestions.py`).
"""
from __future__ import annotations

from pathlib import Path

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (QAbstractItemView, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QListWidget,
                            QListWidgetItem, QVBoxLayout, QWidget)

from napari_bioclass.annotation import AnnotationSession
from napari_bioclass.classify import describe_error
from napari_bioclass.controls import button, folder_row
from napari_bioclass.suggestions import Suggestion, centroid_suggestions, model_suggestions, read_image
from napari_bioclass.threads import start_worker

LAYER_NAME = "bioclass annotate"
DEFAULT_CLASSES = ("class 1", "class 2")
KEYS_HELP = "Keys on the image: 1-9 class, s skip, u or Ctrl+Z undo, a accept the suggestion."
FROM_FEATURES, FROM_MODEL = "image features (nearest centroid, local)", "the model chosen above (server)"


class AnnotateTab(QWidget):
    """`owner` is the ClassifierWidget: its client and model serve the model-based suggestions."""

    def __init__(self, viewer, owner=None):
        super().__init__()
        self.viewer = viewer
        self.owner = owner
        self.session: AnnotationSession | None = None
        self.suggestions: dict[str, Suggestion] = {}
        self.feature_cache: dict = {}
        self.worker = None
        self.hidden_layers: list = []  # layers hidden while labelling, shown again at the end
        layout = QVBoxLayout(self)
        layout.addWidget(self._folders_box())
        layout.addWidget(self._classes_box())
        layout.addWidget(self._label_box())
        layout.addWidget(self._suggest_box())
        layout.addStretch()
        self._refresh()

    # ---- layout ----------------------------------------------------------------------------

    def _folders_box(self) -> QGroupBox:
        box = QGroupBox("Images")
        form = QFormLayout(box)
        self.source_edit = folder_row(form, "Unsorted images", "Folder of images to label")
        self.out_edit = folder_row(form, "Write dataset to", "Folder for OUT/<class>/<image>")
        self.open_button = button("Open (resumes OUT/annotations.json)", self.open_folder)
        form.addRow(self.open_button)
        return box

    def _classes_box(self) -> QGroupBox:
        box = QGroupBox("Classes (double-click to rename; key = position)")
        layout = QVBoxLayout(box)
        self.class_list = QListWidget()
        self.class_list.setMaximumHeight(110)
        self.class_list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.set_class_names(DEFAULT_CLASSES)
        self.class_list.itemChanged.connect(self.apply_classes)
        self.class_list.model().rowsMoved.connect(self.apply_classes)
        layout.addWidget(self.class_list)
        row = QHBoxLayout()
        row.addWidget(button("Add class", self.add_class))
        row.addWidget(button("Remove class", self.remove_class))
        layout.addLayout(row)
        return box

    def _label_box(self) -> QGroupBox:
        box = QGroupBox("Label")
        layout = QVBoxLayout(box)
        self.current_label = QLabel()
        self.current_label.setWordWrap(True)
        self.class_buttons_row = QHBoxLayout()
        self.class_buttons: list = []  # one QPushButton per class, keys 1..9
        row = QHBoxLayout()
        self.undo_button = button("Undo (u)", self.undo)
        self.skip_button = button("Skip (s)", self.skip)
        row.addWidget(self.undo_button)
        row.addWidget(self.skip_button)
        self.progress_label = QLabel()
        self.message = QLabel(KEYS_HELP)
        self.message.setWordWrap(True)
        layout.addWidget(self.current_label)
        layout.addLayout(self.class_buttons_row)
        layout.addLayout(row)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.message)
        return box

    def _suggest_box(self) -> QGroupBox:
        box = QGroupBox("Suggestions (least certain first)")
        form = QFormLayout(box)
        self.suggest_source = QComboBox()
        self.suggest_source.addItems([FROM_FEATURES, FROM_MODEL])
        form.addRow("From", self.suggest_source)
        row = QHBoxLayout()
        self.suggest_button = button("Suggest labels", self.suggest)
        self.accept_button = button("Accept suggestion (a)", self.accept_suggestion)
        row.addWidget(self.suggest_button)
        row.addWidget(self.accept_button)
        form.addRow(row)
        self.suggestion_label = QLabel("No suggestions yet.")
        self.suggestion_label.setWordWrap(True)
        form.addRow(self.suggestion_label)
        return box

    # ---- classes ---------------------------------------------------------------------------

    def class_names(self) -> list[str]:
        return [self.class_list.item(i).text() for i in range(self.class_list.count())]

    def set_class_names(self, names) -> None:
        self.class_list.blockSignals(True)
        self.class_list.clear()
        for name in names:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            self.class_list.addItem(item)
        self.class_list.blockSignals(False)

    def add_class(self) -> None:
        names = self.class_names()
        number = len(names) + 1
        while f"class {number}" in names:
            number += 1
        self.set_class_names([*names, f"class {number}"])
        self.apply_classes()

    def remove_class(self) -> None:
        row = self.class_list.currentRow()
        names = self.class_names()
        if 0 <= row < len(names):
            del names[row]
            self.set_class_names(names)
            self.apply_classes()

    def apply_classes(self, *_) -> None:
        """Give the list's classes to the session; a refused change puts the session's back."""
        if self.session is not None:
            try:
                self.session.set_classes(self.class_names())
            except ValueError as exc:
                self._say(str(exc))
                self.set_class_names(self.session.classes)
        self._refresh()

    # ---- folder ----------------------------------------------------------------------------

    def open_folder(self, source: str | Path | None = None, out: str | Path | None = None) -> None:
        """Start (or resume) a session; classes come from OUT/annotations.json when it exists."""
        source = Path(source or self.source_edit.text().strip())
        out = Path(out or self.out_edit.text().strip() or source.with_name(source.name + "-sorted"))
        self.source_edit.setText(str(source))
        self.out_edit.setText(str(out))
        try:
            resumed = (out / "annotations.json").is_file()
            self.session = AnnotationSession(source, out, None if resumed else self.class_names())
        except (OSError, ValueError) as exc:
            self._say(f"Cannot open {source}: {exc}")
            return
        self.set_class_names(self.session.classes)
        self.suggestions = {}
        self._say(f"{'Resumed' if resumed else 'Opened'} {len(self.session.names)} image(s). {KEYS_HELP}")
        self._refresh()

    # ---- labelling -------------------------------------------------------------------------

    def assign(self, index: int) -> None:
        """Label the current image with the class at `index` (0-based), then show the next."""
        if self._ready() and index < len(self.session.classes):
            name = self.session.assign(index)
            self._say(f"{name} → {self.session.labels[name]}")
            self._refresh()

    def skip(self) -> None:
        if self._ready():
            self._say(f"Skipped {self.session.skip()}")
            self._refresh()

    def undo(self) -> None:
        if self.session is not None:
            name = self.session.undo()
            self._say(f"Undid {name}" if name else "Nothing to undo.")
            self._refresh()

    def accept_suggestion(self) -> None:
        suggestion = self.suggestions.get(self.session.current) if self._ready() else None
        if suggestion is None:
            self._say("No suggestion for this image: press Suggest labels.")
        elif suggestion.label in self.session.classes:
            self.assign(self.session.classes.index(suggestion.label))

    def _ready(self) -> bool:
        if self.session is None:
            self._say("Open a folder of images first.")
        elif self.session.current is None:
            self._say("Every image is labelled.")
        return self.session is not None and self.session.current is not None

    # ---- suggestions -----------------------------------------------------------------------

    def suggest(self) -> None:
        """Suggest labels for the unlabelled images in a worker; the least certain comes first."""
        if self.session is None or self.worker is not None:
            return
        if self.suggest_source.currentText() == FROM_MODEL:
            if self.owner is None or self.owner.client is None or not self.owner.model:
                self._say("Connect to a server and choose a model first.")
                return
            function, args = model_suggestions, (self.owner.client, self.owner.model, self.session)
        else:
            function, args = centroid_suggestions, (self.session, self.feature_cache)
        self._say("Computing suggestions...")
        self.suggest_button.setEnabled(False)
        self.worker = start_worker(function, *args, returned=self._show_suggestions, errored=self._on_error,
                                   finished=self._on_finished)

    def _show_suggestions(self, suggestions: list[Suggestion]) -> None:
        self.suggestions = {s.name: s for s in suggestions}
        self.session.set_order([s.name for s in suggestions])
        self._say(f"{len(suggestions)} suggestion(s), least certain first; press a to accept one.")
        self._refresh()

    def _on_error(self, error: Exception) -> None:
        address = self.owner.client.address if self.owner and self.owner.client else ""
        self._say(describe_error(error, address) if not isinstance(error, ValueError) else str(error))

    def _on_finished(self) -> None:
        self.worker = None
        self.suggest_button.setEnabled(True)

    # ---- view ------------------------------------------------------------------------------

    def _refresh(self) -> None:
        self._rebuild_class_buttons()
        session = self.session
        current = session.current if session else None
        self.progress_label.setText(str(session.progress) if session else "No folder open.")
        self.current_label.setText(f"Image: {current}" if current else
                                   ("All images are labelled." if session else ""))
        suggestion = self.suggestions.get(current)
        self.suggestion_label.setText(f"Suggested: {suggestion.label} ({suggestion.probability:.2f})"
                                      if suggestion else "No suggestion for this image.")
        for push in (*self.class_buttons, self.skip_button, self.accept_button):
            push.setEnabled(current is not None)
        self.undo_button.setEnabled(bool(session and session.history))
        self._show(current)

    def _rebuild_class_buttons(self) -> None:
        names = self.class_names()[:9]
        if [b.property("class_name") for b in self.class_buttons] == names:
            return
        for old in self.class_buttons:
            self.class_buttons_row.removeWidget(old)
            old.hide()  # deleteLater waits for the event loop; hidden at once
            old.deleteLater()
        self.class_buttons = []
        for index, name in enumerate(names):
            push = button(f"{index + 1}: {name}", lambda i=index: self.assign(i), self.class_buttons_row)
            push.setProperty("class_name", name)
            self.class_buttons.append(push)

    def _show(self, name: str | None) -> None:
        """The current image in the annotation layer (made again if its kind changes), alone on the
        canvas and zoomed to fill it; the other layers come back when every image is labelled."""
        if name is None:
            self._show_hidden_layers()
            return
        data = read_image(self.session.path(name))
        layer = self.layer
        rgb = data.ndim == 3 and data.shape[-1] in (3, 4)
        if layer is not None and layer.rgb == rgb and layer.data.shape == data.shape:
            layer.data = data
            layer.reset_contrast_limits()
        else:
            if layer is not None:
                self.viewer.layers.remove(layer)
            layer = self.viewer.add_image(data, name=LAYER_NAME, rgb=rgb)
            self._bind_keys(layer)
            self.viewer.fit_to_view(layers=[layer])
        self._hide_other_layers(layer)
        layer.metadata["bioclass_annotate"] = {"image": name}
        self.viewer.layers.selection.active = layer  # its key bindings act while it is active

    def _hide_other_layers(self, layer) -> None:
        for other in self.viewer.layers:
            if other is not layer and other.visible:
                other.visible = False
                self.hidden_layers.append(other)

    def _show_hidden_layers(self) -> None:
        for other in self.hidden_layers:
            if other in self.viewer.layers:
                other.visible = True
        self.hidden_layers = []

    @property
    def layer(self):
        return self.viewer.layers[LAYER_NAME] if LAYER_NAME in self.viewer.layers else None

    def _bind_keys(self, layer) -> None:
        """On the layer, not the viewer: the active layer's keys win over the viewer's (napari
        binds 1 and 2 to image modes), and the bindings go when the layer does."""
        actions = {"s": self.skip, "u": self.undo, "Control-Z": self.undo, "a": self.accept_suggestion}
        actions.update({str(i + 1): (lambda i=i: self.assign(i)) for i in range(9)})
        for key, action in actions.items():
            layer.bind_key(key, lambda _layer, action=action: action(), overwrite=True)

    def _say(self, text: str) -> None:
        self.message.setText(text)

