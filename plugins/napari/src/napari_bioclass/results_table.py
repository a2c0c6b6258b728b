"""The widget's table of results: one line per classified plane."""
from __future__ import annotations

from qtpy.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from napari_bioclass.classify import Row

COLUMNS = ("layer", "slice", "label", "probability", "top-k")


class ResultsTable(QTableWidget):
    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setVisible(False)

    def add_row(self, row: Row) -> None:
        position = self.rowCount()
        self.insertRow(position)
        probability = "" if row.error else f"{row.probability:.3f}"
        cells = (row.layer, row.slice_text, "error" if row.error else row.label, probability, row.top_text)
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            self.setItem(position, column, item)
        self.scrollToBottom()

    def clear_rows(self) -> None:
        self.setRowCount(0)

    def texts(self, column: str) -> list[str]:
        """A column's cell texts, top to bottom (for copying out and for tests)."""
        index = COLUMNS.index(column)
        return [self.item(position, index).text() for position in range(self.rowCount())]
