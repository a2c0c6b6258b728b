"""Bounds from Settings on every number a request or an uploaded card can set, checked before any work
starts: a request past one is INVALID_ARGUMENT naming the bound and the setting that moves it."""
from __future__ import annotations

from bioclass.errors import InvalidArgument
from bioclass.server.cards import ModelCard
from bioclass.server.settings import Settings


def check(value: float, bound: float, what: str, setting: str) -> None:
    if value > bound:
        raise InvalidArgument(f"{what} is {value}, above the server's bound of {bound} "
                              f"(setting {setting}, BIOCLASS_{setting.upper()})")


def check_top_k(top_k: int, settings: Settings) -> None:
    check(top_k, settings.max_top_k, "top_k", "max_top_k")


def check_stream_length(count: int, settings: Settings) -> None:
    check(count, settings.max_stream_images, "the number of images in the stream", "max_stream_images")


def check_group_pattern(pattern: str, settings: Settings) -> None:
    check(len(pattern), settings.max_regex_length, "the length of group_pattern", "max_regex_length")


def check_training(config: dict, dataset: dict, settings: Settings) -> None:
    """A Train request's numbers (already range-checked by TrainConfig)."""
    check(config.get("epochs", 0), settings.max_train_epochs, "epochs", "max_train_epochs")
    check(config.get("batch_size", 0), settings.max_train_batch_size, "batch_size", "max_train_batch_size")
    check(max(config.get("image_size") or (0,)), settings.max_train_image_size, "the image size",
          "max_train_image_size")
    check(config.get("threads", 0), settings.max_job_threads, "threads", "max_job_threads")
    check_group_pattern(dataset.get("group_pattern", ""), settings)


def check_automl(request: dict, settings: Settings) -> None:
    """An AutoML request's numbers, before its dataset is read."""
    check(request.get("budget_minutes", 0.0), settings.max_automl_minutes, "budget_minutes", "max_automl_minutes")
    for name in ("architectures", "image_sizes", "semi_supervised_modes"):
        check(len(request.get(name) or ()), settings.max_automl_candidates, f"the number of {name}",
              "max_automl_candidates")
    check(max(request.get("image_sizes") or (0,)), settings.max_train_image_size, "an image size",
          "max_train_image_size")
    check(request.get("threads", 0), settings.max_job_threads, "threads", "max_job_threads")
    check_group_pattern((request.get("dataset") or {}).get("group_pattern", ""), settings)


def check_card(card: ModelCard, settings: Settings) -> None:
    """The serving numbers of an uploaded card (serving.instances: the sandbox's bound)."""
    for name, setting in (("max_batch_size", "max_card_batch_size"), ("queue_size", "max_card_queue_size"),
                          ("max_queue_delay_us", "max_card_queue_delay_us")):
        value = card.serving.get(name, 0)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            check(value, getattr(settings, setting), f"serving.{name}", setting)
