"""Server configuration: declared once, typed, documented, overridable by BIOCLASS_* variables."""
from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from bioclass.model_zoo import ZOO_DIR


def default_work_dir() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "bioclass"


class Settings(BaseSettings):
    """Every field can be set as BIOCLASS_<NAME> (lists as JSON) or by the matching CLI flag."""

    model_config = SettingsConfigDict(env_prefix="BIOCLASS_", extra="ignore")

    host: str = Field("127.0.0.1", description="Address to bind; 127.0.0.1 keeps the server local.")
    port: int = Field(50051, ge=0, le=65535, description="gRPC port; 0 picks a free one.")
    zoo_dirs: list[Path] = Field(default_factory=lambda: [ZOO_DIR],
                                 description="Read-only zoo folders, one model per sub-folder.")
    work_dir: Path = Field(default_factory=default_work_dir,
                           description="Writable folder: registered models (models/), jobs, datasets.")
    max_message_bytes: int = Field(64 * 1024 * 1024, ge=1024 * 1024,
                                   description="Largest gRPC message accepted or sent; stream anything larger.")
    max_upload_bytes: int = Field(2 * 1024 ** 3, ge=1, description="Largest model file RegisterModel accepts.")
    max_pixels: int = Field(50_000_000, ge=1, description="Largest image (width x height) decoded.")
    data_roots: list[Path] = Field(default_factory=list,
                                   description="Folders whose datasets clients may name by server path; empty: any.")
    inference_threads: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1,
                                   description="Threads each framework uses for one forward pass.")

    @property
    def model_store(self) -> Path:
        """Where RegisterModel writes; served like a zoo folder."""
        return self.work_dir / "models"
