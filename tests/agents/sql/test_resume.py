"""A killed episode resumes from its checkpoint in a new process.

Real processes, a real SIGKILL, a real SqliteSaver checkpoint file and a real
SQLite database; the model is scripted so the calls can be counted exactly.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from steadyhand.core import Task

CHILD = Path(__file__).with_name("episode_child.py")
GOLD = "SELECT count(*) FROM singer WHERE country = 'France'"


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _run_child(tmp_path: Path, base: dict[str, Any], kill_at: int) -> subprocess.CompletedProcess[str]:
    config = tmp_path / f"child-{kill_at}.json"
    config.write_text(json.dumps({**base, "kill_at": kill_at}))
    return subprocess.run([sys.executable, str(CHILD), str(config)], capture_output=True, text=True,
                          timeout=300, check=False)


def test_a_killed_episode_resumes_without_repeating_model_calls(tmp_path: Path, music_task: Task) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"rules": [
        {"when": r"\AQuery result:", "reply": "SUBMIT"},
        {"when": r"\AQuery error:", "reply": f"```sql\n{GOLD}\n```"},
        {"when": "Question:", "reply": "```sql\nSELECT count(*) FROM singers\n```"},
    ]}))
    calls_log, steps_log = tmp_path / "calls.jsonl", tmp_path / "steps.jsonl"
    base = {"task": music_task.model_dump_json(), "script": str(script),
            "checkpoints": str(tmp_path / "checkpoints.sqlite"), "thread_id": "run-1/music-1/1",
            "calls_log": str(calls_log), "steps_log": str(steps_log)}

    # 1. Killed during its third model call (after two queries ran: the broken one and the fix).
    killed = _run_child(tmp_path, base, kill_at=3)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    first_calls = _lines(calls_log)
    assert len(first_calls) == 3
    assert [s["action"]["kind"] for s in _lines(steps_log)] == ["sql.execute", "sql.execute"]

    # 2. A new process, same thread and checkpoint file: it continues and finishes.
    resumed = _run_child(tmp_path, base, kill_at=0)
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert result["score"] == 1.0, result
    assert result["outcome"] == {"status": "terminated", "steps": 3, "error": None, "final_answer": GOLD}
    calls = _lines(calls_log)
    second_calls = [c for c in calls if c["pid"] != first_calls[0]["pid"]]
    # Only the interrupted call is made again; the two answered before the kill are not.
    assert len(second_calls) == 1
    assert second_calls[0]["prompt"] == first_calls[2]["prompt"]
    assert second_calls[0]["prompt"].startswith("Query result:")
    steps = _lines(steps_log)
    assert [(s["index"], s["action"]["kind"]) for s in steps] == [
        (0, "sql.execute"), (1, "sql.execute"), (2, "sql.submit")]
    assert steps[-1]["pid"] != steps[0]["pid"]

    # 3. Once finished, the thread is not run again: no model call, no step.
    again = _run_child(tmp_path, base, kill_at=0)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.strip().splitlines()[-1]) == result
    assert len(_lines(calls_log)) == len(calls)
    assert len(_lines(steps_log)) == len(steps)
