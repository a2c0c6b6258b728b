"""Batching policy: global defaults, per-card overrides, invalid options refused with the reason."""
import numpy as np
import pytest

from bioclass.errors import InvalidArgument
from bioclass.server.batching import BatchPolicy, effective_policy
from bioclass.server.cards import read_card, serving_options
from bioclass.server.settings import Settings


def with_serving(card, serving: dict):
    return card.model_copy(update={"serving": serving_options(serving)})


def test_a_card_overrides_only_what_it_names(test_zoo):
    defaults = BatchPolicy(max_batch_size=16, max_queue_delay_us=0, queue_size=64, instances=1)
    card = with_serving(read_card(test_zoo / "brightness-onnx"), {"max_batch_size": 4, "instances": 2,
                                                                  "serve_as": "onnx"})
    policy = effective_policy(defaults, card)
    assert policy == BatchPolicy(max_batch_size=4, max_queue_delay_us=0, queue_size=64, instances=2)


@pytest.mark.parametrize("serving", [{"max_batch_size": 0}, {"queue_size": "many"}, {"instances": 1.5},
                                     {"max_queue_delay_us": -1}, {"max_batch_size": True}, {"serve_as": "tflite"},
                                     {"isolation": "thread"}, {"onnx_spinning": "yes"}, {"onnx_spinning": 1}])
def test_invalid_serving_options_are_refused(serving):
    with pytest.raises(InvalidArgument, match=f"serving.{next(iter(serving))}"):
        serving_options(serving)


def test_settings_read_the_defaults_from_the_environment(monkeypatch):
    monkeypatch.setenv("BIOCLASS_MAX_BATCH_SIZE", "8")
    monkeypatch.setenv("BIOCLASS_MAX_QUEUE_DELAY_US", "500")
    settings = Settings()
    assert (settings.max_batch_size, settings.max_queue_delay_us, settings.queue_size) == (8, 500, 256)


def test_the_effective_spinning_policy_reaches_onnx_runtime(test_zoo):
    """A card's serving.onnx_spinning, else the server's setting, is what the model's session runs with:
    off (threads sleep), pass (they spin during a pass and stop when it returns) or always."""
    from bioclass.server.backends.onnx import Backend

    card = read_card(test_zoo / "brightness-onnx")
    expected = {"off": ("0", ""), "pass": ("1", "1"), "always": ("1", "")}
    for setting, (allow, stop) in expected.items():
        policy = effective_policy(BatchPolicy(onnx_spinning=setting), card)
        model = Backend().load(card, test_zoo / "brightness-onnx" / card.weights, 1, policy.onnx_spinning)
        options = model.session.get_session_options()
        assert options.get_session_config_entry("session.intra_op.allow_spinning") == allow
        entries = options.get_session_config_entry("session.force_spinning_stop") if stop else ""
        assert entries == stop
        assert model.forward(np.full((1, 3, 16, 16), 0.9, np.float32)).argmax() == 0  # bright
        assert model.lone_session is model.session  # one session unless the mode is `alone`
    assert effective_policy(BatchPolicy(onnx_spinning="always"), with_serving(card, {"onnx_spinning": False})
                            ).onnx_spinning == "off"
    assert effective_policy(BatchPolicy(), with_serving(card, {"onnx_spinning": True})).onnx_spinning == "always"
    assert effective_policy(BatchPolicy(), with_serving(card, {"onnx_spinning": "pass"})).onnx_spinning == "pass"


def test_alone_spinning_runs_a_lone_request_on_a_second_session_whose_threads_spin(test_zoo):
    """`alone`: passes under load sleep between operators (off); the model's only request in flight runs on
    a session of its own whose threads spin (always), and both give the same answer."""
    from bioclass.server.backends.onnx import Backend

    card = read_card(test_zoo / "brightness-onnx")
    model = Backend().load(card, test_zoo / "brightness-onnx" / card.weights, 2, "alone")
    assert model.lone_session is not model.session
    spins = {name: session.get_session_options().get_session_config_entry("session.intra_op.allow_spinning")
             for name, session in (("loaded", model.session), ("alone", model.lone_session))}
    assert spins == {"loaded": "0", "alone": "1"}
    batch = np.random.default_rng(0).random((3, 3, 16, 16), np.float32)
    np.testing.assert_array_equal(model.forward_alone(batch), model.forward(batch))


@pytest.mark.parametrize(("variable", "mode"), [("1", "always"), ("false", "off"), ("pass", "pass"),
                                                ("alone", "alone")])
def test_the_spinning_setting_reads_old_switches_and_modes(monkeypatch, variable, mode):
    monkeypatch.setenv("BIOCLASS_ONNX_SPINNING", variable)
    assert Settings().onnx_spinning == mode


