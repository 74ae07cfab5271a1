"""The package's boundaries: its imports, and how it reaches the model's weights."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import idstore.face

FACE = Path(idstore.face.__file__).parent


def _imported_modules(source: Path) -> set[str]:
    tree = ast.parse(source.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_face_package_imports_nothing_of_idstore_outside_itself() -> None:
    outside = {
        f"{source.name}: {module}"
        for source in FACE.glob("*.py")
        for module in _imported_modules(source)
        if module.startswith("idstore") and not module.startswith("idstore.face")
    }

    assert sorted(FACE.glob("*.py"))
    assert outside == set()


def _loaded_after(statements: str, modules: tuple[str, ...]) -> list[str]:
    """Which of `modules` a fresh interpreter holds after running `statements`."""
    probe = f"import sys\n{statements}\nprint(*(m for m in {modules!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=240
    )
    return done.stdout.split()


def test_the_model_loads_without_running_the_weights_packages_pkg_resources_code() -> None:
    # face_recognition_models' __init__ imports pkg_resources, gone from current setuptools.
    statements = "from idstore.face.model import loaded_model\nloaded_model()"

    loaded = _loaded_after(statements, ("face_recognition_models", "pkg_resources", "dlib"))

    assert loaded == ["dlib"]


def test_the_serving_process_imports_the_package_without_the_model_libraries() -> None:
    loaded = _loaded_after("import idstore.face", ("idstore.face.workers", "dlib", "numpy", "PIL"))

    assert loaded == ["idstore.face.workers"]
