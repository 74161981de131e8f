"""Running a benchmark step in its own process, and what it reports back."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measurement:
    seconds: float  # wall time of the whole child process, start-up included
    report: dict  # what the step printed: its own timings, counts and peak memory


def run_step(module: str, *args: str, env: dict[str, str] | None = None) -> Measurement:
    """Run `python -m module args` in a fresh process (its own peak memory); its last line is JSON."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, env=os.environ | (env or {})
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return Measurement(seconds, json.loads(done.stdout.strip().splitlines()[-1]))


def report(**values: object) -> None:
    """A step's last line: its values and the peak resident memory of its process."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(values | {"peak_rss_mib": round(peak, 1)}), flush=True)


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line
        ]
        cpu = names[0] if names else cpu
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )
