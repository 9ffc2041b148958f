"""Measure the energy of a block of work: NVML on GPUs, RAPL on CPUs, else a labelled estimate.

    with measure_energy("answers batch") as reading:
        run_the_batch()
    reading.joules, reading.seconds, reading.method, reading.detail

Sources are tried in order (``prefer="auto"``: nvml → rapl → estimate) and the first that works
is used for the whole window; every reading says which one it was and why the others were not.
"""

from __future__ import annotations

import importlib
import os
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import ContextManager, Iterator

from dagster import ConfigurableResource

DEFAULT_CPU_WATTS_PER_CORE = 15.0
DEFAULT_RAPL_ROOT = Path("/sys/class/powercap")
METHODS = ("nvml", "rapl", "estimate")
_ORDER = {"auto": ("nvml", "rapl", "estimate"), "nvml": ("nvml", "estimate"),
          "rapl": ("rapl", "estimate"), "estimate": ("estimate",)}
_NVML_COUNTER_WRAP = 2**64  # nvmlDeviceGetTotalEnergyConsumption is an unsigned long long (mJ)


@dataclass
class EnergyReading:
    """One measured window; filled in when the ``measure_energy`` block exits."""

    label: str
    joules: float = 0.0
    seconds: float = 0.0
    method: str = "estimate"
    detail: str = ""


class _PowerSampler(threading.Thread):
    """Samples each GPU's power draw (mW) at start, every ``interval`` seconds, and at stop."""

    def __init__(self, nvml: ModuleType, handles: list, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self._nvml, self._handles, self._interval = nvml, handles, interval
        self._stop_event = threading.Event()
        self.samples: list[list[float]] = [[] for _ in handles]
        self._sample()

    def _sample(self) -> None:
        for i, handle in enumerate(self._handles):
            try:
                self.samples[i].append(self._nvml.nvmlDeviceGetPowerUsage(handle) / 1000.0)
            except self._nvml.NVMLError:
                pass

    def run(self) -> None:
        while not self._stop_event.wait(self._interval):
            self._sample()

    def stop(self) -> list[float | None]:
        """Stop sampling; the mean watts of each GPU (None where power is not readable)."""
        self._stop_event.set()
        self.join()
        self._sample()
        return [sum(s) / len(s) if s else None for s in self.samples]


class _NvmlSource:
    """All visible NVIDIA GPUs: total-energy counters, else power × time."""

    method = "nvml"

    def __init__(self, nvml: ModuleType | None) -> None:
        self._nvml = nvml
        self.why_not = ""

    def _counter(self, handle) -> int | None:
        try:
            return int(self._nvml.nvmlDeviceGetTotalEnergyConsumption(handle))
        except self._nvml.NVMLError:  # NotSupported before Volta, or not permitted
            return None

    def start(self) -> bool:
        if self._nvml is None:
            try:
                self._nvml = importlib.import_module("pynvml")
            except ImportError:
                self.why_not = "nvml: nvidia-ml-py is not installed"
                return False
        nv = self._nvml
        try:
            nv.nvmlInit()
        except nv.NVMLError as exc:  # NVMLError_LibraryNotFound when there is no GPU driver
            self.why_not = f"nvml: {exc}"
            return False
        try:
            self._handles = [nv.nvmlDeviceGetHandleByIndex(i) for i in range(nv.nvmlDeviceGetCount())]
        except nv.NVMLError as exc:
            self._handles, self.why_not = [], f"nvml: {exc}"
        if not self._handles:
            self.why_not = self.why_not or "nvml: no GPU visible"
            nv.nvmlShutdown()
            return False
        self._start_mj = [self._counter(h) for h in self._handles]
        self._sampler = _PowerSampler(nv, self._handles)
        self._sampler.start()
        return True

    def finish(self, seconds: float) -> tuple[float, str]:
        end_mj = [self._counter(h) for h in self._handles]
        watts = self._sampler.stop()
        self._nvml.nvmlShutdown()
        joules, parts = 0.0, []
        for i, (start, end, mean_w) in enumerate(zip(self._start_mj, end_mj, watts)):
            if start is not None and end is not None and end != start:
                delta_mj = end - start if end > start else end + _NVML_COUNTER_WRAP - start
                joules += delta_mj / 1000.0
                parts.append(f"gpu{i} energy counter {delta_mj / 1000.0:.3f} J")
            elif mean_w is not None:
                why = "no energy counter" if start is None or end is None else "counter did not tick"
                joules += mean_w * seconds
                parts.append(f"gpu{i} power×time {mean_w:.1f} W × {seconds:.3f} s ({why})")
            else:
                parts.append(f"gpu{i} neither energy nor power readable: 0 J")
        return joules, "nvml: " + "; ".join(parts)


class _RaplSource:
    """Linux powercap RAPL package zones (``intel-rapl:N``; ``psys`` skipped to avoid double counting)."""

    method = "rapl"

    def __init__(self, root: Path) -> None:
        self._root = Path(root)
        self.why_not = ""

    @staticmethod
    def _read_int(path: Path) -> int | None:
        try:
            return int(path.read_text().strip())
        except (OSError, ValueError):
            return None

    def start(self) -> bool:
        self._zones: list[tuple[Path, int, int | None]] = []
        for zone in sorted(self._root.glob("intel-rapl:*")):
            if not re.fullmatch(r"intel-rapl:\d+", zone.name):
                continue
            name_file = zone / "name"
            if name_file.is_file() and name_file.read_text().strip() == "psys":
                continue
            energy = self._read_int(zone / "energy_uj")
            if energy is not None:
                self._zones.append((zone, energy, self._read_int(zone / "max_energy_range_uj")))
        if not self._zones:
            self.why_not = f"rapl: no readable {self._root}/intel-rapl:*/energy_uj"
            return False
        return True

    def finish(self, seconds: float) -> tuple[float, str]:
        total_uj, parts = 0, []
        for zone, start, max_range in self._zones:
            end = self._read_int(zone / "energy_uj")
            delta = 0 if end is None else end - start
            if delta < 0 and max_range:
                delta += max_range  # the counter wrapped at max_energy_range_uj
            delta = max(delta, 0)
            total_uj += delta
            parts.append(f"{zone.name} {delta / 1e6:.3f} J")
        return total_uj / 1e6, f"rapl over {seconds:.3f} s: " + "; ".join(parts)


def _process_cpu_seconds() -> float:
    """User + system CPU seconds of this process, its threads and its waited-for children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class _EstimateSource:
    """CPU seconds × watts per busy core, plus an optional idle share over the wall time."""

    method = "estimate"
    why_not = ""

    def __init__(self, cpu_watts: float, idle_watts: float) -> None:
        self._cpu_watts, self._idle_watts = cpu_watts, idle_watts

    def start(self) -> bool:
        self._cpu0 = _process_cpu_seconds()
        return True

    def finish(self, seconds: float) -> tuple[float, str]:
        cpu = _process_cpu_seconds() - self._cpu0
        joules = cpu * self._cpu_watts + self._idle_watts * seconds
        return joules, (f"estimate: {cpu:.3f} CPU-s (user+sys, this process and its children) × "
                        f"{self._cpu_watts:g} W per busy core + {self._idle_watts:g} W idle × "
                        f"{seconds:.3f} s wall; no NVML or RAPL reading")


@contextmanager
def measure_energy(label: str, *, cpu_watts: float = DEFAULT_CPU_WATTS_PER_CORE,
                   idle_watts: float = 0.0, prefer: str = "auto", nvml: ModuleType | None = None,
                   rapl_root: Path = DEFAULT_RAPL_ROOT) -> Iterator[EnergyReading]:
    """Measure the energy of the ``with`` block; the yielded reading is filled in on exit.

    ``prefer`` is ``auto`` (nvml, rapl, estimate), ``nvml``, ``rapl`` or ``estimate``; the
    estimate is always the last resort. ``nvml`` is the ``pynvml`` module (imported when None).
    """
    if prefer not in _ORDER:
        raise ValueError(f"prefer must be one of {sorted(_ORDER)}, not {prefer!r}")
    factories = {"nvml": lambda: _NvmlSource(nvml), "rapl": lambda: _RaplSource(rapl_root),
                 "estimate": lambda: _EstimateSource(cpu_watts, idle_watts)}
    reading, skipped = EnergyReading(label), []
    for name in _ORDER[prefer]:
        source = factories[name]()
        if source.start():
            break
        skipped.append(source.why_not)
    started = time.perf_counter()
    try:
        yield reading
    finally:
        reading.seconds = time.perf_counter() - started
        reading.joules, detail = source.finish(reading.seconds)
        reading.method = source.method
        reading.detail = "; ".join([detail, *skipped])


class EnergyMeterResource(ConfigurableResource):
    """The energy meter as a Dagster resource: ``with energy.measure("asset") as reading: ...``."""

    cpu_watts_per_core: float = DEFAULT_CPU_WATTS_PER_CORE
    idle_watts: float = 0.0
    prefer: str = "auto"
    rapl_root: str = str(DEFAULT_RAPL_ROOT)

    def measure(self, label: str) -> ContextManager[EnergyReading]:
        """A ``measure_energy`` window configured from this resource."""
        return measure_energy(label, cpu_watts=self.cpu_watts_per_core, idle_watts=self.idle_watts,
                              prefer=self.prefer, rapl_root=Path(self.rapl_root))
