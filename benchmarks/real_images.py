"""The real-image set: photos and scans that nobody on the project made, labelled by eye.

The images stay where they were published: ``benchmarks/real/labels.jsonl`` names each
one by repository, commit, path and SHA-256, with its licence and its truth (WeChat's
reply fields, snake_case), and ``split`` says whether the extractors were tuned on it
("tune") or not ("holdout"). This script gathers the images into a cache folder, from
local git mirrors (``--mirror``: folders named ``owner+name``, each holding the git
directory ``repo``, bare or a checkout) or from raw.githubusercontent.com, and checks
every byte against the SHA-256 recorded.

    python benchmarks/real_images.py [--mirror /work/.mirror] [--cache benchmarks/.real-images]

``benchmarks/local_engine.py --real`` reads the cache and scores the engine on it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LABELS = HERE / "real" / "labels.jsonl"
CACHE = HERE / ".real-images"
#: the largest image the set takes: WeChat's own upload limit
MAX_IMAGE_BYTES = 2 * 1024 * 1024


def labels(path: Path = LABELS) -> list[dict[str, Any]]:
    """Every labelled image, in the file's order."""
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def cached_path(label: dict[str, Any], cache: Path = CACHE) -> Path:
    """Where the image of ``label`` is kept in the cache (named by its id)."""
    return cache / f"{label['id']}{Path(label['path']).suffix.lower()}"


def _from_mirror(mirror: Path, label: dict[str, Any]) -> bytes | None:
    folder = mirror / label["repo"].replace("/", "+") / "repo"
    git_dir = folder / ".git" if (folder / ".git").is_dir() else folder  # bare or not
    if not git_dir.is_dir():
        return None
    shown = subprocess.run(
        ["git", f"--git-dir={git_dir}", "show", f"{label['commit']}:{label['path']}"],
        capture_output=True,
        check=False,
    )
    return shown.stdout if shown.returncode == 0 else None


def _from_github(label: dict[str, Any]) -> bytes | None:
    url = f"https://raw.githubusercontent.com/{label['repo']}/{label['commit']}/{label['path']}"
    try:
        with urllib.request.urlopen(url, timeout=30) as reply:
            data: bytes = reply.read(MAX_IMAGE_BYTES + 1)
            return data
    except OSError:
        return None


def gather(mirror: Path | None, cache: Path = CACHE) -> tuple[int, list[str]]:
    """Bring every image into ``cache``; (images ready, problems)."""
    cache.mkdir(parents=True, exist_ok=True)
    ready, problems = 0, []
    for label in labels():
        target = cached_path(label, cache)
        if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == label["sha256"]:
            ready += 1
            continue
        data = (_from_mirror(mirror, label) if mirror else None) or _from_github(label)
        if data is None:
            problems.append(f"{label['id']}: not found ({label['repo']}@{label['commit'][:10]})")
        elif len(data) > MAX_IMAGE_BYTES:
            problems.append(f"{label['id']}: larger than 2 MB")
        elif hashlib.sha256(data).hexdigest() != label["sha256"]:
            problems.append(f"{label['id']}: the bytes differ from the SHA-256 recorded")
        else:
            target.write_bytes(data)
            ready += 1
    return ready, problems


def main() -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/real_images.py")
    parser.add_argument("--mirror", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args()
    mirror = args.mirror if args.mirror.is_dir() else None
    ready, problems = gather(mirror, args.cache)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{ready} of {ready + len(problems)} images in {args.cache}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
