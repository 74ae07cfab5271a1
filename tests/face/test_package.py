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


def test_the_model_loads_without_running_the_weights_packages_pkg_resources_code() -> None:
    # face_recognition_models' __init__ imports pkg_resources, gone from current setuptools.
    probe = (
        "import sys\n"
        "from idstore.face.model import loaded_model\n"
        "loaded_model()\n"
        "print(sorted(m for m in ('face_recognition_models', 'pkg_resources') if m in sys.modules))"
    )

    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=240
    )

    assert done.stdout.strip() == "[]"


def test_the_serving_process_imports_the_package_without_the_model_libraries() -> None:
    probe = (
        "import sys\n"
        "import idstore.face\n"
        "print(sorted(m for m in ('dlib', 'numpy', 'PIL') if m in sys.modules))"
    )

    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )

    assert done.stdout.strip() == "[]"
