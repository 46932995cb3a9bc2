"""The S2 prompt templates put every list item on its own line (trim_blocks eats newlines after tags)."""

from __future__ import annotations

from steadyhand.agents.s2.prompts import render

FINISHED = [{"status": "done", "name": "Open the file", "actions": ["click(...)"]},
            {"status": "failed", "name": "Save it", "actions": []}]
REMAINING = [{"name": "Close the editor", "info": ""}, {"name": "Report", "info": "say what changed"}]


def test_manager_and_completion_check_list_one_subgoal_per_line() -> None:
    manager = render("manager", replan=True, task="T", narrative="", finished=FINISHED, remaining=REMAINING,
                     notes=["n1", "n2"], critique="", problem="", screen="S").splitlines()
    assert manager[:2] == ["# Replan", "Task: T"]
    for line in ("1. [done] Open the file -- actions: click(...)", "2. [failed] Save it", "1. Close the editor",
                 "2. Report (say what changed)", "- n1", "- n2"):
        assert line in manager
    check = render("done_check", task="T", finished=FINISHED, reason="", screen="S").splitlines()
    assert "2. [failed] Save it" in check and "Screen: S" in check


def test_worker_lists_finished_and_later_subgoals_on_separate_lines() -> None:
    worker = render("worker", task="T", subgoal={"name": "Save it", "info": ""}, finished=FINISHED[:1],
                    remaining=REMAINING, notes=["n"], episodic="", history=[], reflection="", feedback="", turn=1,
                    max_turns=5, screen="S").splitlines()
    assert "Finished subgoals: [done] Open the file" in worker
    assert "Later subgoals: Close the editor; Report" in worker and "Notes: n" in worker
