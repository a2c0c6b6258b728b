"""Token files: the first non-empty line is the token; a file without one stops the start with one line."""
import subprocess
import sys

import grpc
import pytest

from bioclass.client import Client
from bioclass.errors import BioclassError
from bioclass.server.settings import Settings
from models import solid_image
from server_process import ServerProcess


def serve(*args: str, work_dir) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bioclass.cli.main", "serve", "--port", "0", "--no-builtin",
                           "--work-dir", str(work_dir), *args], capture_output=True, text=True, timeout=60)


def test_a_blank_first_line_does_not_turn_authentication_off(test_zoo, tmp_path):
    (tmp_path / "token").write_text("\n   \n  the-token  \nsecond line\n")
    server = ServerProcess("--no-builtin", "--zoo", str(test_zoo), "--token-file", str(tmp_path / "token"),
                           work_dir=tmp_path / "work")
    try:
        with Client(server.address, token="") as anonymous:
            with pytest.raises(BioclassError) as refused:
                anonymous.models()
            assert refused.value.code == grpc.StatusCode.UNAUTHENTICATED
        with Client(server.address, token="the-token") as client:
            assert client.predict(solid_image(0.9), "brightness-onnx").label == "bright"
    finally:
        server.stop()


@pytest.mark.parametrize("content", ["", "\n\n", "  \n\t\n"])
@pytest.mark.parametrize("flag", ["--token-file", "--admin-token-file"])
def test_an_empty_or_blank_token_file_is_a_one_line_startup_error(tmp_path, content, flag):
    (tmp_path / "token").write_text(content)
    done = serve(flag, str(tmp_path / "token"), work_dir=tmp_path / "work")
    assert done.returncode == 1 and done.stdout == ""
    field = flag.removeprefix("--").replace("-", "_")
    assert done.stderr == (f"bioclass: error: invalid setting: {field} {tmp_path / 'token'} holds no token "
                           "(the file is empty or blank)\n")


def test_a_missing_token_file_and_equal_tokens_are_one_line_errors(tmp_path):
    done = serve("--token-file", str(tmp_path / "absent"), work_dir=tmp_path / "work")
    assert done.returncode == 1
    assert done.stderr == (f"bioclass: error: invalid setting: cannot read token_file {tmp_path / 'absent'}: "
                           "No such file or directory\n")
    (tmp_path / "token").write_text("same\n")
    done = serve("--token-file", str(tmp_path / "token"), "--admin-token-file", str(tmp_path / "token"),
                 work_dir=tmp_path / "work")
    assert done.returncode == 1
    assert done.stderr == "bioclass: error: invalid setting: admin_token must differ from token\n"


def test_token_file_first_non_empty_line_in_settings(tmp_path):
    (tmp_path / "token").write_text("\r\n\r\n  abc \r\n")
    assert Settings(token_file=tmp_path / "token").token == "abc"
