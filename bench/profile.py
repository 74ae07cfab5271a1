"""Where idstore's time goes: py-spy samples its worker processes during one extra run.

The profiled run is not one of the measured ones (sampling costs the server time). py-spy is
optional: without it, `--profile` says so and the rest of the benchmark runs as usual.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.services import VENV_BIN

RATE = 200
TOP = 25
_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^:]*)(?::\d+)?\)$")
_STDLIB = re.compile(r"/python3\.\d+/(?!site-packages/)")


def py_spy() -> str | None:
    local = VENV_BIN / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def start(
    binary: str, pids: Sequence[int], seconds: float, out: Path
) -> list[subprocess.Popen[bytes]]:
    """One py-spy per worker process, sampling for `seconds` into out/<pid>.txt (collapsed)."""
    recorders = []
    for pid in pids:
        command = [binary, "record", "--pid", str(pid), "--duration", f"{max(int(seconds), 1)}"]
        command += ["--rate", str(RATE), "--format", "raw", "--nonblocking", "--function"]
        command += ["--full-filenames"]
        command += ["--output", str(out / f"{pid}.txt")]
        recorders.append(
            subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
    return recorders


def summarize(files: Sequence[Path]) -> dict[str, Any]:
    """Samples by package (the innermost frame's), the top functions by self and total time."""
    packages: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for path in files:
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            count = int(count_text)
            frames = [_frame(frame) for frame in stack.split(";")]
            samples += count
            packages[_package(frames[-1])] += count
            own[frames[-1]] += count
            for frame in set(frames):
                total[frame] += count
    return {
        "samples": samples,
        "by_package": _shares(packages, samples, len(packages)),
        "top_self": _shares(own, samples, TOP),
        "top_total_idstore": _shares(
            Counter({frame: n for frame, n in total.items() if "idstore/" in frame}), samples, TOP
        ),
    }


def _frame(text: str) -> str:
    """`function (file)`, the file shortened to its package path (`stdlib/` for the stdlib)."""
    found = _FRAME.match(text.strip())
    if found is None:
        return text.strip()
    file = found["file"]
    if "/site-packages/" in file:
        file = file.split("/site-packages/", 1)[1]
    elif "/src/" in file:
        file = file.split("/src/", 1)[1]
    elif _STDLIB.search(file):
        file = "stdlib/" + _STDLIB.split(file, 1)[1]
    return f"{found['function']} ({file})"


def _package(frame: str) -> str:
    """The top-level package of a frame: `sqlalchemy`, `idstore`, `stdlib/asyncio`."""
    parts = frame.rsplit("(", 1)[-1].rstrip(")").split("/")
    if parts[0] == "stdlib" and len(parts) > 1:
        return "stdlib/" + parts[1].removesuffix(".py")
    return parts[0].removesuffix(".py") or "<unknown>"


def _shares(counts: Counter[str], samples: int, top: int) -> list[dict[str, Any]]:
    return [
        {"name": name, "percent": round(100 * count / max(samples, 1), 1)}
        for name, count in counts.most_common(top)
    ]


def lines(summary: dict[str, Any]) -> list[str]:
    """The summary as text for the terminal."""
    shown = [f"profile of idstore ({summary['samples']} samples): time by package"]
    shown += [f"  {item['percent']:5.1f} %  {item['name']}" for item in summary["by_package"][:12]]
    shown.append("functions by own time")
    shown += [f"  {item['percent']:5.1f} %  {item['name']}" for item in summary["top_self"][:15]]
    shown.append("idstore functions by total time (callees included)")
    shown += [
        f"  {item['percent']:5.1f} %  {item['name']}" for item in summary["top_total_idstore"][:15]
    ]
    return shown
