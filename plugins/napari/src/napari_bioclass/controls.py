"""Small Qt building blocks the tabs share."""
from __future__ import annotations

from qtpy.QtWidgets import QFileDialog, QFormLayout, QHBoxLayout, QLineEdit, QPushButton, QWidget


def button(text: str, slot, layout=None) -> QPushButton:
    """A push button calling `slot()` (without Qt's `checked` argument), added to `layout` if given."""
    push = QPushButton(text)
    push.clicked.connect(lambda _=False: slot())
    if layout is not None:
        layout.addWidget(push)
    return push


def close_notifications(window: QWidget) -> None:
    """Close napari's notification toasts in `window` (they are children of its canvas)."""
    from napari._qt.dialogs.qt_notification import NapariQtNotification  # napari exports no public handle

    for toast in window.findChildren(NapariQtNotification):
        toast.close()


def folder_row(form: QFormLayout, label: str, placeholder: str) -> QLineEdit:
    """A path field with a "…" button opening a folder chooser, as one form row."""
    return _path_row(form, label, placeholder,
                     lambda edit: QFileDialog.getExistingDirectory(edit, "Choose a folder", edit.text()))


def file_row(form: QFormLayout, label: str, placeholder: str, caption: str) -> QLineEdit:
    """A path field with a "…" button opening a file chooser, as one form row."""
    return _path_row(form, label, placeholder,
                     lambda edit: QFileDialog.getOpenFileName(edit, caption, edit.text())[0])


def _path_row(form: QFormLayout, label: str, placeholder: str, choose) -> QLineEdit:
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    row = QHBoxLayout()
    row.addWidget(edit)
    button("…", lambda: _fill(edit, choose(edit)), row)
    form.addRow(label, row)
    return edit


def _fill(edit: QLineEdit, path: str) -> None:
    if path:
        edit.setText(path)
