"""The report of one ``python -m bench`` run: ``latest.json`` (everything, for tools) and
``latest.md`` (a table for people), each with the machine, the versions and the counts used.

Rendering is pure (``render_json`` / ``render_markdown`` over results and an environment dict);
``environment`` is the only part that looks at the machine.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import os
import platform
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import psycopg

from services.runtime import embedded

from .result import Figure, Result

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (
    "faststream",
    "nats-py",
    "psycopg",
    "fastapi",
    "pydantic",
    "uvicorn",
    "httpx",
    "aiohttp",
)


def environment(
    argv: Sequence[str],
    args: Mapping[str, Any],
    database_url: str,
    started: str,
    finished: str,
    load_at_start: Sequence[float] = (),
) -> dict[str, Any]:
    """Where and with what the run was made (call while PostgreSQL still runs)."""
    machine = _machine()
    machine["load_average_at_start"] = [round(x, 2) for x in load_at_start]
    return {
        "started": started,
        "finished": finished,
        "command": " ".join(["python -m bench", *argv]),
        "args": dict(args),
        "git": _git(),
        "machine": machine,
        "versions": {
            "python": platform.python_version(),
            "nats-server": _run([embedded.nats_binary(), "--version"]),
            "postgresql": _postgres(database_url),
            **{name: _package(name) for name in PACKAGES},
        },
    }


def _run(cmd: list[str]) -> str | None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=10, cwd=ROOT)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _git() -> dict[str, Any]:
    status = _run(["git", "status", "--porcelain", "--untracked-files=no"])
    return {"commit": _run(["git", "rev-parse", "HEAD"]), "dirty": bool(status)}


def _package(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _postgres(database_url: str) -> str | None:
    try:
        with psycopg.connect(database_url, connect_timeout=5) as conn:
            row = conn.execute("SELECT version()").fetchone()
    except psycopg.Error:
        return None
    return str(row[0]) if row else None


def _first(path: str, key: str) -> str | None:
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return None
    return next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith(key)), None)


def _os_release() -> str | None:
    try:
        lines = Path("/etc/os-release").read_text().splitlines()
    except OSError:
        return None
    found = (ln.split("=", 1)[1].strip('"') for ln in lines if ln.startswith("PRETTY_NAME="))
    return next(found, None)


def _machine() -> dict[str, Any]:
    mem_kb = _first("/proc/meminfo", "MemTotal")
    return {
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gib": round(int(mem_kb.split()[0]) / 1024 / 1024, 1) if mem_kb else None,
        "cpu": _first("/proc/cpuinfo", "model name") or platform.processor() or None,
        "os": _os_release(),
        "kernel": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _clean(value: Any) -> Any:
    """JSON has no NaN or infinity: those become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def record(r: Result) -> dict[str, Any]:
    """One result as data (``ours``/``raw`` in the benchmark's own unit, usually seconds;
    the headline's figures in its ``unit``)."""
    h = r.headline
    return {
        "name": r.name,
        "what": r.what,
        "ours": r.ours,
        "raw": r.raw,
        "ratio": r.ratio,
        "target": r.target,
        "goal": r.goal_text,
        "ok": r.ok,
        "headline": None if h is None else dict(h.__dict__),
        "figures": dict(r.figures),
        "notes": list(r.notes),
    }


def render_json(results: Sequence[Result], env: Mapping[str, Any]) -> str:
    doc = {**env, "ok": all(r.ok for r in results), "results": [record(r) for r in results]}
    return json.dumps(_clean(doc), indent=2, ensure_ascii=False) + "\n"


def number(value: Figure | None) -> str:
    """A figure for people: thousands separated, about three significant digits."""
    if value is None:
        return "–"
    if isinstance(value, bool | str):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if not math.isfinite(value):
        return "–"
    size = abs(value)
    return f"{value:,.0f}" if size >= 100 else f"{value:.1f}" if size >= 10 else f"{value:.2f}"


def cells(r: Result) -> tuple[str, str, str]:
    """ours, raw, ratio: in the headline's unit when there is one, else seconds."""
    h = r.headline
    if h is None:
        return f"{number(r.ours)} s", f"{number(r.raw)} s", f"{number(r.ratio)}×"
    raw = "–" if h.raw is None else f"{number(h.raw)} {h.unit}"
    if h.raw is None or h.raw == 0:
        ratio = "–"
    elif h.higher_is_better:
        ratio = f"{h.ours / h.raw:.0%} of raw"
    else:
        ratio = f"{number(h.ours / h.raw)}× raw"
    return f"{number(h.ours)} {h.unit}", raw, ratio


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(results: Sequence[Result], env: Mapping[str, Any]) -> str:
    git, machine, args = env.get("git", {}), env.get("machine", {}), env.get("args", {})
    commit = (git.get("commit") or "unknown")[:12] + (
        " (uncommitted changes)" if git.get("dirty") else ""
    )
    partial = (
        f" Partial run: only benchmarks matching `{args['only']}`." if args.get("only") else ""
    )
    lines = [
        "# Benchmarks: the latest run",
        "",
        f"`{env.get('command', 'python -m bench')}` from {env.get('started')} to"
        f" {env.get('finished')}, commit {commit}; messages per benchmark:"
        f" {number(args.get('messages'))} (each row's counts are in *what* and its"
        f" figures).{partial}",
        "Every figure comes from this one run on the machine below, next to its raw baseline"
        " measured in the same run; the machine is shared, so compare ratios, not absolutes.",
        "",
        "| benchmark | what | ours | raw | ratio | target | met? | notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ours, raw, ratio = cells(r)
        row = (r.name, r.what, ours, raw, ratio, r.goal_text, "yes" if r.ok else "**NO**")
        notes = "<br>".join(_cell(n) for n in r.notes)
        lines.append("| " + " | ".join(_cell(c) for c in row) + f" | {notes} |")
    lines += ["", "## Figures", ""]
    for r in results:
        if r.figures:
            shown = ", ".join(f"{k} {number(v)}" for k, v in r.figures.items())
            lines.append(f"- **{r.name}**: {_cell(shown)}")
    lines += ["", "## Machine", "", "| | |", "|---|---|"]
    loads = [machine.get("load_average_at_start"), machine.get("load_average")]
    start, end = (", ".join(map(str, x)) if x else None for x in loads)
    for label, value in (
        ("cores", machine.get("cores")),
        ("memory", machine.get("memory_gib") and f"{machine['memory_gib']} GiB"),
        ("CPU", machine.get("cpu")),
        ("OS", machine.get("os")),
        ("kernel", machine.get("kernel")),
        ("load average (1, 5, 15 min) at the start", start),
        ("load average (1, 5, 15 min) at the end", end),
    ):
        lines.append(f"| {label} | {'–' if value is None else _cell(str(value))} |")
    lines += ["", "## Versions", "", "| | |", "|---|---|"]
    for name, version in env.get("versions", {}).items():
        lines.append(f"| {name} | {_cell(str(version))} |")
    return "\n".join(lines) + "\n"


def write(out: Path, results: Sequence[Result], env: Mapping[str, Any]) -> tuple[Path, Path]:
    """``out/latest.json`` and ``out/latest.md``."""
    out.mkdir(parents=True, exist_ok=True)
    as_json, as_md = out / "latest.json", out / "latest.md"
    as_json.write_text(render_json(results, env))
    as_md.write_text(render_markdown(results, env))
    return as_json, as_md
