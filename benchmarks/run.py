"""`make bench`: the platform's performance targets, measured side by side in one run.

Writes docs/benchmarks.md with the figures, the machine and the date. Each timed step runs in its own
process, so peak memory is the step's own; the platform and the minimum path alternate, best of N.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.measure import machine, run_step

ROOT = Path(__file__).resolve().parent.parent


def simulate(folder: Path, scale: float, days: int, dirt: bool) -> float:
    started = time.perf_counter()
    command = [
        sys.executable,
        "-m",
        "ingestion.simulator",
        "--seed",
        "7",
        "--scale",
        str(scale),
        "--start",
        "2025-01-01",
        "--days",
        str(days),
        "--landing",
        str(folder),
    ]
    subprocess.run([*command, *([] if dirt else ["--no-dirt"])], check=True, capture_output=True)
    return time.perf_counter() - started


def ingestion_rate(work: Path, scale: float, days: int, repeat: int) -> dict:
    """Events per second into bronze, against polars + write_deltalake on the same (clean) files."""
    landing = work / f"landing-clean-{scale}"
    generation = simulate(landing, scale, days, dirt=False)
    best: dict[str, dict] = {}
    for attempt in range(repeat):
        for path in ("platform", "minimum"):
            lake = work / f"lake-{path}-{attempt}"
            measured = run_step("benchmarks.ingestion_steps", path, str(landing), str(lake))
            shutil.rmtree(lake, ignore_errors=True)
            if path not in best or measured.report["seconds"] < best[path]["seconds"]:
                best[path] = measured.report
    rates = {path: r["rows"] / r["seconds"] for path, r in best.items()}
    return {
        "scale": scale,
        "generation_seconds": generation,
        "best": best,
        "rates": rates,
        "ratio": rates["platform"] / rates["minimum"],
    }


def ingestion_memory(work: Path, scale: float, days: int) -> dict:
    """Peak memory of the platform's ingestion of a larger world, dirt included."""
    landing = work / f"landing-dirty-{scale}"
    generation = simulate(landing, scale, days, dirt=True)
    measured = run_step("benchmarks.ingestion_steps", "platform", str(landing), str(work / "lake-memory"))
    return {"scale": scale, "generation_seconds": generation, "report": measured.report}


def write_report(path: Path, rate: dict, memory: dict | None) -> str:
    p, m = rate["best"]["platform"], rate["best"]["minimum"]
    lines = [
        "# Benchmarks",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()} by `make bench` "
        "(benchmarks/run.py). Each step runs in its own process; figures are the best of the repetitions.",
        "",
        "## Ingestion of landing-zone events into bronze",
        "",
        f"Simulated world at scale {rate['scale']} (one year), without dirt so that the minimum path can "
        f"read every file: {p['files']} files, {p['rows']:,} events "
        f"(generated in {rate['generation_seconds']:.0f} s).",
        "",
        "| path | seconds | events/s | peak memory |",
        "|---|---:|---:|---:|",
        f"| platform (`ingestion.events.ingest_events`: validate, quarantine, lineage, exactly-once commits) "
        f"| {p['seconds']:.1f} | {rate['rates']['platform']:,.0f} | {p['peak_rss_mib']:,.0f} MiB |",
        f"| minimum (polars `read_ndjson` + `write_deltalake`, nothing else) "
        f"| {m['seconds']:.1f} | {rate['rates']['minimum']:,.0f} | {m['peak_rss_mib']:,.0f} MiB |",
        "",
        f"**Ratio platform / minimum: {rate['ratio']:.2f}** (target: at least 0.5).",
    ]
    if memory:
        r = memory["report"]
        lines += [
            "",
            "## Peak memory while ingesting a larger world",
            "",
            f"Scale {memory['scale']} with the default dirt (duplicates, late events, malformed lines): "
            f"{r['rows']:,} events and {r['quarantined']:,} quarantined lines from {r['files']} files in "
            f"{r['seconds']:.0f} s; **peak resident memory {r['peak_rss_mib']:,.0f} MiB** "
            "(target: under 2 GiB).",
        ]
    text = "\n".join(lines) + "\n"
    path.write_text(text)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="world for the ingestion rate")
    parser.add_argument("--memory-scale", type=float, default=10.0, help="world for peak memory (0: skip)")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lakehouse-bench-") as folder:
        work = Path(folder)
        print(f"ingestion rate at scale {args.scale} ...", flush=True)
        rate = ingestion_rate(work, args.scale, args.days, args.repeat)
        memory = None
        if args.memory_scale:
            print(f"ingestion peak memory at scale {args.memory_scale} ...", flush=True)
            memory = ingestion_memory(work, args.memory_scale, args.days)
    print(write_report(args.out, rate, memory))
    return 0


if __name__ == "__main__":
    sys.exit(main())
