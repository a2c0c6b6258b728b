"""Batching policy: global defaults, per-card overrides, invalid options refused with the reason."""
import pytest

from bioclass.errors import InvalidArgument
from bioclass.server.batching import BatchPolicy
from bioclass.server.settings import Settings


def test_a_card_overrides_only_what_it_names():
    defaults = BatchPolicy(max_batch_size=16, max_queue_delay_us=0, queue_size=64, instances=1)
    policy = defaults.for_card({"max_batch_size": 4, "instances": 2, "serve_as": "onnx"})
    assert policy == BatchPolicy(max_batch_size=4, max_queue_delay_us=0, queue_size=64, instances=2)


@pytest.mark.parametrize("serving", [{"max_batch_size": 0}, {"queue_size": "many"}, {"instances": 1.5},
                                     {"max_queue_delay_us": -1}, {"max_batch_size": True}, {"serve_as": "tflite"},
                                     {"isolation": "thread"}, {"onnx_spinning": "yes"}])
def test_invalid_serving_options_are_refused(serving):
    with pytest.raises(InvalidArgument, match=f"serving.{next(iter(serving))}"):
        BatchPolicy().for_card(serving)


def test_settings_read_the_defaults_from_the_environment(monkeypatch):
    monkeypatch.setenv("BIOCLASS_MAX_BATCH_SIZE", "8")
    monkeypatch.setenv("BIOCLASS_MAX_QUEUE_DELAY_US", "500")
    settings = Settings()
    assert (settings.max_batch_size, settings.max_queue_delay_us, settings.queue_size) == (8, 500, 256)


def test_the_effective_spinning_policy_reaches_onnx_runtime(test_zoo):
    """A card's serving.onnx_spinning, else the server's setting, is what the model's session runs with."""
    from bioclass.server.backends.onnx import Backend
    from bioclass.server.cards import read_card
    from bioclass.server.session import with_spinning

    card = read_card(test_zoo / "brightness-onnx")
    for setting in (False, True):
        policy = BatchPolicy(onnx_spinning=setting).for_card(card.serving)
        model = Backend().load(with_spinning(card, policy.onnx_spinning), test_zoo / "brightness-onnx" / card.weights, 1)
        options = model.session.get_session_options()
        assert options.get_session_config_entry("session.intra_op.allow_spinning") == ("1" if setting else "0")
    assert BatchPolicy(onnx_spinning=True).for_card({"onnx_spinning": False}).onnx_spinning is False
