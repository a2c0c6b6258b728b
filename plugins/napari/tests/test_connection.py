"""The widget's "Token and TLS" fields against a real server that requires a token over TLS."""
from __future__ import annotations

import numpy as np
import pytest

from napari_bioclass.widget import ClassifierWidget
from server_process import ServerProcess
from tls_support import make_pki

MODEL = "brightness-onnx"
TOKEN = "napari-test-token"
WAIT_MS = 20_000


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("napari-pki"))


@pytest.fixture(scope="module")
def tls_token_server(napari_zoo, pki, tmp_path_factory):
    (pki / "token").write_text(TOKEN + "\n")
    process = ServerProcess("--no-builtin", "--zoo", str(napari_zoo), "--token-file", str(pki / "token"),
                            "--tls-cert", str(pki / "server.pem"), "--tls-key", str(pki / "server.key"),
                            work_dir=tmp_path_factory.mktemp("napari-tls-work"))
    yield process
    process.stop()


@pytest.fixture
def widget(napari_viewer, tls_token_server, pki, monkeypatch) -> ClassifierWidget:
    for variable in ("BIOCLASS_TOKEN", "BIOCLASS_TLS_CA", "BIOCLASS_TLS_CERT", "BIOCLASS_TLS_KEY"):
        monkeypatch.delenv(variable, raising=False)  # only the fields count
    widget = ClassifierWidget(napari_viewer)
    napari_viewer.window.add_dock_widget(widget)
    widget.address.setText(tls_token_server.address)
    widget.connection.ca_cert.setText(str(pki / "ca.pem"))
    return widget


def connect(widget, qtbot, token: str) -> None:
    widget.connection.token.setText(token)
    widget.connect_button.click()
    qtbot.waitUntil(lambda: not widget.busy, timeout=WAIT_MS)


def test_fields_are_hidden_until_asked_for_and_the_token_is_masked(widget):
    assert widget.connection.isHidden()
    widget.connection_button.click()
    assert not widget.connection.isHidden()
    assert widget.connection.token.echoMode() == widget.connection.token.EchoMode.Password
    assert widget.connection.ca_cert.placeholderText() == "plaintext (no TLS)"


def test_right_token_and_ca_connect_and_classify(widget, qtbot):
    connect(widget, qtbot, TOKEN)
    assert widget.status.text().startswith(f"Connected to {widget.address.text()}: 1 model(s)")
    widget.model_box.setCurrentIndex(widget.model_box.findData(MODEL))
    widget.viewer.add_image(np.full((16, 16), 255, np.uint8), name="white")
    widget.classify_all_button.click()  # a stream: the token goes with it too
    qtbot.waitUntil(lambda: not widget.busy, timeout=WAIT_MS)
    assert widget.table.texts("label") == ["bright"]


@pytest.mark.parametrize("token", ["wrong", ""], ids=["wrong", "missing"])
def test_wrong_or_missing_token_is_a_message_in_the_panel(widget, qtbot, token):
    from napari.utils.notifications import notification_manager

    connect(widget, qtbot, token)
    text, details = widget.status.text().split("\n")
    assert text == ("The server refused the token. Give the token `bioclass serve` was started with "
                    "(--token-file): set BIOCLASS_TOKEN, or the Token field in napari.")
    assert details.startswith("Details: UNAUTHENTICATED: missing or wrong token")
    assert notification_manager.records[-1].message == widget.status.text()
    assert widget.model_box.count() == 0


def test_without_the_ca_the_server_is_not_trusted(widget, qtbot):
    widget.connection.ca_cert.setText("")
    widget.connection.client_cert.setText("")
    connect(widget, qtbot, TOKEN)  # plaintext to a TLS port
    text, details = widget.status.text().split("\n")
    assert text == (f"Cannot reach the bioclass server at {widget.address.text()}. Is `bioclass serve` running "
                    f"there? If it serves TLS, give its CA certificate (BIOCLASS_TLS_CA, or TLS CA in napari).")
    assert details.startswith("Details: UNAVAILABLE: ")


def test_an_unreadable_certificate_file_is_a_message(widget, qtbot, tmp_path):
    widget.connection.ca_cert.setText(str(tmp_path / "no-such-ca.pem"))
    connect(widget, qtbot, TOKEN)
    assert widget.status.text().startswith("Cannot read a TLS file: ")
    assert "no-such-ca.pem" in widget.status.text() and widget.client is None and not widget.busy
