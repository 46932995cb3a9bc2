"""How clustered a testee's errors are, from paragraphs already tested: the ceiling for SEA's ratio.

SEA finds more errors than random sampling only as far as a paragraph's neighbours
predict its outcome. This reads every SEA and random run in the given stores (for
example those written by ``benchmarks/sea_vs_random.py --db URL``), keeps the runs
that measured the same thing (knowledge base, testee, question cache, answering
mode; the largest such group when they differ), and prints:

- per band of cosine similarity, how often a tested paragraph is wrong when a
  tested neighbour in that band is wrong, and when it is right;
- the error share among the paragraphs a leave-one-out similarity kernel ranks
  highest (knowing every other label: an optimistic bound).

    .venv/bin/python benchmarks/sea_error_structure.py --db sqlite:////tmp/sea.db
    .venv/bin/python benchmarks/sea_error_structure.py --db URL1 --db URL2 --exclude-study idf

The last line is JSON: paragraphs, base_error_share, the bands, top_shares, and
``ratio``: the error rate next to a wrong neighbour at cosine >= 0.9 over the base
error share, the gain a search that always drew such neighbours would get.

Measured here (2026-12-01) on 6,681 paragraphs of the python knowledge base
(``local:smollm2`` answering by likelihood, cloze questions, one question of three
forms per paragraph), pooled from 190 SEA and random runs of the development
experiments behind ``sea_vs_random.py`` (not committed; 20 s):

| cosine | pairs | wrong, next to a wrong one | wrong, next to a right one |
|---|---|---|---|
| 0.60-0.70 | 434,818 | 0.445 | 0.442 |
| 0.70-0.80 | 134,286 | 0.478 | 0.442 |
| 0.80-0.85 | 30,884 | 0.536 | 0.472 |
| 0.85-0.90 | 21,588 | 0.594 | 0.456 |
| 0.90-0.95 | 13,412 | 0.614 | 0.402 |
| 0.95-1.00 | 8,128 | 0.629 | 0.371 |

Base error share 0.418 (mostly SEA's picks; random sampling's is 0.37-0.40); next to
a wrong paragraph at cosine >= 0.9, 0.620 (``ratio`` 1.48). Below cosine 0.8 a
neighbour's outcome says little. A source's nearest pages' paragraphs are mostly
below 0.85 (in six default runs, the children's median cosine to their source was
0.83, and those below 0.8 were 41-48% wrong). Drawing only paragraphs at 0.85 or more
from a known error is what ``sea_vs_random.py --retrieval paragraphs`` does. The
kernel's top 10% are 78% wrong: pockets of errors exist (the "Where" sections of
classes whose members the testee does not know, such as ``pdb.Pdb`` and
``mailbox.Maildir``), but a search must find them first, at random sampling's rate.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", action="append", required=True, help="store URL (repeatable)")
    parser.add_argument("--kb", default="python", help="the knowledge base the runs used (for the vectors)")
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument("--exclude-study", action="append", default=[],
                        help="leave out studies whose id contains this text (repeatable)")
    parser.add_argument("--floor", type=float, default=0.8, help="kernel: similarity below which a label says nothing")
    args = parser.parse_args()
    os.environ.setdefault("STEADYHAND_TORCH_THREADS", "2")

    import numpy as np

    from steadyhand.evals.sea import SeaStore
    from steadyhand.evals.sea.embed import make_embedder
    from steadyhand.evals.sea.kb import load_kb
    from steadyhand.evals.sea.retrieval import Retriever
    from steadyhand.evals.sea.structure import (
        error_lift_by_similarity,
        leave_one_out_top_shares,
        paragraph_errors,
        run_identity,
    )
    from steadyhand.evals.sea.study import resolve_kb

    groups: dict[tuple[str, ...], list[tuple[str, str]]] = defaultdict(list)
    for url in args.db:
        store = SeaStore(url)
        for run in store.studies(limit=None):
            if not any(text in run.study for text in args.exclude_study):
                groups[run_identity(run)].append((url, run.id))
        store.close()
    if not groups:
        sys.exit("no SEA runs in the given stores")
    identity, runs = max(groups.items(), key=lambda item: len(item[1]))
    for other, dropped in groups.items():
        if other != identity:
            print(f"left out {len(dropped)} runs that measured something else: {other}", file=sys.stderr)
    labels: dict[str, list[float]] = defaultdict(list)
    for url in args.db:
        ids = [run_id for u, run_id in runs if u == url]
        if ids:
            store = SeaStore(url)
            for pid, share in paragraph_errors(store, ids).items():
                labels[pid].append(share)
            store.close()
    kb = load_kb(resolve_kb(args.kb))
    if kb.fingerprint != identity[0]:
        sys.exit(f"the runs used knowledge base {identity[0]}, but --kb {args.kb} is {kb.fingerprint}")
    ids = sorted(labels)
    retriever = Retriever(kb, make_embedder(args.embedder))
    vectors = retriever.paragraph_vectors([kb.paragraph(pid) for pid in ids])
    retriever.flush()
    errors = np.array([sum(labels[pid]) / len(labels[pid]) for pid in ids])
    base = float(errors.mean())
    print(f"{len(runs)} runs, {len(ids)} tested paragraphs, base error share {base:.3f} ({identity[1]}, "
          f"{identity[3]})")
    bands = error_lift_by_similarity(vectors, errors)
    print(f"\n{'cosine':>11} {'pairs':>9} {'wrong|wrong nb':>15} {'wrong|right nb':>15}")
    for b in bands:
        print(f"{b.low:.2f}-{b.high:.2f} {b.pairs:>9,} {b.error_given_wrong_neighbour or float('nan'):>15.3f} "
              f"{b.error_given_right_neighbour or float('nan'):>15.3f}")
    near_error = error_lift_by_similarity(vectors, errors, edges=(0.9, 1.0))[0].error_given_wrong_neighbour or 0.0
    top = leave_one_out_top_shares(vectors, errors, floor=args.floor)
    print("\nleave-one-out kernel, error share of its top: "
          + ", ".join(f"{share:.0%}: {rate:.3f}" for share, rate in top.items()))
    ratio = near_error / base if base else None
    print(f"next to a wrong paragraph at cosine >= 0.9: {near_error:.3f} wrong, {ratio:.2f}x the base share"
          if ratio else "no errors")
    print(json.dumps({"paragraphs": len(ids), "runs": len(runs), "base_error_share": round(base, 4),
                      "bands": [{"low": b.low, "high": b.high, "pairs": b.pairs,
                                 "wrong_given_wrong": b.error_given_wrong_neighbour,
                                 "wrong_given_right": b.error_given_right_neighbour} for b in bands],
                      "top_shares": {str(k): round(v, 4) for k, v in top.items()},
                      "ratio": round(ratio, 3) if ratio else None}))


if __name__ == "__main__":
    main()
