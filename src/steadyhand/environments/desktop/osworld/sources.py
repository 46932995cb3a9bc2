"""Where the files a task downloads come from, without the internet.

OSWorld tasks name their input files (setup ``download``) and gold files (``cloud_file``
getters) by URL. Here a URL is served from, in order:

1. ``file://`` URLs and plain paths (absolute, or relative to the task file's folder);
2. ``http(s)`` URLs on a loopback host (a test server on this machine);
3. the user's cache folder (:attr:`OSWorldOptions.file_cache`), in OSWorld's cache layout;

and anything else is :class:`~steadyhand.environments.desktop.osworld.context.UnsupportedTask`
("not available offline").
"""

from __future__ import annotations

import ipaddress
import urllib.request
import uuid
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

from steadyhand.environments.desktop.osworld.context import UnsupportedTask

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` names this machine."""
    if not host:
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def cache_candidates(url: str, *, file_cache: Path, task_id: str, name: str) -> list[Path]:
    """The places in ``file_cache`` a copy of ``url`` may be, most specific first.

    ``name`` is the file's name at its destination (setup ``path`` or getter ``dest``).
    """
    url_name = PurePosixPath(unquote(urlparse(url).path)).name
    candidates = [file_cache / task_id / name,
                  file_cache / task_id / f"{uuid.uuid5(uuid.NAMESPACE_URL, url)}_{name}"]
    if url_name:
        candidates += [file_cache / task_id / url_name, file_cache / url_name]
    return candidates


def locate(url: str, *, base_dir: Path | None, file_cache: Path | None, task_id: str,
           name: str) -> Path | str:
    """Where ``url`` would be read from: a local path, or the URL itself for a loopback server.

    Raises:
        UnsupportedTask: a remote URL with no copy in the cache (or no cache).
    """
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme == "file":
        return Path(unquote(parsed.path))
    if scheme in ("http", "https"):
        if is_loopback(parsed.hostname):
            return url
        if file_cache is not None:
            for candidate in cache_candidates(url, file_cache=file_cache, task_id=task_id, name=name):
                if candidate.is_file():
                    return candidate
            where = f"none of {file_cache}/{task_id}/{name} or {file_cache}/{PurePosixPath(parsed.path).name}"
            raise UnsupportedTask("file", url, f"not available offline ({where} exists)")
        raise UnsupportedTask("file", url, "not available offline; give a cache folder holding a copy")
    if scheme and len(scheme) > 1:  # another scheme (ftp, gs, ...); one letter is a Windows drive
        raise UnsupportedTask("file", url, f"{scheme}:// URLs are not supported")
    path = Path(url)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path


def fetch(url: str, *, base_dir: Path | None, file_cache: Path | None, task_id: str, name: str,
          timeout_s: float = 60.0) -> bytes:
    """The bytes of ``url`` (see the module docstring for where they come from).

    Raises:
        UnsupportedTask: a remote URL with no local copy.
        FileNotFoundError: a local path that does not exist.
    """
    where = locate(url, base_dir=base_dir, file_cache=file_cache, task_id=task_id, name=name)
    if isinstance(where, Path):
        if not where.is_file():
            raise FileNotFoundError(f"{url}: no file at {where}")
        return where.read_bytes()
    with urllib.request.urlopen(where, timeout=timeout_s) as response:
        data: bytes = response.read()
        return data
