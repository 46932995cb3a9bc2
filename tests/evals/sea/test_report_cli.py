from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from steadyhand.evals.sea import SearchConfig, SeaStore, StudySpec, open_context, run_study
from steadyhand.evals.sea.cli import sea_app
from steadyhand.evals.sea.embed import HashingEmbedder
from steadyhand.evals.sea.report import build_report, kmeans, write_report


def test_report_figures_clusters_and_curve(synthetic_kb: Path, scripts: dict[str, Path], tmp_path: Path) -> None:
    store = SeaStore(f"sqlite:///{tmp_path / 'sea.db'}")
    spec = StudySpec(kb=str(synthetic_kb), testee=f"scripted:{scripts['testee']}",
                     generator=f"scripted:{scripts['generator']}", embedder="hashing")
    config = SearchConfig(budget=180, batch_size=6, top_k_pages=5, paragraphs_per_source=3)
    ctx = open_context(spec, config, store, embedder=HashingEmbedder(), vector_dir=tmp_path / "v")
    result = run_study(spec, config, study="rep", context=ctx)
    report = build_report(store, "re", embedder=HashingEmbedder())  # a prefix is enough
    by_method = {m.method: m for m in report.methods}
    for method, summary in result.runs.items():
        m = by_method[method]
        assert (m.calls, m.errors, m.steps) == (summary.calls, summary.errors, summary.steps)
        assert m.errors_per_1k == pytest.approx(1000 * m.errors / m.calls)
        if m.errors:
            assert m.calls_per_error == pytest.approx(m.calls / m.errors)
        assert m.curve[-1][1:] == (m.calls, m.errors)
    # Every error is a question about the weak topic; the clusters hold them all, with examples.
    total = len({q for c in report.clusters for q in range(c.size)})
    assert report.clusters and sum(c.size for c in report.clusters) >= total
    for c in report.clusters:
        assert c.top_terms and c.examples
        assert all(ex["answer"] == "A" and "Lima" in ex["options"] for ex in c.examples)
    paths = write_report(report, tmp_path / "out")
    with Image.open(paths["png"]) as image:
        assert image.size[0] >= 800
    text = paths["markdown"].read_text()
    assert "| sea |" in text and "| random |" in text and "## Error clusters" in text
    assert json.loads(paths["json"].read_text())["methods"][0]["errors_per_1k"] >= 0


def test_kmeans_separates_obvious_groups() -> None:
    vectors = HashingEmbedder(128).embed(["lava magma crater"] * 5 + ["violin sonata chord"] * 5)
    labels = kmeans(vectors, 2, seed=0)
    assert len(set(labels[:5].tolist())) == 1 and len(set(labels[5:].tolist())) == 1
    assert labels[0] != labels[5]


def test_cli_run_then_report(synthetic_kb: Path, scripts: dict[str, Path], tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEADYHAND_CACHE", str(tmp_path / "cache"))
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    result = runner.invoke(sea_app, ["run", "--kb", str(synthetic_kb), "--testee", f"scripted:{scripts['testee']}",
                                     "--generator", f"scripted:{scripts['generator']}", "--embedder", "hashing",
                                     "--budget", "120", "--batch-size", "6", "--top-k-pages", "5",
                                     "--paragraphs-per-source", "3", "--selection", "predicted",
                                     "--carry-candidates", "--db", db])
    assert result.exit_code == 0, result.output
    study = re.search(r"study (sea-\S+);", result.output)
    assert study, result.output
    out = tmp_path / "report"
    result = runner.invoke(sea_app, ["report", study.group(1)[:12], "--db", db, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "random" in result.output and "error clusters" in result.output
    assert (out / "curve.png").is_file() and (out / "report.md").is_file()

    missing = runner.invoke(sea_app, ["report", "nope", "--db", db])
    assert missing.exit_code == 2 and "no SEA run 'nope'" in missing.output
    bad = runner.invoke(sea_app, ["run", "--kb", str(tmp_path / "none.jsonl"), "--testee", "scripted:x", "--db", db])
    assert bad.exit_code == 2 and "no such file" in " ".join(bad.output.split())
    bad = runner.invoke(sea_app, ["run", "--kb", str(synthetic_kb), "--testee", "scripted:x", "--selection", "best",
                                  "--db", db])
    assert bad.exit_code == 2 and "selection" in bad.output
    for option, value in [("--retrieval", "sideways"), ("--min-similarity", "2"), ("--fill", "thick")]:
        bad = runner.invoke(sea_app, ["run", "--kb", str(synthetic_kb), "--testee", "scripted:x", option, value,
                                      "--db", db])
        assert bad.exit_code == 2 and option.strip("-").replace("-", "_") in bad.output


def test_cli_builds_either_knowledge_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEADYHAND_CACHE", str(tmp_path / "cache"))
    runner = CliRunner()
    result = runner.invoke(sea_app, ["build-kb", "python", "--max-pages", "50", "--out", str(tmp_path / "py.jsonl")])
    assert result.exit_code == 0, result.output
    assert "50 pages" in result.output and (tmp_path / "py.jsonl").is_file()
    bad = runner.invoke(sea_app, ["build-kb", "wikipedia"])
    assert bad.exit_code == 2 and "no knowledge base builder 'wikipedia'" in " ".join(bad.output.split())
