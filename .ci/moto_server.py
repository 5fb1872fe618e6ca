"""moto's server (S3 and DynamoDB on one port), with its conditional writes made atomic.

`moto_server` serves each request on its own thread, and its DynamoDB and S3
backends check a write's condition and then apply it without a lock. Eight
processes racing `PutItem ... attribute_not_exists(...)` on one key therefore
sometimes see two winners (measured: about 1 race in 300 on a loaded 2-core
machine), which real DynamoDB and S3 never allow and which memlane's start-up
check of the store then refuses, rightly. This wrapper runs the same moto app
and takes one lock around every DynamoDB request and every conditional S3
write, so the emulator keeps the promise the real services make; plain reads
and writes still run in parallel.

Used by the storage tests (test/helpers/emulators.ts) and `npm run bench --
--store s3`. Arguments: -H host -p port.
"""

import argparse
import os
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

CONDITIONAL_HEADERS = ("HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH")
WRITE_METHODS = ("PUT", "POST", "DELETE")


def needs_lock(environ):
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
        return True
    return environ.get("REQUEST_METHOD") in WRITE_METHODS and any(h in environ for h in CONDITIONAL_HEADERS)


def serialise_conditional_writes(app):
    lock = threading.Lock()

    def wrapped(environ, start_response):
        if not needs_lock(environ):
            return app(environ, start_response)
        with lock:
            # Drain the body inside the lock: a lazy WSGI iterable could still be writing.
            return list(app(environ, start_response))

    return wrapped


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host,
        args.port,
        serialise_conditional_writes(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
