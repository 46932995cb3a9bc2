"""What the report templates show, gathered from the result store.

The functions here read a run (its summary, episodes and steps) and turn it into
plain view dicts; they write screenshot PNG files but no HTML. Everything visual is
in the templates next to this module.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from steadyhand.evals.store import ResultStore
from steadyhand.evals.summary import GroupSummary, RunSummary, summarize_run

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG's IHDR chunk; None when ``data`` is not a PNG."""
    if len(data) < 24 or not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def slug(text: str, index: int) -> str:
    """A file-name-safe, unique name for the ``index``-th episode of a run."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.")[:60] or "task"
    return f"{index:04d}-{cleaned}"


def _group_row(g: GroupSummary, columns: Sequence[str]) -> dict[str, Any]:
    return {"name": g.name, "episodes": g.episodes, "finished": g.finished, "errors": g.errors,
            "infra_errors": g.infra_errors, "infra_faults": g.infra_faults,
            "score": g.score, "components": [g.components.get(c) for c in columns],
            "all_components": dict(g.components), "input_tokens": g.input_tokens,
            "output_tokens": g.output_tokens, "duration_s": g.duration_s}


def summary_view(summary: RunSummary) -> dict[str, Any]:
    """A run's header and metric rows (groups, then overall) for the templates."""
    run = dict(summary.run)
    for key in ("created_at", "finished_at"):
        run[key] = f"{run[key]:%Y-%m-%d %H:%M:%S}" if run.get(key) else "-"
    return {"run": run, "group_by": summary.group_by, "columns": list(summary.columns),
            "groups": [_group_row(g, summary.columns) for g in summary.groups],
            "overall": _group_row(summary.overall, summary.columns)}


def _marks(step_action: dict[str, Any], grounding: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Shapes to draw over a screenshot: grounded targets and the action's own click point."""
    marks: list[dict[str, Any]] = []
    for decision in grounding:
        target = decision.get("target") or {}
        used = decision.get("outcome") in ("accepted", "best_below_threshold")
        label = f"{decision.get('expert', '?')} ({decision.get('outcome', '?')})"
        kind = target.get("kind")
        if kind == "point":
            marks.append({"shape": "point", "x": target["x"], "y": target["y"], "used": used, "label": label})
        elif kind == "box":
            marks.append({"shape": "box", "x": target["left"], "y": target["top"], "w": target["width"],
                          "h": target["height"], "used": used, "label": label})
        elif kind == "span":
            (x1, y1), (x2, y2) = target["start"], target["end"]
            marks.append({"shape": "span", "x": x1, "y": y1, "x2": x2, "y2": y2, "used": used, "label": label})
    x, y = step_action.get("x"), step_action.get("y")
    if isinstance(x, int | float) and isinstance(y, int | float):
        marks.append({"shape": "click", "x": x, "y": y, "used": True, "label": "action"})
    return marks


def _verdict(v: dict[str, Any]) -> dict[str, Any]:
    """A guard verdict in words, whatever keys the guard used."""
    name = v.get("guard") or v.get("name") or v.get("policy") or "guard"
    decision = v.get("decision", v.get("verdict", v.get("allowed", v.get("allow"))))
    if isinstance(decision, bool):
        decision = "allow" if decision else "block"
    reason = v.get("reason") or v.get("detail") or v.get("message") or ""
    blocked = str(decision).lower() in ("block", "blocked", "deny", "denied", "refuse", "escalate")
    return {"name": str(name), "decision": str(decision) if decision is not None else "-",
            "reason": str(reason), "blocked": blocked, "raw": json.dumps(v, default=str, sort_keys=True)}


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=1, default=str, sort_keys=True, ensure_ascii=False)


def episode_view(store: ResultStore, episode: dict[str, Any], shot_dir: Path, shot_prefix: str) -> dict[str, Any]:
    """One episode with its steps; screenshots are written to ``shot_dir``.

    ``shot_prefix`` is the path from the episode page to ``shot_dir``.
    """
    steps = []
    for step in store.steps(episode["id"]):
        shot = None
        if step.screenshot:
            size = png_size(step.screenshot)
            shot_dir.mkdir(parents=True, exist_ok=True)
            name = f"step-{step.index:03d}.png"
            (shot_dir / name).write_bytes(step.screenshot)
            shot = {"src": f"{shot_prefix}/{name}", "width": size[0] if size else 0,
                    "height": size[1] if size else 0}
        grounding = [d for d in step.grounding if isinstance(d, dict)]
        steps.append({
            "index": step.index, "kind": step.action.get("kind", "?"), "action": _pretty(step.action),
            "rationale": step.rationale.strip(), "observation": _pretty(step.observation),
            "reward": step.reward, "duration_s": step.duration_s, "model_latency_s": step.model_latency_s,
            "input_tokens": step.input_tokens, "output_tokens": step.output_tokens,
            "verdicts": [_verdict(v) for v in step.guard_verdicts if isinstance(v, dict)],
            "grounding": [{"expert": d.get("expert", "?"), "outcome": d.get("outcome", "?"),
                           "confidence": d.get("confidence"), "latency_s": d.get("latency_s"),
                           "target": _pretty(d.get("target")) if d.get("target") else "-",
                           "error": d.get("error") or ""} for d in grounding],
            "marks": _marks(step.action, grounding) if shot else [], "screenshot": shot,
        })
    scores = episode["scores"]
    return {**episode, "score": scores.get("score"),
            "components": {k: v for k, v in sorted(scores.items()) if k != "score"}, "step_views": steps}


def run_view(store: ResultStore, run_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A run's summary view and its episodes (without steps), each given a page name."""
    summary = summary_view(summarize_run(store, run_id))
    episodes = store.episodes(summary["run"]["id"])
    for i, e in enumerate(episodes):
        e["page"] = slug(e["task_id"], i)
        e["score"] = e["scores"].get("score")
    return summary, episodes
