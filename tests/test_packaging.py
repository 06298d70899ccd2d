"""What a user installing the package sees: its metadata, its files. (.ci/sdist-check
builds the sdist and the wheel, checks them with twine and runs this suite from the
unpacked sdist; these are the cheap checks that run everywhere.)"""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import wxocr_async

ROOT = Path(__file__).resolve().parent.parent


def test_metadata_has_license_classifiers_and_urls() -> None:
    meta = importlib.metadata.metadata("wxocr_async")
    assert meta["Name"] == "wxocr_async" and meta["Version"] == wxocr_async.__version__
    assert meta["License-Expression"] == "MIT"
    classifiers = set(meta.get_all("Classifier") or [])
    for wanted in (
        "Framework :: AsyncIO",
        "Typing :: Typed",
        "Operating System :: OS Independent",
        "Programming Language :: Python :: 3.11",
    ):
        assert wanted in classifiers
    assert any(c.startswith("Topic ::") for c in classifiers)
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert {"Homepage", "Source", "Issues", "Changelog"} <= set(urls)


def test_minimum_versions_are_declared_for_every_dependency() -> None:
    requires = importlib.metadata.requires("wxocr_async") or []
    core = [r for r in requires if "extra ==" not in r]
    assert {re.split(r"[<>=!~ ;\[]", r)[0] for r in core} == {
        "aiohttp",
        "attrs",
        "cattrs",
        "cachetools",
    }
    pinned = ('extra == "lint"', 'extra == "bench"')  # exact on purpose: reproducible tools
    assert all(">=" in r for r in requires if not any(p in r for p in pinned))
    assert any(r.startswith("aiohttp>=3.9.1") for r in core)  # 3.9.0 fails the suite


def test_the_sdist_manifest_carries_what_the_tests_need() -> None:
    manifest = (ROOT / "MANIFEST.in").read_text()
    for needed in ("tox.ini", "LICENSE", "recursive-include tests *.py *.json"):
        assert needed in manifest
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_the_package_is_typed() -> None:
    assert (Path(wxocr_async.__file__).parent / "py.typed").exists()
