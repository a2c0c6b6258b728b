"""The server sizes its thread pools by the cores it may use, not by the machine's count."""
import os

import pytest

from bioclass.server.settings import Settings, _cgroup_quota_cores, usable_cores


@pytest.fixture
def one_core():
    """This process pinned to one core, as `taskset -c 0` or a one-core Slurm job would."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    yield
    os.sched_setaffinity(0, before)


def test_pinned_process_gets_threads_for_its_own_cores(one_core):
    assert usable_cores() == 1
    assert Settings().inference_threads == 1


def test_the_cores_are_the_affinity_capped_by_the_cgroup_quota(tmp_path):
    affinity = len(os.sched_getaffinity(0))
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert usable_cores(tmp_path) == affinity  # no quota: every core of the affinity
    (tmp_path / "cpu.max").write_text("100000 100000\n")
    assert usable_cores(tmp_path) == 1  # a one-core quota caps it
    (tmp_path / "cpu.max").write_text(f"{(affinity + 4) * 100000} 100000\n")
    assert usable_cores(tmp_path) == affinity  # a quota above the affinity does not raise it


@pytest.mark.parametrize("cpu_max, cores", [("max 100000\n", None), ("200000 100000\n", 2),
                                            ("150000 100000\n", 2), ("50000 100000\n", 1), ("", None),
                                            ("abc 100000\n", None), ("100000 0\n", None)])
def test_cgroup_v2_quota_rounds_up_to_whole_cores(tmp_path, cpu_max, cores):
    (tmp_path / "cpu.max").write_text(cpu_max)
    assert _cgroup_quota_cores(tmp_path) == cores


@pytest.mark.parametrize("quota, period, cores", [("-1", "100000", None), ("300000", "100000", 3),
                                                  ("25000", "100000", 1), ("x", "100000", None)])
def test_cgroup_v1_quota_rounds_up_to_whole_cores(tmp_path, quota, period, cores):
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text(quota + "\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text(period + "\n")
    assert _cgroup_quota_cores(tmp_path) == cores


def test_no_cgroup_files_mean_no_quota(tmp_path):
    assert _cgroup_quota_cores(tmp_path) is None
