"""The energy meter: NVML at the pynvml function boundary, RAPL on a fake sysfs tree, the estimate
(on the real process clock, or on a scripted ``CpuClock`` passed in), and too-short windows."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pynvml
import pytest

from pipelines.resources.energy import (PROCESS_CPU_CLOCK, TOO_SHORT, CpuClock, EnergyMeterResource,
                                       measure_energy)


class FakeGpus:
    """Scripted pynvml functions: each call of the energy counter returns the next value."""

    def __init__(self, counters_mj: list[list[int]] | None, watts: list[float]) -> None:
        self.counters = [list(c) for c in counters_mj] if counters_mj else None
        self.watts = watts
        self.shutdowns = 0

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(pynvml, "nvmlInit", lambda: None)
        monkeypatch.setattr(pynvml, "nvmlShutdown", self._shutdown)
        monkeypatch.setattr(pynvml, "nvmlDeviceGetCount", lambda: len(self.watts))
        monkeypatch.setattr(pynvml, "nvmlDeviceGetHandleByIndex", lambda i: i)
        monkeypatch.setattr(pynvml, "nvmlDeviceGetTotalEnergyConsumption", self._energy)
        monkeypatch.setattr(pynvml, "nvmlDeviceGetPowerUsage", lambda h: self.watts[h] * 1000)

    def _shutdown(self) -> None:
        self.shutdowns += 1

    def _energy(self, handle: int) -> int:
        if self.counters is None:
            raise pynvml.NVMLError_NotSupported()
        return self.counters[handle].pop(0)


def test_nvml_energy_counters_of_all_gpus(monkeypatch):
    gpus = FakeGpus([[10_000, 15_000], [1_000, 3_500]], watts=[300.0, 300.0])
    gpus.install(monkeypatch)
    with measure_energy("batch", prefer="auto") as reading:
        pass
    assert reading.method == "nvml"
    assert reading.joules == pytest.approx(5.0 + 2.5)
    assert "gpu0 energy counter 5.000 J" in reading.detail and "gpu1" in reading.detail
    assert gpus.shutdowns == 1


def test_nvml_counter_missing_uses_power_times_time(monkeypatch):
    FakeGpus(None, watts=[250.0]).install(monkeypatch)
    with measure_energy("batch") as reading:
        time.sleep(0.25)
    assert reading.method == "nvml"
    assert reading.joules == pytest.approx(250.0 * reading.seconds)
    assert "power×time" in reading.detail and "no energy counter" in reading.detail


def test_nvml_counter_that_did_not_tick_uses_power_times_time(monkeypatch):
    FakeGpus([[42_000, 42_000]], watts=[100.0]).install(monkeypatch)
    with measure_energy("tiny window") as reading:
        pass
    assert reading.joules == pytest.approx(100.0 * reading.seconds)
    assert "counter did not tick" in reading.detail


def test_nvml_counter_wrap(monkeypatch):
    FakeGpus([[2**64 - 1_000, 2_000]], watts=[1.0]).install(monkeypatch)
    with measure_energy("wrap") as reading:
        pass
    assert reading.joules == pytest.approx(3.0)


def test_nvml_library_missing_falls_through_to_rapl_then_estimate(monkeypatch, tmp_path):
    def no_library():
        raise pynvml.NVMLError_LibraryNotFound()

    monkeypatch.setattr(pynvml, "nvmlInit", no_library)
    with measure_energy("no gpu", rapl_root=tmp_path / "absent", cpu_watts=10.0) as reading:
        sum(i * i for i in range(200_000))
    assert reading.method == "estimate"
    assert reading.joules > 0
    assert "NVML Shared Library Not Found" in reading.detail
    assert "rapl: no readable" in reading.detail


def _rapl_zone(root: Path, name: str, energy_uj: int, max_uj: int, zone_name: str = "package-0") -> Path:
    zone = root / name
    zone.mkdir(parents=True)
    (zone / "energy_uj").write_text(f"{energy_uj}\n")
    (zone / "max_energy_range_uj").write_text(f"{max_uj}\n")
    (zone / "name").write_text(zone_name + "\n")
    return zone


def test_rapl_sums_package_zones_and_handles_wrap(tmp_path):
    pkg0 = _rapl_zone(tmp_path, "intel-rapl:0", 1_000_000, 262_143_328_850)
    pkg1 = _rapl_zone(tmp_path, "intel-rapl:1", 262_143_000_000, 262_143_328_850, "package-1")
    sub = _rapl_zone(tmp_path, "intel-rapl:0:0", 5, 10**9, "core")
    psys = _rapl_zone(tmp_path, "intel-rapl:2", 0, 10**12, "psys")
    with measure_energy("cpu", prefer="rapl", rapl_root=tmp_path) as reading:
        (pkg0 / "energy_uj").write_text("4000000\n")  # +3 J
        (pkg1 / "energy_uj").write_text("671150\n")   # wrapped: +1 J
        (sub / "energy_uj").write_text("999999999\n")  # sub-zone: already inside the package
        (psys / "energy_uj").write_text("999999999\n")  # platform: would double count
    assert reading.method == "rapl"
    assert reading.joules == pytest.approx(4.0)
    assert "intel-rapl:0 3.000 J" in reading.detail


def test_unreadable_rapl_falls_back_to_estimate(tmp_path):
    zone = tmp_path / "intel-rapl:0"
    zone.mkdir()
    (zone / "energy_uj").mkdir()  # reading it fails like a root-only file would
    with measure_energy("cpu", prefer="rapl", rapl_root=tmp_path) as reading:
        pass
    assert reading.method == "estimate"


def test_estimate_is_cpu_seconds_times_watts_plus_idle():
    cpu = CpuClock(iter([100.0, 102.5]).__next__, resolution=1e-9)
    with measure_energy("est", prefer="estimate", cpu_watts=12.0, idle_watts=2.0,
                        cpu_clock=cpu) as reading:
        pass
    assert reading.method == "estimate" and not reading.too_short
    assert reading.joules == pytest.approx(2.5 * 12.0 + 2.0 * reading.seconds)
    assert "2.500 CPU-s" in reading.detail and "12 W per busy core" in reading.detail


def test_the_process_clock_sees_a_step_of_a_few_milliseconds():
    """os.times() counts 10 ms ticks: a short step read 0 J. The process CPU clock does not."""
    assert PROCESS_CPU_CLOCK.resolution <= 1e-6
    with measure_energy("short step", prefer="estimate") as reading:
        sum(i * i for i in range(2_000))  # well under a millisecond of CPU
    assert reading.joules > 0 and not reading.too_short
    assert "CPU-s" in reading.detail and TOO_SHORT not in reading.detail


def test_a_window_below_the_clock_resolution_says_so_instead_of_reading_zero():
    frozen = CpuClock(lambda: 41.0, resolution=0.01)  # a coarse clock that did not tick
    with measure_energy("instant", prefer="estimate", cpu_clock=frozen) as reading:
        pass
    assert reading.method == "estimate" and reading.too_short and reading.joules == 0
    assert reading.detail.startswith(f"estimate: {TOO_SHORT}: no CPU time read")
    assert "resolution (0.01 s)" in reading.detail
    with measure_energy("instant", prefer="estimate", idle_watts=3.0, cpu_clock=frozen,
                        wall_clock=iter([0.0, 0.5]).__next__) as idle:
        pass
    assert idle.too_short and idle.seconds == 0.5 and idle.joules == pytest.approx(1.5)


def test_rapl_counters_that_did_not_tick_say_so(tmp_path):
    _rapl_zone(tmp_path, "intel-rapl:0", 1_000_000, 262_143_328_850)
    with measure_energy("cpu", prefer="rapl", rapl_root=tmp_path) as reading:
        pass
    assert reading.method == "rapl" and reading.too_short and reading.joules == 0
    assert TOO_SHORT in reading.detail


def test_reading_is_filled_even_when_the_block_raises():
    with pytest.raises(RuntimeError):
        with measure_energy("boom", prefer="estimate") as reading:
            raise RuntimeError("boom")
    assert reading.method == "estimate" and reading.seconds >= 0


def test_unknown_preference_is_refused():
    with pytest.raises(ValueError, match="prefer must be one of"):
        with measure_energy("x", prefer="gpu"):
            pass


def test_resource_passes_its_config():
    meter = EnergyMeterResource(cpu_watts_per_core=7.0, prefer="estimate", idle_watts=0.5).meter()
    assert (meter.cpu_watts, meter.prefer, meter.idle_watts) == (7.0, "estimate", 0.5)
    one_cpu_second = CpuClock(iter([0.0, 1.0]).__next__, resolution=1e-9)
    with replace(meter, idle_watts=0.0, cpu_clock=one_cpu_second).measure("asset") as reading:
        pass
    assert reading.label == "asset" and reading.joules == pytest.approx(7.0)
    with EnergyMeterResource(cpu_watts_per_core=7.0, prefer="estimate").measure("asset") as real:
        sum(i * i for i in range(20_000))
    assert real.label == "asset" and real.method == "estimate" and real.joules > 0
    assert "7 W per busy core" in real.detail
