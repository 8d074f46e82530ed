#!/usr/bin/python3
"""Opens N idle TCP connections to a server and holds them, for PlateStream's slow-client tests and bench-api.

Each connection is opened and then says nothing (`--trickle` sends one header byte per interval instead, like a
slowloris client). Prints `READY <opened>` once every connection is open, then holds them until stdin closes
or the parent process goes away. Raises its own RLIMIT_NOFILE soft limit to the hard limit first.
"""
import argparse
import os
import resource
import socket
import sys
import threading
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--trickle", type=float, default=0,
                        help="seconds between header bytes (0: send nothing, an idle connection)")
    args = parser.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sockets = []
    for _ in range(args.count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.connect((args.host, args.port))
        except OSError as error:
            print(f"FAILED after {len(sockets)}: {error}", flush=True)
            return 1
        sockets.append(s)
    print(f"READY {len(sockets)}", flush=True)

    parent = os.getppid()
    stop = threading.Event()

    def watch():
        # Ends when the parent closes our stdin or dies: a crashed test leaves nothing behind.
        sys.stdin.read()
        stop.set()

    threading.Thread(target=watch, daemon=True).start()
    header = b"POST /v1/plate-reader/ HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 100_000
    positions = [0] * len(sockets)
    while not stop.is_set() and os.getppid() == parent:
        if args.trickle > 0:
            for i, s in enumerate(sockets):
                try:
                    s.send(header[positions[i]:positions[i] + 1])
                    positions[i] += 1
                except OSError:
                    # The server gave up on this one (408 and close): a new one takes its place, so the load
                    # stays at --count connections.
                    s.close()
                    try:
                        sockets[i] = socket.create_connection((args.host, args.port))
                        positions[i] = 0
                    except OSError:
                        pass
            stop.wait(args.trickle)
        else:
            stop.wait(0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
