"""Read ``asv.conf.json`` the way ``asv publish`` does.

asv parses the file as JSON with JavaScript comments (json5), requires ``repo`` and a
non-empty ``branches`` when given, and resolves relative paths against the directory it
runs in. perfwatch runs asv in the directory of the configuration file, so every
relative path here is resolved against that directory too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import json5

from perfwatch.errors import ConfigError

__all__ = ["AsvConfig", "find_config", "load_asv_config"]

# asv's defaults (asv/config.py, Config.__init__).
_DEFAULTS: dict[str, Any] = {
    "project": "project",
    "project_url": "#",
    "results_dir": "results",
    "html_dir": "html",
    "show_commit_url": "#",
    "hash_length": 8,
}


@dataclass(frozen=True)
class AsvConfig:
    """The parts of an asv configuration that publishing needs (paths made absolute)."""

    path: Path  # the configuration file
    root: Path  # its directory: asv runs there, relative paths resolve there
    project: str
    project_url: str
    repo: str  # a URL or a path, as written
    repo_path: Path | None  # the local repository, when ``repo`` is a local path
    results_dir: Path
    html_dir: Path
    branches: tuple[str | None, ...]  # (None,) when the file names none: the default branch
    show_commit_url: str
    hash_length: int

    @property
    def branch(self) -> str | None:
        """The first configured branch (the one perfwatch analyses)."""
        return self.branches[0]

    def local_repo(self) -> Path:
        """The local git repository: ``repo`` itself, or asv's clone of a URL repo."""
        if self.repo_path is not None:
            return self.repo_path
        mirror = self.root / self.project  # asv keeps its clone of a URL repo here
        if mirror.is_dir():
            return mirror
        raise ConfigError(f"repo {self.repo!r} is not a local path and asv has no clone at "
                          f"{mirror}", hint="run `asv publish` once, or point 'repo' at a local clone")


def find_config(path: Path | None, *, cwd: Path) -> Path:
    """The configuration file: ``path``, else ``asv.conf.json`` / ``.jsonc`` in ``cwd``."""
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"config file {path} not found",
                              hint="pass --config PATH to your asv.conf.json", path=path)
        return path
    found = [p for p in (cwd / "asv.conf.json", cwd / "asv.conf.jsonc") if p.is_file()]
    if not found:
        raise ConfigError(f"no asv.conf.json in {cwd}",
                          hint="run in the directory of asv.conf.json or pass --config PATH",
                          path=cwd)
    if len(found) > 1:
        raise ConfigError(f"both asv.conf.json and asv.conf.jsonc in {cwd}",
                          hint="pass --config PATH to choose one", path=cwd)
    return found[0]


def _parse(path: Path) -> dict[str, Any]:
    try:
        data = json5.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read {path}: {err}", hint="check the file", path=path) from None
    except ValueError as err:
        raise ConfigError(f"{path} is not valid JSON: {err}",
                          hint="fix the syntax (asv accepts // comments)", path=path) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not a JSON object", hint="check the file", path=path)
    return data


def _branches(data: dict[str, Any], path: Path) -> tuple[str | None, ...]:
    if "branches" not in data:
        return (None,)
    raw = data["branches"]
    if not isinstance(raw, list) or not raw or not all(isinstance(b, str) for b in raw):
        raise ConfigError(f"{path}: 'branches' must be a non-empty list of branch names",
                          hint='for example "branches": ["main"]', path=path)
    return tuple(raw)


def load_asv_config(path: Path) -> AsvConfig:
    """Parse ``path`` like ``asv.config.Config.load`` and resolve its directories."""
    path = path.resolve()
    data = {**_DEFAULTS, **_parse(path)}
    repo = data.get("repo")
    if not isinstance(repo, str) or not repo:
        raise ConfigError(f"{path}: no 'repo' given", hint='add "repo": "." (or a URL)', path=path)
    root = path.parent
    local = root / repo
    return AsvConfig(
        path=path,
        root=root,
        project=str(data["project"]),
        project_url=str(data["project_url"]),
        repo=repo,
        repo_path=local.resolve() if local.is_dir() else None,
        results_dir=(root / str(data["results_dir"])).resolve(),
        html_dir=(root / str(data["html_dir"])).resolve(),
        branches=_branches(data, path),
        show_commit_url=str(data["show_commit_url"]),
        hash_length=int(data["hash_length"]),
    )
