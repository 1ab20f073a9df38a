"""``python -m bench``: run every benchmark on embedded servers, check the targets and write the
report (``bench/results/latest.md`` and ``latest.json``, or ``--out DIR``).

Each benchmark times our code path and a raw baseline doing the same work with the bare client,
in the same run, and reports ``ours / raw``. A result over its target fails the run (exit 1), as
does a benchmark that raises (recorded in the report, the others still run).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import pkgutil
import sys
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path

from services.runtime import embedded

from . import report
from .result import Bench, Result, failed

RESULTS = Path(__file__).parent / "results"


def discover() -> list[Bench]:
    """Every ``BENCHMARKS`` tuple of the modules in this package, in module-name order."""
    found: list[Bench] = []
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        if info.name.startswith("_") or info.name in ("result", "report"):
            continue
        try:
            module = importlib.import_module(f"bench.{info.name}")
        except Exception as exc:  # reported as a failed benchmark; the other modules still run
            found.append(_unimportable(info.name, exc))
            continue
        found.extend(getattr(module, "BENCHMARKS", ()))
    return found


def _unimportable(name: str, error: Exception) -> Bench:
    async def bench(nats_url: str, database_url: str, count: int) -> Result:
        raise error

    bench.__name__ = name
    return bench


def _print(results: list[Result]) -> None:
    print(f"{'benchmark':34} {'ours s':>8} {'raw s':>8} {'ratio':>6} {'target':>6}")
    for r in results:
        flag = "ok" if r.ok else "OVER"
        print(f"{r.name:34} {r.ours:8.3f} {r.raw:8.3f} {r.ratio:6.2f} {r.target:6.1f} {flag}")
        if r.headline is not None:
            ours, raw, ratio = report.cells(r)
            versus = "" if r.headline.raw is None else f" vs raw {raw} = {ratio}"
            print(f"    ours {ours}{versus} (target {r.goal_text})")
        for line in r.notes:
            print(f"    {line}")


async def _run(nats_url: str, database_url: str, count: int, only: str) -> list[Result]:
    results = []
    wanted = only.split(",")
    for bench in discover():
        if any(part in bench.__name__ for part in wanted):
            try:
                results.append(await bench(nats_url, database_url, count))
            except Exception as exc:  # one broken benchmark must not lose the others' figures
                traceback.print_exc()
                results.append(failed(bench.__name__, exc))
    return results


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument(
        "--only", default="", help="run the benchmarks whose name contains this (or any of a,b,...)"
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help="write latest.md and latest.json here"
    )
    parser.add_argument("--json", type=Path, help="also write the JSON report to this file")
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    started, load_at_start = _now(), os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="chuangwen-bench-") as tmp:
        root = Path(tmp)
        nats_port, pg_port = embedded.free_port(), embedded.free_port()
        nats = embedded.start_nats(nats_port, root / "nats", root / "nats.log")
        pg = embedded.start_postgres(pg_port, root / "pg", root / "pg.log")
        database_url = f"postgresql://postgres@127.0.0.1:{pg_port}/postgres"
        try:
            results = asyncio.run(
                _run(f"nats://127.0.0.1:{nats_port}", database_url, args.messages, args.only)
            )
            options = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
            env = report.environment(argv, options, database_url, started, _now(), load_at_start)
        finally:
            embedded.stop(nats)
            embedded.stop(pg)
    _print(results)
    as_json, as_md = report.write(args.out, results, env)
    print(f"report: {as_md} and {as_json}")
    if args.json:
        args.json.write_text(report.render_json(results, env))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
