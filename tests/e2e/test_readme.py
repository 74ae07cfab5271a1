"""The README's curl walk-through, run as written against a real server: the docs cannot rot."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.support.processes import Launch

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"


def _walkthrough() -> str:
    text = README.read_text()
    section = text.split("## First enrolment with curl", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the README lost its curl walk-through"
    return block.group(1)


def test_the_readme_walkthrough_enrols_signs_in_and_shows_the_audit(
    launch: Launch, tmp_path: Path, fresh_database: str, debian_tools: None
) -> None:
    server = launch(data_dir=tmp_path / "data", database_url=fresh_database, bootstrap_api_key=None)
    script = _walkthrough().replace("http://127.0.0.1:8080", server.base_url)

    run = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert run.returncode == 0, run.stderr
    answers = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    audit = answers[-1]["content"]
    outcomes = [
        (record["authAuditRecord"]["result"], record["authAuditRecord"].get("errorCode"))
        for record in audit
    ]
    assert outcomes == [("SUCCESS", None), ("SUCCESS", None), ("FAILURE", 3402)]
    assert (tmp_path / "data" / "qr.png").read_bytes().startswith(b"\x89PNG")
