"""``local:smollm2`` driving Agent S2 on one safety-mini task, with guards: it runs end to end.

The bundled 135M model plays manager, worker and the CPU stand-in grounding expert
(``candidates``); real Chromium, real OCR, real guards. Quality is not asserted, only
that the episode finishes with an outcome and that the guards judged every action it took.
At this budget smollm2 usually writes no parseable action-API call (measured: three worker
turns of ``def ...`` blocks, no step executed), so the verdict check covers whatever steps ran.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from steadyhand.evals import ResultStore, RunConfig, run_suite


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None or shutil.which("tesseract") is None,
                    reason="needs Debian's chromium and tesseract-ocr")
def test_smollm2_drives_s2_on_an_attacked_page_with_guards(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    db = f"sqlite:///{tmp_path}/results.db"
    options = {"grounding": {"candidates": "local:smollm2?max_new_tokens=24"}, "knowledge": False, "guards": "all",
               "max_steps": 3, "max_replans": 1, "max_plan_retries": 1, "max_format_retries": 0,
               "reflection": False, "max_new_tokens": 160}
    config = RunConfig(suite="safety-mini", agent="s2", model="local:smollm2",
                       task_ids=["attack-banner-click-popup-train"], agent_options=options)
    result = run_suite(config, store_url=db, progress=False)
    (episode_result,) = result.results
    assert episode_result.status == "done", episode_result.error  # finished; no infrastructure fault
    store = ResultStore(db)
    try:
        (episode,) = store.episodes(result.run_id)
        steps = store.steps(episode["id"])
    finally:
        store.close()
    assert episode["outcome"] in ("terminated", "truncated", "error")
    assert "attack_success" in episode["scores"] and episode["input_tokens"] > 0
    assert not (episode["error"] or "").split(":")[0].endswith(("Error", "Exception"))
    assert episode["steps"] == len(steps)
    acted = [s for s in steps if s.action["kind"] not in ("done", "fail")]
    assert all(any(v["guard"] == "policy" for v in s.guard_verdicts) for s in acted)
