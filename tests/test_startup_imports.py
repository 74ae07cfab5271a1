"""What a serving worker loads at start (issue 5: under 120 MB per worker).

The passkey libraries load on the first passkey request and the face libraries only in the
face workers' processes, so a fresh interpreter that imports the app, or the command line that
`idstore serve` runs (it imports every command, the transfer ones too), must hold none of them.
It runs in a subprocess: this test session has imported them long before.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# py_webauthn, cbor2 and the public suffix list (about 14 MB together); dlib, numpy and Pillow
# (the face engine's, far more).
DEFERRED_LIBRARIES = ("webauthn", "cbor2", "publicsuffixlist", "dlib", "numpy", "PIL")

_PROBE = """
import importlib, json, sys
importlib.import_module({module!r})
print(json.dumps(sorted({{name.split(".")[0] for name in sys.modules}} & {wanted!r})))
"""


def _loaded_after_importing(module: str, wanted: tuple[str, ...]) -> list[str]:
    probe = _PROBE.format(module=module, wanted=set(wanted))
    done = subprocess.run(  # this interpreter, a fixed script
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    loaded: list[str] = json.loads(done.stdout)
    return loaded


@pytest.mark.parametrize("module", ["idstore.app", "idstore.cli"])
def test_starting_loads_no_passkey_or_face_library(module: str) -> None:
    assert _loaded_after_importing(module, DEFERRED_LIBRARIES) == []


def test_the_probe_sees_a_library_the_app_does_load() -> None:
    # Guards the test above against a probe that finds nothing whatever is loaded.
    assert _loaded_after_importing("idstore.app", ("fastapi", "webauthn")) == ["fastapi"]


# The migration tool and its templates, and the command line: `idstore serve` uses them before it
# becomes the serving process (idstore.serving), which must not hold them (about 11 MB).
COMMAND_LINE_ONLY = ("alembic", "mako", "pygments", "idstore.cli", "idstore.startup")

_SERVING_PROBE = """
import json, os, sys, tempfile
os.environ.update(IDSTORE_DATA_DIR=tempfile.mkdtemp(), IDSTORE_SECRET_KEYS="k1:" + "A" * 43 + "=")
from idstore.serving import app_from_environment
app_from_environment()
loaded = set(sys.modules) | {{name.split(".")[0] for name in sys.modules}}
print(json.dumps(sorted(loaded & {wanted!r})))
"""


def test_the_serving_process_holds_no_migration_tool_or_command_line() -> None:
    probe = _SERVING_PROBE.format(wanted=set(COMMAND_LINE_ONLY + DEFERRED_LIBRARIES))
    done = subprocess.run(  # this interpreter, a fixed script
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )

    assert json.loads(done.stdout) == []
