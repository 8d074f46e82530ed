#!/usr/bin/python3
"""Serves JPEG frames as HTTP MJPEG (multipart/x-mixed-replace) on loopback, for PlateStream's tests.

Like an IP camera's `/video.mjpg`: every connection gets its own stream starting at frame 0. Frame i is
a solid colour from a fixed palette (red, green, blue, white; i modulo 4), so a client can check both
the pixels and that no frame was lost. Other paths answer 404; with --user, a missing or wrong
password answers 401.

Broken cameras, for the robustness tests: --garbage-after N sends random bytes instead of frames after N
frames (0: straight after the HTTP header); --drop-boundary-at N sends frame N without its boundary line;
--no-frames answers the HTTP header and then says nothing, with the connection left open.

Prints `READY <port>` on stdout once it listens (with --port 0 the kernel picks a free port), then
serves until killed, or until the process that started it goes away. Needs Pillow (python3-pil).
"""
import argparse
import base64
import http.server
import io
import os
import random
import socketserver
import sys
import threading
import time

from PIL import Image

PALETTE = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)]
BOUNDARY = "platestreamframe"


def make_frames(width: int, height: int) -> list[bytes]:
    frames = []
    for colour in PALETTE:
        buffer = io.BytesIO()
        Image.new("RGB", (width, height), colour).save(buffer, format="JPEG", quality=95)
        frames.append(buffer.getvalue())
    return frames


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="TCP port (0: pick a free one)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--size", default="160x120", help="frame size WxH")
    parser.add_argument("--fps", type=float, default=25.0)
    parser.add_argument("--frames", type=int, default=0, help="frames per connection, then close (0: endless)")
    parser.add_argument("--user", help="require Basic authentication with this user")
    parser.add_argument("--password", help="password for --user")
    parser.add_argument("--garbage-after", type=int, default=-1, help="after N frames send random bytes only")
    parser.add_argument("--drop-boundary-at", type=int, default=-1, help="send frame N without its boundary line")
    parser.add_argument("--no-frames", action="store_true", help="send the HTTP header, then nothing")
    args = parser.parse_args()

    width, height = (int(v) for v in args.size.split("x"))
    frames = make_frames(width, height)
    expected_auth = None
    if args.user is not None:
        token = base64.b64encode(f"{args.user}:{args.password or ''}".encode()).decode()
        expected_auth = f"Basic {token}"

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, format, *a):  # noqa: A002 - keep test output quiet
            pass

        def do_GET(self):  # noqa: N802 - http.server's naming
            if self.path.split("?")[0] != "/video.mjpg":
                self.send_error(404, "Not Found")
                return
            if expected_auth is not None and self.headers.get("Authorization") != expected_auth:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="camera"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            index = 0
            start = time.monotonic()
            garbage = random.Random(42)
            try:
                if args.no_frames:
                    self.wfile.flush()
                    while True:
                        time.sleep(3600)
                while args.frames == 0 or index < args.frames:
                    jpeg = frames[index % len(frames)]
                    part = (
                        f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
                    ).encode() + jpeg + b"\r\n"
                    if index == args.drop_boundary_at:
                        part = part[len(f"--{BOUNDARY}\r\n"):]
                    if 0 <= args.garbage_after <= index:
                        part = bytes(garbage.getrandbits(8) for _ in range(len(part)))
                    self.wfile.write(part)
                    self.wfile.flush()
                    index += 1
                    delay = start + index / args.fps - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
            except (BrokenPipeError, ConnectionResetError):
                pass

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server((args.host, args.port), Handler)
    print(f"READY {server.server_address[1]}", flush=True)

    parent = os.getppid()

    def watch_parent():
        # Why: a test that crashes must not leave servers behind; when our parent dies we are re-parented.
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch_parent, daemon=True).start()
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
