#!/usr/bin/env python3
"""A webhook target on loopback for tests and manual checks: records every POST it gets.

    webhook-receiver.py --port PORT --log LOG [--fail N]

Prints `READY <port>` once it listens (PORT 0 picks a free one).
Each request is appended to LOG as one JSON line: {"path", "headers" (lower-case names), "body_b64", "status"}.
The first N requests are answered 503 (a target that is down for a while); the rest 200.
Python's standard library only, so it runs on a plain Debian machine.
"""
import base64
import http.server
import json
import sys
import threading

def arg(name, default=None):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


port, log_path, fail = int(arg("--port", "0")), arg("--log"), int(arg("--fail", "0"))
lock = threading.Lock()
count = 0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        global count
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length else b""
        with lock:
            count += 1
            status = 503 if count <= fail else 200
            with open(log_path, "a") as f:
                f.write(json.dumps({"path": self.path, "status": status,
                                    "headers": {k.lower(): v for k, v in self.headers.items()},
                                    "body_b64": base64.b64encode(body).decode()}) + "\n")
        reply = b"ok" if status == 200 else b"down"
        self.send_response(status)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
print("READY", server.server_address[1], flush=True)
server.serve_forever()
