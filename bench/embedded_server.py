"""`make run`'s shape for the reliability bench: one process, SQLite, the in-process queue.

Serves Coachwire exactly as `scripts/demo.py` does (werkzeug's threaded server, the embedded
dispatcher's worker thread, the periodic scheduler) on the port given, with the settings of the
environment (no REDIS_URL, a SQLite DATABASE_URL).

    python -m bench.embedded_server PORT
"""

from __future__ import annotations

import logging
import signal
import sys
import threading

from werkzeug.serving import make_server


def main() -> None:
    port = int(sys.argv[1])
    from extension import create_app
    from extension.platform.worker import start_scheduler, warm_up

    app = create_app()
    warm_up(app)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", port, app, threaded=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    start_scheduler(app)
    stop.wait()
    server.shutdown()


if __name__ == "__main__":
    main()
