"""The "Token and TLS" fields under the server address: what `bioclass.Client` needs to reach a
server started with --token-file and/or --tls-cert (see bioclass.connection).

Empty fields fall back to the Python client's environment variables (BIOCLASS_TOKEN, BIOCLASS_TLS_CA,
BIOCLASS_TLS_CERT, BIOCLASS_TLS_KEY), which the placeholders show. The token is typed in a password
field and kept only in memory.
"""
from __future__ import annotations

import os

from qtpy.QtWidgets import QFormLayout, QLineEdit, QWidget

from napari_bioclass.controls import file_row

ENVIRONMENT = {"token": "BIOCLASS_TOKEN", "ca_cert": "BIOCLASS_TLS_CA", "client_cert": "BIOCLASS_TLS_CERT",
               "client_key": "BIOCLASS_TLS_KEY"}


class ConnectionFields(QWidget):
    """Token (password field), CA certificate, client certificate and key; hidden until asked for."""

    def __init__(self):
        super().__init__()
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText(_placeholder("token", "no token"))
        form.addRow("Token", self.token)
        pem = "Choose a PEM file"
        self.ca_cert = file_row(form, "TLS CA", _placeholder("ca_cert", "plaintext (no TLS)"), pem)
        self.client_cert = file_row(form, "Client cert", _placeholder("client_cert", "none (mutual TLS only)"), pem)
        self.client_key = file_row(form, "Client key", _placeholder("client_key", "none (mutual TLS only)"), pem)

    def client_options(self) -> dict[str, str | None]:
        """Keyword arguments for `bioclass.Client`; None lets the client read the environment."""
        fields = {"token": self.token, "ca_cert": self.ca_cert, "client_cert": self.client_cert,
                  "client_key": self.client_key}
        return {name: field.text().strip() or None for name, field in fields.items()}


def _placeholder(option: str, otherwise: str) -> str:
    variable = ENVIRONMENT[option]
    return f"${variable}" if os.environ.get(variable) else otherwise
