"""The widget's table of results: one line per classified plane or file.

What is read first comes first: label and probability, then the top-k, then the slice and the
image's name, last and elided in the middle (its full name is the cell's tooltip). Columns grow to
their widest cell as rows arrive; the name takes what is left. (Qt's ResizeToContents mode measures
every row again on each insert, which makes a folder of a thousand images take minutes.)
"""
from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from napari_bioclass.classify import Row

COLUMNS = ("label", "probability", "top-k", "slice", "image")
SKIPPED = "skipped"  # the label of a plane or file that could not be classified
CELL_PADDING_PX = 16  # a cell's margins around its text


class ResultsTable(QTableWidget):
    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setWordWrap(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setVisible(False)
        self.resizeColumnsToContents()  # the headers' widths

    def add_row(self, row: Row) -> None:
        position = self.rowCount()
        self.insertRow(position)
        if row.error:
            cells = ((SKIPPED, ""), ("", ""), (row.skipped.reason, row.error))
        else:
            cells = ((row.label, ""), (f"{row.probability:.3f}", ""), (row.top_text, ""))
        cells += ((row.slice_text, ""), (row.layer, ""))
        for column, (text, tooltip) in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(tooltip or text)
            self.setItem(position, column, item)
            if column < len(COLUMNS) - 1:
                self._widen(column, text)
        self.scrollToBottom()

    def _widen(self, column: int, text: str) -> None:
        needed = self.fontMetrics().horizontalAdvance(text) + CELL_PADDING_PX
        if needed > self.columnWidth(column):
            self.setColumnWidth(column, needed)

    def clear_rows(self) -> None:
        self.setRowCount(0)
        self.resizeColumnsToContents()

    def texts(self, column: str) -> list[str]:
        """A column's cell texts, top to bottom (for copying out and for tests)."""
        index = COLUMNS.index(column)
        return [self.item(position, index).text() for position in range(self.rowCount())]
