"""Infrastructure faults: retried, recorded, never counted against the agent, resumable.

The model server is an OpenAI-wire HTTP server on 127.0.0.1 that answers with the
scripted oracle's replies (no real model server runs on these machines) and can be
told to stall, so the client's real timeout fires. Worker deaths are real: a pool
worker process is SIGKILLed mid-episode.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from steadyhand.agents.sql import write_oracle_script
from steadyhand.core import ModelServerFault
from steadyhand.evals import ResultStore, RunConfig, resolve_suite, run_suite, summarize_run
from steadyhand.models import load


@dataclass
class StallingServer:
    """An OpenAI-compatible endpoint backed by the oracle script; the first ``stall`` requests hang."""

    url: str
    stall: int = 0
    requests: int = 0
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[StallingServer]:
    script = tmp_path / "oracle.json"
    write_oracle_script(resolve_suite("sql-mini").load(), script)
    oracle = load(f"scripted:{script}")
    roles = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    state = StallingServer(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                state.requests += 1
                stall = state.requests <= state.stall
            if stall:
                state.release.wait(30)  # far past the client's timeout
                return
            messages = [roles[m["role"]](content=m["content"]) for m in body["messages"]]
            text = str(oracle.invoke(messages).content)
            data = json.dumps({
                "id": "c", "object": "chat.completion", "created": 0, "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            }).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    yield state
    state.release.set()
    httpd.shutdown()
    httpd.server_close()


def _spec(server: StallingServer) -> str:
    return f"openai:oracle@{server.url}?timeout=0.5&max_retries=0"


def test_a_server_timeout_is_a_model_server_fault(server: StallingServer) -> None:
    server.stall = 1
    model = load(_spec(server))
    task = next(iter(resolve_suite("sql-mini").load()))
    question = f"Database: {task.metadata['db_id']}\nQuestion: {task.instruction}"
    with pytest.raises(ModelServerFault, match="Timeout") as caught:
        model.invoke(question)
    assert server.url in str(caught.value) and caught.value.__cause__ is not None
    assert "SELECT" in str(model.invoke(question).content)  # it answers again: no state left behind


def test_a_timeout_is_retried_and_recorded_not_counted(server: StallingServer, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'results.db'}"
    server.stall = 1  # the first episode's first call times out
    result = run_suite(RunConfig(suite="sql-mini", model=_spec(server), limit=3, max_infra_retries=1),
                       store_url=url, progress=False)
    assert [r.status for r in result.results] == ["done"] * 3
    store = ResultStore(url)
    episodes = store.episodes(result.run_id)
    first = episodes[0]
    assert first["attempt"] == 2 and first["infra_faults"] == 1 and first["scores"]["score"] == 1.0
    assert [e["infra_faults"] for e in episodes[1:]] == [0, 0]
    [fault] = store.infra_faults(result.run_id)[first["task_id"]]
    assert fault["attempt"] == 1 and "ModelServerFault" in fault["error"]
    overall = summarize_run(store, result.run_id).overall
    assert (overall.errors, overall.infra_errors, overall.infra_faults, overall.score) == (0, 0, 1, 1.0)
    store.close()


def test_spent_retries_leave_the_episode_for_resume(server: StallingServer, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'results.db'}"
    server.stall = 10**6  # the server is down for the whole first run
    result = run_suite(RunConfig(suite="sql-mini", model=_spec(server), limit=2, max_infra_retries=1),
                       store_url=url, progress=False)
    assert [r.status for r in result.results] == ["infra_error"] * 2
    store = ResultStore(url)
    summary = summarize_run(store, result.run_id).overall
    # Nothing is held against the agent: no agent errors, no scored failures.
    assert (summary.errors, summary.infra_errors, summary.infra_faults, summary.finished) == (0, 2, 4, 0)
    assert sorted(store.pending_tasks(result.run_id)) == sorted(e["task_id"] for e in store.episodes(result.run_id))

    server.stall = 0
    server.release.set()
    resumed = run_suite(RunConfig(suite="", model=""), store_url=url, resume=result.run_id, progress=False)
    assert [r.status for r in resumed.results] == ["done"] * 2
    episodes = store.episodes(result.run_id)
    assert [(e["status"], e["attempt"], e["infra_faults"]) for e in episodes] == [("done", 3, 2)] * 2
    assert summarize_run(store, result.run_id).overall.score == 1.0
    store.close()


def _pool_workers() -> list[int]:
    """Pids of this process's multiprocessing spawn workers (not its resource tracker)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid() and "spawn_main" in cmdline and "resource_tracker" not in cmdline:
            pids.append(int(entry.name))
    return pids


@pytest.mark.slow
def test_a_killed_worker_is_replaced_and_its_episodes_rerun(tmp_path: Path, kill_once_mid_episode: Any) -> None:
    script = tmp_path / "oracle.json"
    write_oracle_script(resolve_suite("sql-mini").load(), script)
    url = f"sqlite:///{tmp_path / 'results.db'}"
    killer, killed = kill_once_mid_episode(tmp_path / "results.db", _pool_workers)
    # 0.2 s per model call keeps episodes in flight when the kill lands.
    result = run_suite(RunConfig(suite="sql-mini", model=f"scripted:{script}?delay_s=0.2", limit=6,
                                 concurrency=2, max_infra_retries=2), store_url=url, progress=False)
    killer.join()
    assert killed, "no worker was seen running an episode"
    assert [r.status for r in result.results] == ["done"] * 6
    store = ResultStore(url)
    faults = store.infra_faults(result.run_id)
    assert faults and all("worker died" in f["error"] for fs in faults.values() for f in fs)
    episodes = store.episodes(result.run_id)
    assert all(e["scores"]["score"] == 1.0 for e in episodes)
    assert sum(e["infra_faults"] for e in episodes) == sum(len(fs) for fs in faults.values())
    store.close()
