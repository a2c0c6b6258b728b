"""Model and job processes as sandboxes: what an uploaded model may touch once its process confines itself.

A TorchScript model is a program (its forward can call torch.from_file on any path), and so can be a
graph with custom ops; registration runs it. So each model process (session.py) and each training or
AutoML trial process (training/worker.py) confines itself before it reads a byte of the model:

- files (Landlock): read-only what Python and the frameworks import from (the interpreter's prefixes,
  sys.path, /usr, /lib*, a few /etc files the loader reads, /sys, its own /proc entry, /dev/null and
  /dev/urandom), the model's folder read-only, one private scratch folder read-write (TMPDIR points
  there), and /dev/shm only to open existing blocks by name (the parent's inputs), not to list,
  create or remove them. Everything else, /etc/passwd included, fails with PermissionError.
- network: TCP bind and connect denied (Landlock ABI 4+), abstract Unix sockets and signals to
  processes outside the sandbox denied (ABI 6+), and a fresh network namespace (no interfaces but a
  down loopback) where the process may create one.
- no new privileges (PR_SET_NO_NEW_PRIVS: no setuid gain, and Landlock's precondition).
- memory: RLIMIT_DATA, which counts private writable memory (heap, anonymous mappings) and not the
  address space that libraries map or reserve without writing (torch's CUDA build reserves a great
  deal with inaccessible mappings): RLIMIT_AS would count all of it, so a bound tight enough to
  matter would break loading (bench/README.md, "Sandbox" has VmData beside VmSize). CPU: a budget of CPU seconds per call (RLIMIT_CPU raised before
  each call), so a model that spins forever is killed by SIGXCPU and restarted, not left burning cores.
- death with the parent: PR_SET_PDEATHSIG SIGKILL, then a check that the parent is still the process
  that spawned it (it may have died before the call).

Landlock is called through ctypes (three syscalls and two structs) rather than a PyPI binding: the
`landlock` and `landlockpy` packages cover fewer ABI versions (no network rules or scopes in the
releases we looked at) and would add a dependency to every model process for ~60 lines. On a kernel
without Landlock the rest still applies and the server logs one warning (`warn_if_unsupported`).
"""
from __future__ import annotations

import ctypes
import errno
import functools
import logging
import os
import resource
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

# linux/landlock.h (syscall numbers are the same on every architecture)
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_ABI1 = (1 << 13) - 1  # execute .. make_sym
_FS_BY_ABI = {1: _FS_ABI1, 2: _FS_ABI1 | 1 << 13, 3: _FS_ABI1 | 3 << 13, 5: _FS_ABI1 | 7 << 13}  # refer, truncate, ioctl_dev
IOCTL_DEV = 1 << 15
_FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | 1 << 14 | IOCTL_DEV  # what a rule on a file (not a folder) may grant
EVERYTHING = (1 << 16) - 1
_NET_TCP = 0b11  # bind, connect
_SCOPES = 0b11  # abstract unix sockets, signals
READ_ONLY = READ_FILE | READ_DIR
SYSTEM = READ_ONLY | EXECUTE
OPEN_EXISTING = READ_FILE | WRITE_FILE
_PR_SET_PDEATHSIG, _PR_SET_NO_NEW_PRIVS = 1, 38
_CLONE_NEWNET = 0x40000000

_LINUX = sys.platform.startswith("linux")
_LIBC = ctypes.CDLL(None, use_errno=True)
_LIBC.syscall.restype = ctypes.c_long


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


@dataclass(frozen=True)
class Limits:
    """What every sandboxed process gets (Settings: sandbox, model_memory_mb, model_cpu_seconds, job_memory_mb)."""

    enabled: bool = True
    memory_mb: int = 0  # RLIMIT_DATA of a model process; 0: none
    cpu_seconds: int = 0  # CPU seconds one load or call of a model process may use; 0: none
    job_memory_mb: int = 0  # RLIMIT_DATA of a training or trial process; 0: none


@dataclass(frozen=True)
class View:
    """The paths a process may reach besides the system's: each with its Landlock rights."""

    paths: dict[str, int] = field(default_factory=dict)


LIMITS = Limits()  # set once at server start (configure); passed to each child as an argument


def configure(limits: Limits) -> None:
    global LIMITS
    LIMITS = limits


def abi_version() -> int:
    """The kernel's Landlock ABI, 0 where it has none (or Landlock is disabled)."""
    if not _LINUX:
        return 0
    version = _LIBC.syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(0, version)


@functools.cache
def warn_if_unsupported() -> bool:
    """Log once (in the server) when model processes cannot confine their files and network."""
    if LIMITS.enabled and not _LINUX:
        log.warning("model processes are not sandboxed on %s: they can read and write what the server can",
                    sys.platform)
        return False
    if LIMITS.enabled and abi_version() < 1:
        log.warning("this kernel has no Landlock: model processes can read and write what the server can "
                    "(memory, CPU and parent-death limits still apply)")
        return False
    return True


def confine(view: View, limits: Limits, parent_pid: int, memory_mb: int) -> None:
    """Apply the sandbox to this process, which must not yet have read anything untrusted."""
    die_with_parent(parent_pid)
    if memory_mb:
        limit_memory(memory_mb)
    if not _LINUX:
        return  # the limits only (warn_if_unsupported said so)
    _prctl(_PR_SET_NO_NEW_PRIVS, 1)
    if not limits.enabled:
        return
    _new_network_namespace()
    restrict(View({**system_paths(), **view.paths}))


def die_with_parent(parent_pid: int) -> None:
    """The kernel kills this process when the *thread* that started it ends: model sessions start in
    executor threads that live until their sessions are closed (runner.py), jobs on the event loop."""
    if _LINUX:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the call above
        os._exit(1)


def limit_memory(megabytes: int) -> None:
    cap = megabytes * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    resource.setrlimit(resource.RLIMIT_DATA, (_lower(cap, hard), _lower(cap, hard)))


def allow_cpu_seconds(seconds: int) -> None:
    """Let the next call use `seconds` more CPU time (all threads together); beyond it SIGXCPU kills."""
    if not seconds:
        return
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = int(used.ru_utime + used.ru_stime) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (_lower(spent + seconds, hard), hard))


def _lower(value: int, hard: int) -> int:
    return value if hard == resource.RLIM_INFINITY else min(value, hard)


def scratch_env(scratch: Path) -> None:
    """Point every temporary-file and cache convention at the scratch folder."""
    import tempfile

    for name in ("TMPDIR", "TEMP", "TMP", "MPLCONFIGDIR", "KERAS_HOME", "CUDA_CACHE_PATH"):
        os.environ[name] = str(scratch)
    tempfile.tempdir = str(scratch)
    os.environ["JOBLIB_MULTIPROCESSING"] = "0"  # its semaphores live in /dev/shm, which stays closed to new files


def system_paths() -> dict[str, int]:
    """What Python, its packages and the frameworks read to import and run, read-only."""
    import bioclass
    import bioclass.server

    code = {sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path, *bioclass.__path__, *bioclass.server.__path__}
    paths = {path: SYSTEM for path in code if path}
    paths.update({path: SYSTEM for path in ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/opt")})
    paths.update({path: READ_ONLY for path in (
        "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/fonts", "/sys", "/proc/self",
        "/proc/cpuinfo", "/proc/meminfo", "/proc/stat", "/proc/driver/nvidia", "/dev/urandom", "/dev/random")})
    paths["/dev/null"] = paths["/dev/zero"] = OPEN_EXISTING
    paths.update({str(device): OPEN_EXISTING | IOCTL_DEV for device in Path("/dev").glob("nvidia*")})
    paths.setdefault("/dev/shm", OPEN_EXISTING)
    return paths


def restrict(view: View) -> int:
    """Confine this process's files and network to `view`; the Landlock ABI used (0: none)."""
    abi = abi_version()
    if abi < 1:
        return 0
    handled_fs = _FS_BY_ABI[max(v for v in _FS_BY_ABI if v <= abi)]
    attr = _RulesetAttr(handled_fs, _NET_TCP if abi >= 4 else 0, _SCOPES if abi >= 6 else 0)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    ruleset = _check(_LIBC.syscall(_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0)))
    try:
        for path, rights in view.paths.items():
            _add_path(ruleset, path, rights & handled_fs)
        _check(_LIBC.syscall(_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)))
    finally:
        os.close(ruleset)
    return abi


def _add_path(ruleset: int, path: str, rights: int) -> None:
    try:
        descriptor = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # absent here (no /lib32, no GPU): nothing to allow
    try:
        if not Path(f"/proc/self/fd/{descriptor}").is_dir():
            rights &= _FILE_RIGHTS
        rule = _PathBeneath(rights, descriptor)
        _check(_LIBC.syscall(_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), ctypes.c_uint32(0)))
    finally:
        os.close(descriptor)


def _new_network_namespace() -> None:
    """No interfaces at all (UDP and raw sockets too), where the process may unshare; else Landlock's TCP rules."""
    if _LIBC.unshare(_CLONE_NEWNET) != 0 and ctypes.get_errno() not in (errno.EPERM, errno.EINVAL, errno.ENOSYS):
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET)")


def _prctl(option: int, value: int) -> None:
    _check(_LIBC.prctl(option, ctypes.c_ulong(value), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)))


def _check(result: int) -> int:
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    return result
