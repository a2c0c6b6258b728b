"""Status messages stay under what gRPC clients accept in headers: between the 8 KiB soft limit and
the hard limit a client drops a status at random, so a message echoing a long input must be cut."""
from bioclass.server.grpc.errors import MESSAGE_WIRE_BYTES, _wire_bytes, one_line


def test_a_short_message_is_kept_on_one_line():
    assert one_line("bad card:\n  line 3\tcolumn 2") == "bad card: line 3 column 2"
    assert one_line("  \n") == "error"


def test_an_echoed_long_path_is_cut_in_the_middle_keeping_start_and_end():
    message = f"dataset_dir: /data/root/{'n' * 10_000} is not a folder on the server"
    cut = one_line(message)
    assert _wire_bytes(cut) <= MESSAGE_WIRE_BYTES
    assert cut.startswith("dataset_dir: /data/root/nnn")
    assert cut.endswith("nnn is not a folder on the server")
    assert " ... " in cut


def test_non_ascii_counts_at_its_percent_encoded_size():
    cut = one_line("é" * 5000 + " end")
    assert _wire_bytes(cut) <= MESSAGE_WIRE_BYTES
    assert len(cut) < 400
    assert cut.endswith("é end")
