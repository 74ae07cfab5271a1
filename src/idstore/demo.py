"""`idstore demo`: placeholder until the guided enrolment lands."""

from __future__ import annotations

from pathlib import Path


def run_demo(*, url: str, api_key: str | None, data_dir: Path) -> int:
    raise NotImplementedError("idstore demo is being written")
