"""The serving process: uvicorn and the app, and nothing else.

`idstore serve` checks the start, migrates and makes the first API key, then replaces itself
(same process id, same output) with `python -m idstore.serving`, so that the process that answers
requests never holds the command line's modules or the migration tool (about 11 MB a worker).
Settings reach it, and each worker process, through the IDSTORE_* environment variables.
"""

from __future__ import annotations

import errno
import gc
import os
import socket
import sys
from typing import Final

from idstore import logs
from idstore.settings import Settings

# A worker that has not started within uvicorn's 5 s default is killed and started again; on a
# loaded host (imports, key derivation) that loops forever, so allow it longer.
WORKER_START_SECONDS = 60
# How uvicorn speaks HTTP here, named rather than left to "auto", so that what docs/security.md
# says of malformed requests holds: httptools parses; WebSocket is off (no route uses it), so an
# Upgrade request is an ordinary request and gets the contract's JSON answer, instead of the
# WebSocket library's bare 403 once the app declines the handshake.
HTTP_PARSER: Final = "httptools"
WEBSOCKETS: Final = "none"


def address_in_use(host: str, port: int) -> bool:
    """Whether another process listens on the address already, so that uvicorn, which binds it
    only after the start's checks and migrations, would fail there. Any other problem (a name
    that does not resolve, a port this user may not bind) is left for uvicorn to report."""
    try:
        family, kind, protocol, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (OSError, UnicodeError):
        return False
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as error:
            return error.errno == errno.EADDRINUSE
    return False


def replace_this_process() -> None:
    """Become the serving process. Does not return."""
    sys.stdout.flush()
    sys.stderr.flush()
    # -P: the working directory is not put on the module path, so a stray idstore/ there is
    # never the code that serves.
    os.execv(sys.executable, [sys.executable, "-P", "-m", "idstore.serving"])  # noqa: S606


def app_from_environment() -> object:
    """The ASGI app for one server process, configured from IDSTORE_* variables."""
    from idstore.app import create_app

    settings = Settings.from_env()
    logs.configure(settings.log_level)
    app = create_app(settings)
    freeze_what_lives_as_long_as_the_process()
    return app


def freeze_what_lives_as_long_as_the_process() -> None:
    """Move the modules, routes and models made so far out of the collector's sight.

    They live until the process ends, yet a full collection walked all of them while every
    request in flight waited: in 6,000 wrong-code authentications in process, one full collection
    of 131 ms over 212,000 objects; frozen first, none (docs/performance.md). Frozen objects are
    still freed when no longer referenced; only the cycle search skips them."""
    gc.collect()
    gc.freeze()


def main() -> None:
    import uvicorn

    settings = Settings.from_env()
    logs.configure(settings.log_level)
    uvicorn.run(
        "idstore.serving:app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_worker_healthcheck=WORKER_START_SECONDS,
        http=HTTP_PARSER,
        ws=WEBSOCKETS,
    )


if __name__ == "__main__":
    main()
