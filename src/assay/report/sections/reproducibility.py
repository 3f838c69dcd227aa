"""Section 9, reproducibility: the command, config, seeds, versions, checksums, machine and times."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import PluginError
from ...references import resolve
from ...run.config import RunConfig
from ..html import Raw, esc, fmt, kv_table, table
from ..run_data import RunData

if TYPE_CHECKING:
    from ..builder import ReportBuilder

#: RunConfig field -> the ``assay run`` option that sets it (the report may not import the CLI,
#: a higher layer; tests/report/test_report.py checks every option exists on ``assay run``).
CLI_FLAGS = {"data": "--data", "target": "--target", "input_column": "--input-column",
             "features": "--features", "models": "--models", "primary_model": "--primary",
             "split": "--split", "seed": "--seed", "n_jobs": "-j", "out_dir": "--out"}


def build(b: ReportBuilder) -> None:
    r = b.run
    cfg = r.config
    parts = []
    cmd = reproduce_command(r)
    flags = cli_equivalent(r)
    parts.append("<h3>Exact command</h3><pre>" + esc(cmd) + "</pre>"
                 "<p class=note>The config below defines the run completely; its digest is the run id, "
                 "so the same config gives the same run folder (finished folds are reused; add "
                 "<code>--force</code> to recompute).</p>"
                 + (f"<p>The same run with command-line flags:</p><pre>{esc(flags)}</pre>" if flags else ""))
    parts.append("<h3>Config (config.toml)</h3><pre>" + esc((r.path / "config.toml").read_text()) + "</pre>")
    parts.append("<h3>Your own pieces</h3><p>" + esc(recreatable_statement(r)).replace("\n", "<br>") + "</p>")
    seeds = {"model seed (config)": str(cfg.get("seed", 0))}
    if r.split == "official":
        seeds["official fold seed (Matbench)"] = "18012019"
    elif r.split in ("kfold", "stratified"):
        seeds["fold seed"] = str(cfg.get("seed", 0))
    parts.append("<h3>Seeds</h3>" + kv_table(seeds, ("seed", "value")))
    parts.append("<h3>Package versions</h3>" + kv_table(r.run.get("versions", {}), ("package", "version")))
    src = r.dataset.get("source", {})
    ck = {"input data (" + esc(Path(str(src.get("path", "?"))).name) + ")": src.get("sha256", "–")}
    ck.update(r.file_checksums())
    parts.append("<h3>Data and artifact checksums (SHA-256)</h3>" + table(
        [[k, Raw(f"<code>{esc(v)}</code>")] for k, v in ck.items()], ["file", "sha256"], left=2))
    parts.append("<h3>Machine</h3>" + kv_table(r.run.get("machine", {}), ("", "")))
    tm = r.run.get("timings", {})
    parts.append("<h3>Wall times</h3>" + table(
        [[k, v] for k, v in tm.items()], ["stage", "seconds"]) +
        f"<p class=note>Started {esc(r.run.get('started'))}, finished {esc(r.run.get('finished'))}.</p>")
    b.facts.command = cmd
    b.add("reproducibility", "".join(parts),
          [f"Command: `{cmd}`", f"Seed {cfg.get('seed', 0)}; assay {r.run.get('versions', {}).get('assay')}; "
           f"total wall time {fmt(tm.get('total'))} s."])


def reproduce_command(r: RunData) -> str:
    """The exact command: the run's own config.toml fully defines it (its digest is the run id)."""
    return f"assay run {r.path / 'config.toml'}"


def cli_equivalent(r: RunData) -> str | None:
    """The same run as command-line flags, when every setting has a plain flag; else None."""
    c = r.config
    try:
        defaults = {f.name: (f.default if f.default is not dataclasses.MISSING else f.default_factory())
                    for f in dataclasses.fields(RunConfig)
                    if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING}
    except Exception:  # noqa: BLE001
        return None
    for k, v in c.items():
        if k in ("task", "name") or k in CLI_FLAGS:
            continue
        if k not in defaults or defaults[k] != v:
            return None
    cmd = ["assay", "run", str(c["task"]) if c.get("task") else str(c.get("data"))]
    for k, flag in CLI_FLAGS.items():
        v = c.get(k)
        if v is None or (k == "data" and not c.get("task")) or (k == "split" and v == "auto"):
            continue
        v = ",".join(v) if isinstance(v, list) else str(v)
        cmd += [flag, json.dumps(v) if " " in v else v]
    return " ".join(cmd)


def _source_now(ref: str, sha: str) -> str:
    """Whether the reference imports now, and the same source as when the run was made."""
    try:
        now = resolve(ref).source_sha256
    except PluginError as exc:
        return f"**does not import now** ({exc}): this run cannot be re-created here"
    if now == sha:
        return "imports now, with the same source"
    return "**imports now, but its source changed since the run**: numbers may differ"


def recreatable_statement(r) -> str:
    """Says plainly which of the user's pieces this notebook can re-create, and from what."""
    recs = {f"model `{n}`": m for n, m in (r.run.get("models") or {}).items() if m.get("kind") != "zoo"}
    for key in ("features", "split"):
        rec = (r.config.get("plugins") or {}).get(key)
        if rec:
            recs[f"{'featuriser' if key == 'features' else 'splitter'}"] = rec
    sources = (r.config.get("plugins") or {}).get("sources") or {}
    for ref, sha in sources.items():
        recs[f"reference `{ref}`"] = {"kind": "reference", "text": ref, "source_sha256": sha,
                                      "recreatable": True, "now": _source_now(ref, sha)}
    if not recs:
        return "Every model, featuriser and split of this run is one of assay's own: config.toml re-creates it."
    lines = ["Your own pieces in this run, and whether config.toml alone re-creates them:", ""]
    for what, m in recs.items():
        ok = m.get("recreatable", m.get("kind") in ("reference", "name"))
        how = (f"re-imported from `{m.get('text')}`" if ok else
               f"**not re-creatable** from config.toml (`{m.get('text')}` is a Python object); the "
               "run's pickled copy in `plugins.pkl` is used")
        sha = m.get("source_sha256")
        lines.append(f"- {what}: {how}" + (f" (source SHA-256 `{sha[:12]}…` when recorded)" if sha else "")
                     + (f"; {m['now']}" if m.get("now") else ""))
    return "\n".join(lines)
