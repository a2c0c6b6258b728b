"""Bounds from Settings on every number a request or an uploaded card can set, checked before any work
starts: a request past one is INVALID_ARGUMENT naming the bound and the setting that moves it."""
from __future__ import annotations

from typing import TYPE_CHECKING

from bioclass.errors import InvalidArgument
from bioclass.server.cards import ModelCard
from bioclass.server.settings import Settings

if TYPE_CHECKING:
    from bioclass.server.automl.request import AutoMLConfig
    from bioclass.server.training.config import DatasetSpec, TrainConfig


def check(value: float, bound: float, what: str, setting: str) -> None:
    if value > bound:
        raise InvalidArgument(f"{what} is {value}, above the server's bound of {bound} "
                              f"(setting {setting}, BIOCLASS_{setting.upper()})")


def check_top_k(top_k: int, settings: Settings) -> None:
    check(top_k, settings.max_top_k, "top_k", "max_top_k")


def check_stream_length(count: int, settings: Settings) -> None:
    check(count, settings.max_stream_images, "the number of images in the stream", "max_stream_images")


def check_occlusion(card: ModelCard, options, settings: Settings) -> None:
    """An explanation's window and stride: each occlusion window costs a forward pass."""
    from bioclass.server.explain import occlusion

    height, width = card.input.size
    window, stride = occlusion.default_window(height, width, options.window, options.stride)
    count = len(occlusion.windows(height, width, window, stride))
    check(count, settings.max_occlusion_windows, f"the number of occlusion windows (window {window}, stride {stride})",
          "max_occlusion_windows")


def check_group_pattern(pattern: str, settings: Settings) -> None:
    check(len(pattern), settings.max_regex_length, "the length of group_pattern", "max_regex_length")


def check_training(config: "TrainConfig", dataset: "DatasetSpec", settings: Settings) -> None:
    """A Train request's numbers (already range-checked by TrainConfig)."""
    check(config.epochs, settings.max_train_epochs, "epochs", "max_train_epochs")
    check(config.batch_size, settings.max_train_batch_size, "batch_size", "max_train_batch_size")
    check(max(config.image_size), settings.max_train_image_size, "the image size", "max_train_image_size")
    check(config.threads, settings.max_job_threads, "threads", "max_job_threads")
    check_group_pattern(dataset.group_pattern, settings)


def check_automl(request: "AutoMLConfig", settings: Settings) -> None:
    """An AutoML request's numbers, before its dataset is read."""
    check(request.budget_minutes, settings.max_automl_minutes, "budget_minutes", "max_automl_minutes")
    for name in ("architectures", "image_sizes", "semi_supervised_modes"):
        check(len(getattr(request, name)), settings.max_automl_candidates, f"the number of {name}",
              "max_automl_candidates")
    check(max(request.image_sizes, default=0), settings.max_train_image_size, "an image size",
          "max_train_image_size")
    check(request.threads, settings.max_job_threads, "threads", "max_job_threads")
    check_group_pattern(request.dataset.group_pattern, settings)


def check_card(card: ModelCard, settings: Settings) -> None:
    """The serving numbers of an uploaded card (serving.instances: the sandbox's bound)."""
    for name, setting in (("max_batch_size", "max_card_batch_size"), ("queue_size", "max_card_queue_size"),
                          ("max_queue_delay_us", "max_card_queue_delay_us")):
        value = getattr(card.serving, name)
        if value is not None:
            check(value, getattr(settings, setting), f"serving.{name}", setting)
