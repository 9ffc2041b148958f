"""Measure the energy of a block of work: NVML on GPUs, RAPL on CPUs, else a labelled estimate.

    with measure_energy("answers batch") as reading:
        run_the_batch()
    reading.joules, reading.seconds, reading.method, reading.detail

Sources are tried in order (``prefer="auto"``: nvml → rapl → estimate) and the first that works
is used for the whole window; every reading says which one it was and why the others were not.
The estimate reads a nanosecond CPU clock (``time.process_time``), so a step of a few
milliseconds still shows its CPU time; a window its source cannot see at all is marked
``too_short`` with "too short to measure" in its detail, never reported as a measured 0 J.
"""

from __future__ import annotations

import importlib
import re
import resource
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Callable, ContextManager, Iterator

from dagster import ConfigurableResource

DEFAULT_CPU_WATTS_PER_CORE = 15.0
DEFAULT_RAPL_ROOT = Path("/sys/class/powercap")
METHODS = ("nvml", "rapl", "estimate")
_ORDER = {"auto": ("nvml", "rapl", "estimate"), "nvml": ("nvml", "estimate"),
          "rapl": ("rapl", "estimate"), "estimate": ("estimate",)}
_NVML_COUNTER_WRAP = 2**64  # nvmlDeviceGetTotalEnergyConsumption is an unsigned long long (mJ)
TOO_SHORT = "too short to measure"


@dataclass
class EnergyReading:
    """One measured window; filled in when the ``measure_energy`` block exits.

    ``too_short`` is True when the window was shorter than its source can see (no CPU time at
    the clock's resolution, or RAPL counters that did not tick): ``joules`` then holds only what
    could be counted (the idle share, else 0) and ``detail`` says so (``TOO_SHORT``).
    """

    label: str
    joules: float = 0.0
    seconds: float = 0.0
    method: str = "estimate"
    detail: str = ""
    too_short: bool = False


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
    too_short = False  # a counter that did not tick falls back to power × time

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
        self.too_short = False

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
        if total_uj == 0:
            self.too_short = True
            parts.insert(0, f"{TOO_SHORT}: no counter ticked (they update about every millisecond)")
        return total_uj / 1e6, f"rapl over {seconds:.3f} s: " + "; ".join(parts)


def process_cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and all its threads, plus its waited-for children.

    The process part is ``time.process_time()`` (a nanosecond CPU clock on Linux, fine enough for
    a step of a few milliseconds); the children's part comes from ``getrusage`` (microseconds).
    """
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


@dataclass(frozen=True)
class CpuClock:
    """A CPU-time source: ``read()`` gives the CPU seconds used so far; ``resolution`` is the
    smallest step it can show (a window that reads no CPU time is below it, not free)."""

    read: Callable[[], float]
    resolution: float


PROCESS_CPU_CLOCK = CpuClock(process_cpu_seconds, time.get_clock_info("process_time").resolution)


class _EstimateSource:
    """CPU seconds × watts per busy core, plus an optional idle share over the wall time."""

    method = "estimate"
    why_not = ""

    def __init__(self, cpu_watts: float, idle_watts: float, clock: CpuClock) -> None:
        self._cpu_watts, self._idle_watts, self._clock = cpu_watts, idle_watts, clock
        self.too_short = False

    def start(self) -> bool:
        self._cpu0 = self._clock.read()
        return True

    def finish(self, seconds: float) -> tuple[float, str]:
        cpu = self._clock.read() - self._cpu0
        joules = cpu * self._cpu_watts + self._idle_watts * seconds
        formula = (f"{self._cpu_watts:g} W per busy core + {self._idle_watts:g} W idle × "
                   f"{seconds:.3f} s wall; no NVML or RAPL reading")
        if cpu <= 0:
            self.too_short = True
            return joules, (f"estimate: {TOO_SHORT}: no CPU time read, below the clock's "
                            f"resolution ({self._clock.resolution:g} s); {formula}")
        shown = f"{cpu:.3f}" if cpu >= 0.001 else f"{cpu:.2e}"  # never "0.000" for a measured value
        return joules, (f"estimate: {shown} CPU-s (user+sys, this process and its children) × "
                        + formula)


@contextmanager
def measure_energy(label: str, *, cpu_watts: float = DEFAULT_CPU_WATTS_PER_CORE,
                   idle_watts: float = 0.0, prefer: str = "auto", nvml: ModuleType | None = None,
                   rapl_root: Path = DEFAULT_RAPL_ROOT, cpu_clock: CpuClock = PROCESS_CPU_CLOCK,
                   wall_clock: Callable[[], float] = time.perf_counter) -> Iterator[EnergyReading]:
    """Measure the energy of the ``with`` block; the yielded reading is filled in on exit.

    ``prefer`` is ``auto`` (nvml, rapl, estimate), ``nvml``, ``rapl`` or ``estimate``; the
    estimate is always the last resort. ``nvml`` is the ``pynvml`` module (imported when None).
    ``cpu_clock`` (the estimate's CPU time) and ``wall_clock`` (seconds) default to this
    process's clocks. A window too short for its source to see says so: ``too_short`` is set
    and the detail reads "too short to measure", instead of passing 0 J off as measured.
    """
    if prefer not in _ORDER:
        raise ValueError(f"prefer must be one of {sorted(_ORDER)}, not {prefer!r}")
    factories = {"nvml": lambda: _NvmlSource(nvml), "rapl": lambda: _RaplSource(rapl_root),
                 "estimate": lambda: _EstimateSource(cpu_watts, idle_watts, cpu_clock)}
    reading, skipped = EnergyReading(label), []
    for name in _ORDER[prefer]:
        source = factories[name]()
        if source.start():
            break
        skipped.append(source.why_not)
    started = wall_clock()
    try:
        yield reading
    finally:
        reading.seconds = wall_clock() - started
        reading.joules, detail = source.finish(reading.seconds)
        reading.method = source.method
        reading.too_short = source.too_short
        reading.detail = "; ".join([detail, *skipped])


@dataclass(frozen=True)
class EnergyMeter:
    """``measure_energy`` with its settings bound: ``with meter.measure("batch") as reading``."""

    cpu_watts: float = DEFAULT_CPU_WATTS_PER_CORE
    idle_watts: float = 0.0
    prefer: str = "auto"
    rapl_root: Path = DEFAULT_RAPL_ROOT
    nvml: ModuleType | None = None
    cpu_clock: CpuClock = PROCESS_CPU_CLOCK
    wall_clock: Callable[[], float] = time.perf_counter

    def measure(self, label: str) -> ContextManager[EnergyReading]:
        """A ``measure_energy`` window with this meter's settings."""
        return measure_energy(label, cpu_watts=self.cpu_watts, idle_watts=self.idle_watts,
                              prefer=self.prefer, nvml=self.nvml, rapl_root=self.rapl_root,
                              cpu_clock=self.cpu_clock, wall_clock=self.wall_clock)


class EnergyMeterResource(ConfigurableResource):
    """The energy meter as a Dagster resource: ``with energy.measure("asset") as reading: ...``."""

    cpu_watts_per_core: float = DEFAULT_CPU_WATTS_PER_CORE
    idle_watts: float = 0.0
    prefer: str = "auto"
    rapl_root: str = str(DEFAULT_RAPL_ROOT)

    def meter(self) -> EnergyMeter:
        """The plain meter this resource configures."""
        return EnergyMeter(cpu_watts=self.cpu_watts_per_core, idle_watts=self.idle_watts,
                           prefer=self.prefer, rapl_root=Path(self.rapl_root))

    def measure(self, label: str) -> ContextManager[EnergyReading]:
        """A ``measure_energy`` window configured from this resource."""
        return self.meter().measure(label)
