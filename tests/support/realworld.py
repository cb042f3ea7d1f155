"""Where the third-party corpus lives: `<repo root>/../shared/realworld` (CI clones the repo
next to shared/). In a git worktree, the main checkout's `../shared` is used."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def realworld_root() -> Path | None:
    candidates = [REPO_ROOT.parent / "shared" / "realworld"]
    try:
        common = subprocess.run(
            ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
            cwd=REPO_ROOT, capture_output=True, text=True, check=True,
        ).stdout.strip()
        candidates.append(Path(common).parent.parent / "shared" / "realworld")
    except (OSError, subprocess.CalledProcessError):
        pass
    for path in candidates:
        if (path / "data").is_dir() and (path / "truth").is_dir():
            return path
    return None


ABSENT_MESSAGE = (
    "third-party corpus ../shared/realworld is absent (expected beside the repository: "
    f"{REPO_ROOT.parent / 'shared' / 'realworld'})"
)
