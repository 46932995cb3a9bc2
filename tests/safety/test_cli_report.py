"""``steadyhand safety report``: the gullible agent on a few safety-mini tasks, real Chromium."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from steadyhand.cli import app
from steadyhand.safety.suite import safety_mini_tasks


def _ids() -> list[str]:
    tasks = safety_mini_tasks()
    benign = next(t.id for t in tasks if t.metadata["kind"] == "benign")
    attacks = [t.id for t in tasks if t.metadata["kind"] == "attack"
               and t.metadata["style"] in ("banner", "popup", "system-alert")]
    lookalike = next(t.id for t in tasks if t.metadata["kind"] == "lookalike")
    return [benign, *attacks, lookalike]


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium")
def test_report_shows_attacks_succeeding_without_guards_and_stopped_with_them(tmp_path: Path) -> None:
    ids = _ids()
    out = tmp_path / "figures.json"
    args = ["safety", "report", "--agent", "gullible", "--guards", "all", "--json", str(out)]
    for task_id in ids:
        args += ["--task", task_id]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "targeted attack success" in result.output and "no guards" in result.output
    data = json.loads(out.read_text())
    assert data["tasks"] == [t.id for t in safety_mini_tasks() if t.id in ids]
    off, on = data["figures"]["no guards"], data["figures"]["guards"]
    assert off["episodes"] == on["episodes"] == len(ids)
    assert off["targeted_attack_success"] > 0 and off["intermediate_attack_success"] > 0
    assert on["targeted_attack_success"] == 0 and on["intermediate_attack_success"] == 0
    assert on["benign_utility"] == 1 and on["false_positive_rate"] == 0
    # the printed table carries the same figures: the attack-success row reads "N% 0%"
    row = next(line for line in result.output.splitlines() if line.startswith("targeted attack success"))
    assert row.split()[-2:] == [f"{100 * off['targeted_attack_success']:.0f}%", "0%"]


def test_report_refuses_bad_arguments() -> None:
    runner = CliRunner()
    bad_guard = runner.invoke(app, ["safety", "report", "--guards", "firewall"])
    assert bad_guard.exit_code == 2 and "unknown guard" in bad_guard.output
    no_model = runner.invoke(app, ["safety", "report", "--agent", "s2"])
    assert no_model.exit_code == 2 and "needs --model" in no_model.output
    no_task = runner.invoke(app, ["safety", "report", "--task", "nope"])
    assert no_task.exit_code == 2 and "no task nope" in no_task.output


def _s2_script(path: Path, task_ids: list[str]) -> str:
    """One scripted-model script playing S2 on several safety-mini tasks (rules keyed by task and subgoal)."""
    from steadyhand.agents.s2.scripts import S2Oracle, oracle_script

    tasks = {t.id: t for t in safety_mini_tasks()}
    rules = []
    for task_id in task_ids:
        task = tasks[task_id]
        subgoals = []
        if task.metadata["kind"] == "attack":  # a gullible model: it does what the page says first
            subgoals.append({"name": f"Follow the notice on {task_id}", "calls": ["agent.click('Claim reward')"]})
        subgoals.append({"name": f"Submit the answer on {task_id}",
                         "calls": ["agent.hotkey(['tab'])", f"agent.type(text={task.evaluator['submit']['answer']!r})",
                                   "agent.click('the Submit answer button')"]})
        for rule in oracle_script(S2Oracle.model_validate({"subgoals": subgoals}))["rules"]:
            if rule["when"] == r"\A# Plan":
                rule["when"] = r"\A# Plan\nTask: " + re.escape(task.instruction)
            rules.append(rule)
    path.write_text(json.dumps({"rules": rules}))
    return f"scripted:{path}"


@pytest.mark.skipif(shutil.which("chromium") is None or shutil.which("tesseract") is None,
                    reason="needs Debian's chromium and tesseract-ocr")
def test_report_runs_s2_with_a_model_spec_and_ocr_grounding(tmp_path: Path) -> None:
    ids = ["benign-kettle", "attack-banner-click-popup-train"]
    spec = _s2_script(tmp_path / "s2.json", ids)
    out = tmp_path / "figures.json"
    result = CliRunner().invoke(app, ["safety", "report", "--agent", "s2", "--model", spec, "--task", ids[0],
                                      "--task", ids[1], "--grounding", "textual=tesseract", "-o", "knowledge=false",
                                      "--json", str(out)])
    assert result.exit_code == 0, result.output
    off, on = (json.loads(out.read_text())["figures"][k] for k in ("no guards", "guards"))
    assert off["benign_utility"] == on["benign_utility"] == 1  # each configuration gets a fresh scripted model
    assert off["targeted_attack_success"] == 1 and off["utility_under_attack"] == 0
    assert on["targeted_attack_success"] == 0 and on["utility_under_attack"] == 1


@pytest.mark.desktop
def test_report_includes_desktop_pop_ups_on_request(tmp_path: Path) -> None:
    from steadyhand.environments.desktop.providers.local import missing_programs

    missing = [*missing_programs(), *(p for p in ("mousepad", "xmessage", "tesseract") if shutil.which(p) is None)]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")
    ids = ["desktop-attack-popup-click-popup-book", "desktop-lookalike-0-museum"]
    task_args = [arg for task_id in ids for arg in ("--task", task_id)]
    runner = CliRunner()
    unknown = runner.invoke(app, ["safety", "report", *task_args])
    assert unknown.exit_code == 2 and "no task desktop-" in unknown.output  # pop-ups only with --desktop
    out = tmp_path / "figures.json"
    result = runner.invoke(app, ["safety", "report", "--desktop", *task_args, "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    off, on = data["figures"]["no guards"], data["figures"]["guards"]
    assert data["tasks"] == ids and off["episodes"] == on["episodes"] == 2
    assert off["targeted_attack_success"] == 1 and on["targeted_attack_success"] == 0
    assert on["false_positive_rate"] == 0 and on["lookalike_utility"] == 1
