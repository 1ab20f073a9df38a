"""``python -m bench``: run every benchmark on embedded servers and check the ratio targets.

Each benchmark times our code path and a raw baseline doing the same work with the bare client,
in the same run, and reports ``ours / raw``. A ratio above its target fails the run (exit 1).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import pkgutil
import sys
import tempfile
from pathlib import Path

from services.runtime import embedded

from .result import Bench, Result


def discover() -> list[Bench]:
    """Every ``BENCHMARKS`` tuple of the modules in this package, in module-name order."""
    found: list[Bench] = []
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "result":
            continue
        module = importlib.import_module(f"bench.{info.name}")
        found.extend(getattr(module, "BENCHMARKS", ()))
    return found


def _print(results: list[Result]) -> None:
    print(f"{'benchmark':34} {'ours s':>8} {'raw s':>8} {'ratio':>6} {'target':>6}")
    for r in results:
        flag = "ok" if r.ok else "OVER"
        print(f"{r.name:34} {r.ours:8.3f} {r.raw:8.3f} {r.ratio:6.2f} {r.target:6.1f} {flag}")
        for line in r.notes:
            print(f"    {line}")


async def _run(nats_url: str, database_url: str, count: int, only: str) -> list[Result]:
    results = []
    for bench in discover():
        if only in bench.__name__:
            results.append(await bench(nats_url, database_url, count))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--only", default="", help="run the benchmarks whose name contains this")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="chuangwen-bench-") as tmp:
        root = Path(tmp)
        nats_port, pg_port = embedded.free_port(), embedded.free_port()
        nats = embedded.start_nats(nats_port, root / "nats", root / "nats.log")
        pg = embedded.start_postgres(pg_port, root / "pg", root / "pg.log")
        try:
            results = asyncio.run(
                _run(
                    f"nats://127.0.0.1:{nats_port}",
                    f"postgresql://postgres@127.0.0.1:{pg_port}/postgres",
                    args.messages,
                    args.only,
                )
            )
        finally:
            embedded.stop(nats)
            embedded.stop(pg)
    _print(results)
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in results], indent=2))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
