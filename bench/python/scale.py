#!/usr/bin/env python3
"""The Python ends of `cargo bench -p netgear-bench --bench scale`.

    scale.py hub --kind vidgear|imagezmq --ports P1,P2,... --senders N --stats PATH
    scale.py send --port P --shape H,W,C [--jpeg] --fps F --secs S --stats PATH   (imagezmq)
    scale.py fanout-server --kind vidgear|imagezmq --ports P1,... ...             (PUB)
    scale.py fanout-client --kind vidgear|imagezmq --port P --stats PATH          (SUB)

Every end writes the JSON summary that `netgear send/receive --stats` writes
(src/bin/netgear/runstats.rs): the window leaves out the first --stats-skip
frames, CPU time is the whole process's (all threads), and a receiving end
adds `latency_us`, each frame's send-to-delivery time, from the message (the
sender's CLOCK_MONOTONIC in ns; the clock is the machine's, shared by every
process). A frame is delivered when the application holds it as pixels: a
JPEG frame after decoding (vidgear decodes in its receive thread; imagezmq
hands the JPEG over and the hub decodes it with simplejpeg, as vidgear does).

vidgear's hub is NetGear(receive_mode=True, multiserver_mode=True, pattern=1)
bound to every port. imagezmq's is ImageHub(REQ_REP=True) on one port, which
all its senders connect to (imagezmq's own topology: one REP socket), and
which answers each frame at once, before decoding, as NetGear does. Its
senders are imagezmq's ImageSender (its wire is not NetGear's): raw frames
with send_image, JPEG with send_jpg (compressed once at start, as the
netgear senders do), then one "done" message each.

Each process prints `ready` on stdout when set up; senders given --wait-go
then wait for a line on stdin, so that all start together.
"""

import argparse
import json
import resource
import sys
import time

import numpy as np


def now_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


class RunStats:
    """The `--stats` summary of src/bin/netgear/runstats.rs."""

    def __init__(self, role, path, skip, latency=False):
        self.role, self.path, self.skip = role, path, skip
        self.frames = 0
        self.opened = None
        self.last_end = None
        self.rtt_us = []
        self.latency_us = [] if latency else None
        self._open_if_due()

    def _open_if_due(self):
        if self.path and self.opened is None and self.frames >= self.skip:
            self.opened = (time.perf_counter(), time.process_time())

    def sent_at(self, sent_ns):
        if self.latency_us is not None and self.opened is not None:
            self.latency_us.append(round((now_ns() - sent_ns) / 1e3, 1))

    def frame(self, rtt=None):
        if not self.path:
            return
        self.frames += 1
        if self.opened is not None:
            self.last_end = time.perf_counter()
            if rtt is not None:
                self.rtt_us.append(round(rtt * 1e6, 1))
        else:
            self._open_if_due()

    def finish(self):
        if not self.path:
            return
        cpu_now = time.process_time()
        if self.opened is not None and self.last_end is not None:
            window = (self.frames - self.skip, self.last_end - self.opened[0],
                      cpu_now - self.opened[1])
        else:
            window = (0, 0.0, 0.0)
        out = {"role": self.role, "frames": self.frames, "window_frames": window[0],
               "window_secs": window[1], "cpu_secs": window[2],
               "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               "rtt_us": self.rtt_us}
        if self.latency_us is not None:
            out["latency_us"] = self.latency_us
        with open(self.path, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(out) + "\n")


def ready():
    sys.stdout.write("ready\n")
    sys.stdout.flush()


def wait_go(args):
    if args.wait_go:
        sys.stdin.readline()


def natural_frames(shape):
    """Frames 0 and 1 of the natural pattern (conformance/python/peer.py)."""
    sys.path.insert(0, args_root() + "/conformance/python")
    from peer import natural_frame  # noqa: E402 (the one formula, not a copy)
    return [natural_frame(shape, k) for k in range(2)]


def args_root():
    import os
    return os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def ramp_frames(shape):
    n = int(np.prod(shape))
    return [((np.arange(n, dtype=np.int64) + k) % 251).astype(np.uint8).reshape(shape)
            for k in range(2)]


# --------------------------------------------------------------------------
# hubs
# --------------------------------------------------------------------------

def vidgear_hub(args, stats):
    from vidgear.gears import NetGear
    hub = NetGear(receive_mode=True, address="*", port=args.ports.split(","),
                  protocol=args.protocol, pattern=1, multiserver_mode=True,
                  jpeg_compression=False, request_timeout=10, logging=False)
    ready()
    while True:
        got = hub.recv()
        if got is None:
            break
        # (port, message, frame): the message, a send time, is never falsy.
        _port, sent, _frame = got
        stats.sent_at(int(sent))
        stats.frame()
    hub.close()


def imagezmq_hub(args, stats):
    import imagezmq
    import simplejpeg
    port = args.ports.split(",")[0]
    hub = imagezmq.ImageHub(open_port="{}://*:{}".format(args.protocol, port), REQ_REP=True)
    ready()
    done = 0
    while done < args.senders:
        if args.jpeg:
            msg, data = hub.recv_jpg()
        else:
            msg, data = hub.recv_image()
        hub.send_reply(b"OK")
        if msg == "done":
            done += 1
            continue
        if args.jpeg:
            data = simplejpeg.decode_jpeg(data, colorspace="BGR", fastdct=True)
        stats.sent_at(int(msg))
        stats.frame()
    hub.close()


def run_hub(args):
    stats = RunStats("receive", args.stats, args.stats_skip, latency=True)
    if args.kind == "vidgear":
        vidgear_hub(args, stats)
    else:
        imagezmq_hub(args, stats)
    stats.finish()


# --------------------------------------------------------------------------
# imagezmq's senders
# --------------------------------------------------------------------------

def paced(args, send_one):
    """Sends for --secs at --fps (0: flat out); returns the stats."""
    stats = RunStats("send", args.stats, 0)
    period = 1.0 / args.fps if args.fps > 0 else None
    if period:
        time.sleep(period * min(max(args.phase, 0.0), 1.0))
    start = time.monotonic()
    k = 0
    while time.monotonic() - start < args.secs:
        if period:
            delay = start + k * period - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        began = time.perf_counter()
        send_one(k)
        stats.frame(time.perf_counter() - began)
        k += 1
    return stats


def run_send(args):
    import imagezmq
    import simplejpeg
    shape = tuple(int(d) for d in args.shape.split(","))
    if args.jpeg:
        jpegs = [simplejpeg.encode_jpeg(f, quality=90, colorspace="BGR", colorsubsampling="422",
                                        fastdct=True) for f in natural_frames(shape)]
    else:
        frames = ramp_frames(shape)
    sender = imagezmq.ImageSender(connect_to="{}://{}:{}".format(
        args.protocol, args.address, args.port), REQ_REP=True)
    ready()
    wait_go(args)

    def send_one(k):
        msg = str(now_ns())
        if args.jpeg:
            sender.send_jpg(msg, jpegs[k % 2])
        else:
            sender.send_image(msg, frames[k % 2])

    stats = paced(args, send_one)
    stats.finish()
    if args.jpeg:
        sender.send_jpg("done", jpegs[0])
    else:
        sender.send_image("done", frames[0])
    sender.close()


# --------------------------------------------------------------------------
# fan-out: one PUB server, N SUB clients
# --------------------------------------------------------------------------

def run_fanout_server(args):
    shape = tuple(int(d) for d in args.shape.split(","))
    frames = ramp_frames(shape)
    if args.kind == "vidgear":
        from vidgear.gears import NetGear
        server = NetGear(receive_mode=False, address=args.address, port=args.ports.split(","),
                         protocol=args.protocol, pattern=2, multiclient_mode=True,
                         jpeg_compression=False, logging=False)
        time.sleep(0.3)  # the subscribers' connections
        ready()
        wait_go(args)
        stats = paced(args, lambda k: server.send(frames[k % 2], message=now_ns()))
        stats.finish()
        server.close()
    else:
        import imagezmq
        sender = imagezmq.ImageSender(connect_to="{}://*:{}".format(
            args.protocol, args.ports.split(",")[0]), REQ_REP=False)
        time.sleep(0.3)
        ready()
        wait_go(args)
        stats = paced(args, lambda k: sender.send_image(str(now_ns()), frames[k % 2]))
        stats.finish()
        for _ in range(20):  # PUB may drop: say it more than once
            sender.send_image("done", frames[0])
            time.sleep(0.01)
        sender.close()


def run_fanout_client(args):
    """With --wait-go: imports, says `ready`, and only binds (and says
    `ready` again) after a line on stdin, so that vidgear's subscriber
    timeout does not run out while the other clients start."""
    stats = RunStats("receive", args.stats, args.stats_skip, latency=True)
    if args.wait_go:
        import imagezmq  # noqa: F401 (imported before the first `ready`)
        from vidgear.gears import NetGear  # noqa: F401
        ready()
        wait_go(args)
    if args.kind == "vidgear":
        from vidgear.gears import NetGear
        client = NetGear(receive_mode=True, address="*", port=args.port, protocol=args.protocol,
                         pattern=2, multiclient_mode=True, jpeg_compression=False,
                         subscriber_timeout=max(1, int(args.idle)), logging=False)
        ready()
        while True:
            got = client.recv()
            if got is None:
                break
            # vidgear's multi-client client hands over the frame only;
            # bidirectional mode would add the message but is refused on
            # pattern 2, so the send time comes from the header instead.
            stats.frame()
        client.close()
    else:
        import imagezmq
        hub = imagezmq.ImageHub(open_port="{}://{}:{}".format(
            args.protocol, args.address, args.port), REQ_REP=False)
        hub.zmq_socket.setsockopt(__import__("zmq").RCVTIMEO, int(args.idle * 1000))
        ready()
        while True:
            try:
                msg, _image = hub.recv_image()
            except Exception:  # the idle timeout: the publisher is gone
                break
            if msg == "done":
                break
            stats.sent_at(int(msg))
            stats.frame()
        hub.close()
    stats.finish()


def main():
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--protocol", default="tcp")
    common.add_argument("--address", default="localhost")
    common.add_argument("--stats", default=None)
    common.add_argument("--stats-skip", type=int, default=0)
    common.add_argument("--shape", default="240,320,3")
    common.add_argument("--jpeg", action="store_true")
    common.add_argument("--fps", type=float, default=30.0)
    common.add_argument("--secs", type=float, default=3.0)
    common.add_argument("--wait-go", action="store_true")
    common.add_argument("--phase", type=float, default=0.0,
                        help="start this fraction of a frame period late")
    common.add_argument("--kind", choices=["vidgear", "imagezmq"], default="imagezmq")
    common.add_argument("--ports", default="5555")
    common.add_argument("--port", default="5555")
    common.add_argument("--senders", type=int, default=1)
    common.add_argument("--idle", type=float, default=5.0,
                        help="fan-out clients: end after this long without a frame")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    for mode in ["hub", "send", "fanout-server", "fanout-client"]:
        sub.add_parser(mode, parents=[common])
    args = parser.parse_args()
    {"hub": run_hub, "send": run_send, "fanout-server": run_fanout_server,
     "fanout-client": run_fanout_client}[args.mode](args)


if __name__ == "__main__":
    main()
