"""Server configuration: declared once, typed, documented, overridable by BIOCLASS_* variables."""
from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bioclass.connection import read_token_file
from bioclass.model_zoo import ZOO_DIR
from bioclass.server.allocator import DEFAULT_RETAINED_HEAP_MB
from bioclass.server.cards import SpinningMode, spinning_mode
from bioclass.server.lifecycle import default_budget_mb
from bioclass.server.sandbox import Limits


def usable_cores(cgroup: Path = Path("/sys/fs/cgroup")) -> int:
    """The cores this process may use: its CPU affinity (taskset, a container's cpuset, a Slurm
    allocation) capped by the CPU quota of the cgroup mounted at `cgroup` (docker --cpus), not every
    core of the machine; threads beyond these only take turns."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, _cgroup_quota_cores(cgroup) or cores))


def _cgroup_quota_cores(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """Cores the CPU quota of the cgroup mounted at `root` allows (as a container sees its own),
    rounded up: cgroup v2's cpu.max ("200000 100000": 2) or v1's cpu.cfs_quota_us and
    cpu.cfs_period_us. None without a quota or a cgroup file to read."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        try:
            quota, period = ((root / "cpu" / name).read_text().strip() for name in ("cpu.cfs_quota_us",
                                                                                   "cpu.cfs_period_us"))
        except OSError:
            return None
    try:
        quota_us, period_us = int(quota), int(period)
    except ValueError:  # "max": no quota
        return None
    return max(1, -(-quota_us // period_us)) if quota_us > 0 and period_us > 0 else None  # v1: -1, no quota


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def default_work_dir() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "bioclass"


class Settings(BaseSettings):
    """Every field can be set as BIOCLASS_<NAME> (lists and mappings as JSON) or by the matching `bioclass
    serve` flag (--NAME, generated from these fields; zoo_dirs: --zoo, ray_address: --ray, token: --token-file)."""

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
    max_tiles: int = Field(256, ge=1, le=65536, description="Most tiles one image makes for a model whose card "
                                                            "tiles it (RESOURCE_EXHAUSTED past it).")
    max_image_upload_bytes: int = Field(4 * 1024 ** 3, ge=1, description="Largest image file PredictTiles "
                                                                         "takes as an upload (spooled to work_dir).")
    data_roots: list[Path] = Field(default_factory=list,
                                   description="Folders whose datasets and images clients may name by server path "
                                               "(Evaluate's dataset_dir, Train's and AutoML's server_dir, "
                                               "PredictTiles' server_path); empty: none, every server path is "
                                               "refused.")
    allow_downloads: bool = Field(False, description="bioimage.io import may fetch the URLs a package names; "
                                                     "off: it reads only the package's own files.")
    inference_threads: int = Field(default_factory=usable_cores, ge=1,
                                   description="Threads each framework uses for one forward pass.")
    # Dynamic batching defaults; a card's `serving:` section overrides them per model.
    max_batch_size: int = Field(32, ge=1, description="Most images merged into one forward pass (1: no batching).")
    max_queue_delay_us: int = Field(0, ge=0, description="How long a batch that is not full waits for more "
                                                          "requests; 0 sends what is queued as soon as the model is free.")
    queue_size: int = Field(256, ge=1, description="Images a model may have waiting; beyond: RESOURCE_EXHAUSTED.")
    instances: int = Field(1, ge=1, le=16, description="Model processes per model, sharing its queue and threads.")
    max_instances: int = Field(8, ge=1, le=256, description="Most model processes one model's card may ask for "
                                                            "(serving.instances); more is refused at registration.")
    sandbox: bool = Field(True, description="Model, training and trial processes see only their model or data "
                                            "folders and a scratch folder, and no network (Landlock; see "
                                            "server/sandbox.py). false: they can read and write what the server can.")
    memory_budget_mb: int = Field(default_factory=default_budget_mb, ge=0,
                                  description="Resident memory (MiB) the server and its model processes may hold "
                                              "together; past it the least recently used idle models are unloaded "
                                              "(server/lifecycle.py). Default: half the machine's memory; 0: no "
                                              "budget.")
    model_memory_mb: int = Field(8192, ge=0, description="Private memory (heap and anonymous mappings, "
                                                         "RLIMIT_DATA) each model process may use; 0: no limit.")
    model_cpu_seconds: int = Field(600, ge=0, description="CPU seconds (all threads together) a model process may "
                                                          "spend on one load or one call before it is killed and "
                                                          "restarted; 0: no limit.")
    job_memory_mb: int = Field(0, ge=0, description="Private memory (RLIMIT_DATA) each training or AutoML trial "
                                                    "process may use; 0: no limit.")
    onnx_in_process: bool = Field(False, description="Run ONNX models in the server process (no hop to a model "
                                                     "process per pass, no crash isolation); a card's "
                                                     "serving.isolation overrides it.")
    onnx_spinning: SpinningMode = Field("alone", description="ONNX Runtime's idle threads: off (they sleep), "
                                                             "pass (they spin during a forward pass only), always "
                                                             "(they spin between passes too: the lowest latency on "
                                                             "a quiet machine, starved neighbours on a busy one) or "
                                                             "alone (always for a model's only request in flight, "
                                                             "off under load; the model is loaded twice, +7-25 % "
                                                             "of a model process's memory); a card's "
                                                             "serving.onnx_spinning overrides it.")
    retained_heap_mb: int = Field(DEFAULT_RETAINED_HEAP_MB, ge=0,
                                  description="Freed memory (MiB per allocator arena) kept for the next requests "
                                              "instead of returned to the system: large request buffers then "
                                              "reuse warm pages. 0: the C library's defaults.")
    metrics_port: int | None = Field(None, ge=0, le=65535,
                                     description="Port of the Prometheus /metrics endpoint; unset: no endpoint.")
    training_slots: int = Field(1, ge=1, description="Training jobs run at once; the others wait in the queue.")
    max_dataset_bytes: int = Field(20 * 1024 ** 3, ge=1,
                                   description="Largest size an uploaded dataset may reach once extracted.")

    # Bounds on the numbers a request or an uploaded card can set, checked before any work starts
    # (server/limits.py); a request past one is INVALID_ARGUMENT naming the setting.
    max_top_k: int = Field(1000, ge=1, description="Largest top_k of Predict, Explain and Evaluate.")
    max_stream_images: int = Field(1_000_000, ge=1, description="Most images one PredictStream or Evaluate "
                                                                "stream may send.")
    max_train_epochs: int = Field(1000, ge=1, description="Largest epochs a training request may ask for.")
    max_train_batch_size: int = Field(1024, ge=1, description="Largest batch_size a training request may ask for.")
    max_train_image_size: int = Field(1024, ge=8, description="Largest image side a training or AutoML request "
                                                              "may ask for.")
    max_job_threads: int = Field(256, ge=1, description="Most threads a training job or AutoML trial may ask for.")
    max_automl_minutes: float = Field(7 * 24 * 60, gt=0, description="Largest budget_minutes of an AutoML run.")
    max_automl_candidates: int = Field(64, ge=1, description="Most architectures, image sizes or semi-supervised "
                                                             "modes one AutoML run may list (each).")
    max_tile_size: int = Field(4096, ge=1, description="Largest tile side (and stride) a PredictTiles request "
                                                       "may ask for.")
    max_map_tiles: int = Field(250_000, ge=1, description="Most tiles one PredictTiles request may make (its "
                                                          "class map's rows x columns).")
    max_occlusion_windows: int = Field(4096, ge=1, description="Most occlusion windows (forward passes) one "
                                                               "explanation may ask for through its window and stride.")
    max_regex_length: int = Field(256, ge=1, description="Longest regular expression (group_pattern) a request "
                                                         "may send; every one runs on RE2, in linear time.")
    max_card_batch_size: int = Field(1024, ge=1, description="Largest serving.max_batch_size an uploaded card may set.")
    max_card_queue_size: int = Field(65536, ge=1, description="Largest serving.queue_size an uploaded card may set.")
    max_card_queue_delay_us: int = Field(1_000_000, ge=0, description="Largest serving.max_queue_delay_us an "
                                                                      "uploaded card may set.")

    token: str | None = Field(None, description="Bearer token every call must send (health checks excepted); "
                                                "unset: no authentication. Prefer BIOCLASS_TOKEN or token_file.")
    token_file: Path | None = Field(None, description="File holding the token (its first non-empty line).")
    admin_token: str | None = Field(None, description="Bearer token that may also upload code (RegisterModel, "
                                                      "ImportBioimageio) and call everything the token may. "
                                                      "Prefer BIOCLASS_ADMIN_TOKEN or admin_token_file.")
    admin_token_file: Path | None = Field(None, description="File holding the admin token (its first non-empty line).")
    allow_uploads: bool = Field(False, description="Every caller the token admits may upload models, without "
                                                   "the admin token. Without any token, a server bound to a "
                                                   "loopback address allows uploads anyway (its callers are local).")
    read_only: bool = Field(False, description="Serve predictions but refuse uploads, training and repository changes.")
    tls_cert: Path | None = Field(None, description="PEM certificate chain; with tls_key, the port speaks TLS.")
    tls_key: Path | None = Field(None, description="PEM private key of tls_cert.")
    tls_client_ca: Path | None = Field(None, description="PEM CA that client certificates must chain to (mutual TLS).")

    # Scale-out on a Ray cluster (server/ray/); unset: one machine, and Ray is never imported.
    ray_address: str | None = Field(None, description="Ray cluster to serve models and run AutoML trials on "
                                                       "('auto' or HOST:PORT); unset: no Ray.")
    ray_replicas: int = Field(1, ge=1, description="Replicas per model on the cluster; a card's serving.replicas "
                                                   "or serving.autoscaling overrides it.")
    ray_autoscaling: dict | None = Field(None, description="Autoscaling for models whose card sets neither "
                                                           "serving.replicas nor serving.autoscaling, as JSON: "
                                                           '{"min_replicas": 1, "max_replicas": 4, ...}.')
    ray_replica_cpus: float = Field(1.0, gt=0, description="CPUs each replica reserves; a card's "
                                                           "serving.ray_actor_options overrides it.")
    ray_model_store: str | None = Field(None, description="fsspec URL or shared path where the server publishes "
                                                          "the models it serves for the replicas to fetch; unset: "
                                                          "replicas read the server's folders (mount them on every node).")
    ray_trials: int = Field(2, ge=1, description="AutoML trials run at once on the cluster.")
    ray_retry_s: float = Field(30.0, gt=0, le=3600, description="Seconds a request whose replica died is sent "
                                                                 "again before it fails UNAVAILABLE.")
    ray_deploy_timeout_s: float = Field(120.0, gt=0, le=24 * 3600, description="Seconds a model's replicas have "
                                                                               "to start on the cluster.")
    ray_trial_cpus: float = Field(1.0, gt=0, description="CPUs each AutoML trial reserves on the cluster.")

    # What a request leaves at 0 or a job may take, for a user to tune.
    top_k: int = Field(5, ge=1, le=1000, description="Labels a prediction lists when the request asks for 0.")
    evaluation_top_k: int = Field(2, ge=1, le=1000, description="k of the top-k accuracy when an evaluation "
                                                               "asks for 0.")
    max_augmentation_previews: int = Field(32, ge=1, le=1024, description="Most images one augmentation "
                                                                          "preview returns.")
    model_load_timeout_s: float = Field(600.0, gt=0, le=24 * 3600, description="Seconds a model process has to "
                                                                              "load its model (then: failed).")
    job_cancel_grace_s: float = Field(10.0, ge=0, le=3600, description="Seconds a cancelled training job or "
                                                                       "trial has to stop before it is killed.")

    @field_validator("onnx_spinning", mode="before")
    @classmethod
    def _spinning_switch(cls, value):
        """BIOCLASS_ONNX_SPINNING=1 (or true / false / 0), as the setting was once a switch."""
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "0", "false", "no"):
            value = value.lower() in ("1", "true", "yes")
        return spinning_mode(value)

    @model_validator(mode="after")
    def _security_consistent(self) -> "Settings":
        if self.token_file and not self.token:
            self.token = read_token_file(self.token_file, "token_file")
        if self.admin_token_file and not self.admin_token:
            self.admin_token = read_token_file(self.admin_token_file, "admin_token_file")
        if self.token and self.admin_token and self.token == self.admin_token:
            raise ValueError("admin_token must differ from token")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("tls_cert and tls_key go together")
        if self.tls_client_ca and not self.tls_cert:
            raise ValueError("tls_client_ca needs tls_cert and tls_key")
        if self.instances > self.max_instances:
            raise ValueError(f"instances ({self.instances}) exceeds max_instances ({self.max_instances})")
        return self

    @property
    def uploads_open(self) -> bool:
        """Whether callers without the admin token may upload code: --allow-uploads, or a local server
        without any token (what one user runs on their own machine)."""
        return self.allow_uploads or (not self.token and not self.admin_token and is_loopback(self.host))

    @property
    def sandbox_limits(self) -> Limits:
        return Limits(self.sandbox, self.model_memory_mb, self.model_cpu_seconds, self.job_memory_mb)

    @property
    def model_store(self) -> Path:
        """Where RegisterModel writes; served like a zoo folder."""
        return self.work_dir / "models"
