#!/usr/bin/python3
"""Serves one H.264 .mp4 file over RTSP on loopback with GStreamer's RTSP server, for PlateStream's tests.

Run with the system Python (/usr/bin/python3), which has the GObject bindings from Debian's packages
(gir1.2-gst-rtsp-server-1.0, python3-gi). The media is not shared, so every client gets its own
pipeline and starts at the first frame of the file: frame counts are deterministic over TCP and UDP.

Prints `READY <port>` on stdout once it listens (with --port 0 the kernel picks a free port), then
serves until killed, or until the process that started it goes away.
"""
import argparse
import os
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", required=True, help="H.264 .mp4 file to serve")
    parser.add_argument("--port", type=int, default=0, help="TCP port (0: pick a free one)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--path", default="/stream", help="mount point, e.g. /stream")
    parser.add_argument("--user", help="require Basic authentication with this user")
    parser.add_argument("--password", help="password for --user")
    args = parser.parse_args()

    if not os.path.isfile(args.file):
        print(f"rtsp-server: no such file: {args.file}", file=sys.stderr)
        return 2

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))

    factory = GstRtspServer.RTSPMediaFactory()
    location = args.file.replace("\\", "\\\\").replace('"', '\\"')
    factory.set_launch(
        f'( filesrc location="{location}" ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )'
    )
    # Not shared: each client gets its own pipeline that starts at frame 0.
    factory.set_shared(False)

    if args.user is not None:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "user")
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password or ""), token)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_permission_for_role("user", "media.factory.access", True)
        permissions.add_permission_for_role("user", "media.factory.construct", True)
        factory.set_permissions(permissions)

    server.get_mount_points().add_factory(args.path, factory)
    if server.attach(None) == 0:
        print(f"rtsp-server: cannot listen on {args.host}:{args.port}", file=sys.stderr)
        return 1
    print(f"READY {server.get_bound_port()}", flush=True)

    loop = GLib.MainLoop()
    parent = os.getppid()

    def parent_alive() -> bool:
        # Why: a test that crashes must not leave servers behind; when our parent dies we are re-parented.
        if os.getppid() != parent:
            loop.quit()
            return False
        return True

    GLib.timeout_add(500, parent_alive)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
