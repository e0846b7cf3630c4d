#!/usr/bin/env python3
"""vidgear (0.3.6) NetGear peer for the conformance harness.

Speaks the same command-line contract as the Rust `netgear` binary, so the
harness can put either implementation on either end of a connection:

    python peer.py send    [flags]   # NetGear server (receive_mode=False, connects)
    python peer.py receive [flags]   # NetGear client (receive_mode=True, binds)
    python peer.py keys DIR          # vidgear's secure-mode key set in DIR/.vidgear/keys

stdout carries only JSON lines (with --json); everything else goes to stderr.

Exit status: 0 success, 2 invalid configuration (argument errors or a
ValueError raised by NetGear's constructor), 1 runtime failure.
"""

import argparse
import ast
import hashlib
import json
import math
import os
import resource
import signal
import sys
import threading
import time
import traceback

import numpy as np

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_CONFIG = 2

SPECIAL_FLOATS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


class ConfigError(Exception):
    """A command-line value that cannot be turned into a NetGear configuration."""


def log(msg):
    print("[peer] " + msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# argument value helpers
# --------------------------------------------------------------------------

def _read_arg_text(text):
    """`@PATH` means: take the text from that file."""
    if text.startswith("@"):
        try:
            with open(text[1:], "r", encoding="utf-8") as fh:
                return fh.read()
        except OSError as exc:
            raise ConfigError("cannot read {}: {}".format(text[1:], exc))
    return text


def parse_json_value(text):
    raw = _read_arg_text(text)
    try:
        # json.loads accepts NaN / Infinity / -Infinity, like vidgear's peer would.
        return json.loads(raw)
    except ValueError as exc:
        raise ConfigError("invalid JSON {!r}: {}".format(raw, exc))


def parse_python_value(text):
    raw = _read_arg_text(text).strip()
    if raw in SPECIAL_FLOATS:
        return SPECIAL_FLOATS[raw]
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
        raise ConfigError("invalid Python literal {!r}: {}".format(raw, exc))


def parse_shape(text):
    try:
        dims = tuple(int(p) for p in text.split(","))
    except ValueError:
        raise ConfigError("invalid shape {!r} (expected e.g. 480,640,3)".format(text))
    if not dims or any(d < 0 for d in dims):
        raise ConfigError("invalid shape {!r}".format(text))
    return dims


def parse_dtype(text):
    try:
        return np.dtype(text)
    except TypeError:
        raise ConfigError("unknown dtype {!r}".format(text))


def check_jsonable(value, what):
    """vidgear sends values with json.dumps; refuse what it could not send."""
    if isinstance(value, np.ndarray):
        return
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError("{} cannot be sent as JSON: {}".format(what, exc))


_RAMPS = {}


def synthetic_frame(shape, dtype, k):
    """Frame k: flat C-order element i equals (k + i) % 251, cast to dtype.

    Like the Rust tool, one buffer of n + 251 elements (element j = j % 251)
    is made once per shape and dtype; frame k is the window starting at
    k % 251 (a view: no pixels are computed or copied per frame). Callers
    must not write to it.
    """
    n = int(np.prod(shape, dtype=np.int64))
    key = (tuple(shape), np.dtype(dtype).str)
    base = _RAMPS.get(key)
    if base is None:
        base = (np.arange(n + 251, dtype=np.int64) % 251).astype(dtype)
        _RAMPS[key] = base
    start = k % 251
    return base[start:start + n].reshape(shape)


def natural_frame(shape, k):
    """Frame k of the natural pattern (src/natural.rs gives the formula):
    a gradient, a moving disc and rectangle, mild noise; uint8 (H, W[, C])."""
    if len(shape) not in (2, 3):
        raise ConfigError("natural frames are H,W or H,W,C, not {!r}".format(shape))
    h, w = shape[0], shape[1]
    c = shape[2] if len(shape) == 3 else 1
    y = np.arange(h, dtype=np.int64).reshape(h, 1)
    x = np.arange(w, dtype=np.int64).reshape(1, w)
    cx = w // 8 + (k * w // 64) % max(w * 3 // 4, 1)
    cy = h // 2
    r = min(h, w) // 6
    ry = h // 5 + (k * h // 48) % max(h // 2, 1)
    disc = (x - cx) ** 2 + (y - cy) ** 2 <= r * r
    rect = (x >= w * 5 // 8) & (x < w * 7 // 8) & (y >= ry) & (y < ry + h // 4)
    gradients = [
        40 + 150 * x // w + 30 * y // h,
        30 + 170 * y // h + 20 * x // w,
        200 - 120 * x // w - 50 * y // h,
    ]
    out = np.empty((h, w, c), dtype=np.uint8)
    mask = 0xFFFFFFFF
    xu = x.astype(np.uint64)
    yu = y.astype(np.uint64)
    for ch in range(c):
        base = gradients[ch] if ch < 3 else np.full((1, 1), 255, dtype=np.int64)
        base = np.broadcast_to(base, (h, w)).copy()
        base[rect] = [200, 80, 40, 255][min(ch, 3)]
        base[disc] = [60, 200, 230, 255][min(ch, 3)]
        const = np.uint64(((k * 2654435761) + ch * 97) & mask)
        v = (xu * np.uint64(1103515245) + yu * np.uint64(12345) + const) & np.uint64(mask)
        v ^= v >> np.uint64(15)
        v = (v * np.uint64(0x2C1B3C6D)) & np.uint64(mask)
        v ^= v >> np.uint64(12)
        noise = (v % np.uint64(5)).astype(np.int64) - 2
        out[:, :, ch] = np.clip(base + noise, 0, 255).astype(np.uint8)
    return out if len(shape) == 3 else out[:, :, 0]


def make_frame(args, shape, dtype, k):
    """Frame k of --content (ramp: synthetic_frame; natural: natural_frame)."""
    if getattr(args, "content", "ramp") == "natural":
        if np.dtype(dtype) != np.uint8:
            raise ConfigError("--content natural makes uint8 frames")
        return natural_frame(shape, k)
    return synthetic_frame(shape, dtype, k)


def sha256_of(arr):
    return hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()


def describe_value(value):
    """JSON-able description of a value vidgear handed back to us."""
    if isinstance(value, np.ndarray):
        return {"shape": list(value.shape), "dtype": str(value.dtype), "sha256": sha256_of(value)}
    return value


class RunStats:
    """`--stats PATH`: the JSON summary `netgear send/receive --stats` writes
    (see src/bin/netgear/runstats.rs): the window leaves out the first
    --stats-skip frames; CPU time is the whole process's (all threads)."""

    def __init__(self, role, path, skip):
        self.role, self.path, self.skip = role, path, skip
        self.frames = 0
        self.opened = None
        self.last_end = None
        self.rtt_us = []
        self._open_if_due()

    def _open_if_due(self):
        if self.path and self.opened is None and self.frames >= self.skip:
            self.opened = (time.perf_counter(), time.process_time())

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
        with open(self.path, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(out) + "\n")


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


# --------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------

def build_parser():
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--address", default=None,
                        help="default: vidgear's (localhost for send, * for receive)")
    common.add_argument("--port", default=None,
                        help="port; a comma-separated list where vidgear wants a list "
                             "(receive --multiserver, send --multiclient)")
    common.add_argument("--protocol", default="tcp", choices=["tcp", "ipc"])
    common.add_argument("--pattern", type=int, default=0, choices=[0, 1, 2])
    common.add_argument("--bidirectional", action="store_true")
    common.add_argument("--max-retries", type=int, default=None)
    common.add_argument("--request-timeout", type=float, default=None,
                        help="seconds; rounded up to an int for vidgear (values < 4 are ignored by it)")
    common.add_argument("--frames", type=int, default=None,
                        help="stop after N frames (default: until the peer stops / Ctrl-C)")
    common.add_argument("--json", action="store_true", help="print one JSON line per frame")
    common.add_argument("--multiserver", action="store_true")
    common.add_argument("--multiclient", action="store_true")
    common.add_argument("--jpeg", nargs="?", const="BGR", default=None, metavar="COLORSPACE",
                        help="enable JPEG compression (bare flag = BGR)")
    common.add_argument("--jpeg-quality", type=float, default=None)
    common.add_argument("--no-fastdct", action="store_true")
    common.add_argument("--fastupsample", action="store_true")
    common.add_argument("--verbose", action="store_true", help="turn on vidgear's own logging (stderr)")
    common.add_argument("--stats", default=None, metavar="PATH",
                        help="write a JSON summary of the run (as netgear --stats)")
    common.add_argument("--stats-skip", type=int, default=0, metavar="N",
                        help="leave the first N frames out of the --stats window")
    common.add_argument("--secure-mode", type=int, default=0, choices=[0, 1, 2],
                        help="vidgear's secure_mode: 0 Grasslands, 1 StoneHouse, 2 IronHouse")
    common.add_argument("--cert-dir", default=None, metavar="DIR",
                        help="vidgear's custom_cert_location")

    parser = argparse.ArgumentParser(description="vidgear NetGear conformance peer")
    sub = parser.add_subparsers(dest="mode", required=True)

    send = sub.add_parser("send", parents=[common], help="run a NetGear server")
    send.add_argument("--shape", default="480,640,3")
    send.add_argument("--dtype", default="uint8")
    send.add_argument("--fps", type=float, default=None,
                      help="send at most this many frames per second")
    send.add_argument("--duration", type=float, default=None, metavar="SECS",
                      help="stop after SECS seconds (from the end of the first frame)")
    send.add_argument("--cycle", type=int, default=None, metavar="K",
                      help="keep the first K frames and send them over and over")
    send.add_argument("--content", choices=["ramp", "natural"], default="ramp",
                      help="what the synthetic frames look like")
    send.add_argument("--save-dir", default=None,
                      help="write returned frames to DIR/reply_NNNNNN.npy")
    send.add_argument("--overwrite-cert", action="store_true",
                      help="vidgear's overwrite_cert (fresh keys before connecting)")
    msg = send.add_mutually_exclusive_group()
    msg.add_argument("--message", default=None, help="JSON value (or @PATH)")
    msg.add_argument("--message-python", default=None,
                     help="Python literal (or @PATH); NaN, Infinity, -Infinity also accepted")

    recv = sub.add_parser("receive", parents=[common], help="run a NetGear client")
    ret = recv.add_mutually_exclusive_group()
    ret.add_argument("--return", dest="return_json", default=None, help="JSON value (or @PATH)")
    ret.add_argument("--return-python", default=None,
                     help="Python literal (or @PATH); NaN, Infinity, -Infinity also accepted")
    ret.add_argument("--return-frame", default=None, metavar="H,W[,C]")
    recv.add_argument("--return-dtype", default="uint8")
    recv.add_argument("--content", choices=["ramp", "natural"], default="ramp",
                      help="what the --return-frame looks like")
    recv.add_argument("--save-dir", default=None)
    recv.add_argument("--subscriber-timeout", type=int, default=None, metavar="SECS",
                      help="pattern 2: vidgear's subscriber_timeout (integer seconds > 0); "
                           "vidgear then ends as if terminated")

    keys = sub.add_parser("keys", help="write a fresh key set with vidgear's own helper")
    keys.add_argument("dir", metavar="DIR")
    return parser


def netgear_kwargs(args):
    """Translate the common flags into NetGear constructor arguments."""
    multi_list = (args.mode == "receive" and args.multiserver) or (
        args.mode == "send" and args.multiclient)
    port = args.port
    if port is not None and multi_list:
        port = [p.strip() for p in port.split(",") if p.strip()]

    options = {}
    if args.jpeg is None:
        options["jpeg_compression"] = False  # vidgear would otherwise default to JPEG
    else:
        options["jpeg_compression"] = args.jpeg
        if args.jpeg_quality is not None:
            q = args.jpeg_quality
            options["jpeg_compression_quality"] = int(q) if float(q).is_integer() else q
        if args.no_fastdct:
            options["jpeg_compression_fastdct"] = False
        if args.fastupsample:
            options["jpeg_compression_fastupsample"] = True
    if args.bidirectional:
        options["bidirectional_mode"] = True
    if args.multiserver:
        options["multiserver_mode"] = True
    if args.multiclient:
        options["multiclient_mode"] = True
    if args.max_retries is not None:
        options["max_retries"] = args.max_retries
    if args.secure_mode:
        options["secure_mode"] = args.secure_mode
    if args.cert_dir is not None:
        options["custom_cert_location"] = args.cert_dir
    if getattr(args, "overwrite_cert", False):
        options["overwrite_cert"] = True
    if args.request_timeout is not None:
        secs = int(math.ceil(args.request_timeout))
        if args.pattern == 2:
            # vidgear ignores request_timeout for PUB/SUB; its counterpart there
            # is subscriber_timeout (receive side only, seconds, > 0).
            options["subscriber_timeout"] = secs
        else:
            options["request_timeout"] = secs

    if getattr(args, "subscriber_timeout", None) is not None:
        options["subscriber_timeout"] = args.subscriber_timeout

    return dict(
        address=args.address,
        port=port,
        protocol=args.protocol,
        pattern=args.pattern,
        logging=args.verbose,
        **options
    )


# --------------------------------------------------------------------------
# send
# --------------------------------------------------------------------------

def run_send(args):
    from vidgear.gears import NetGear

    shape = parse_shape(args.shape)
    dtype = parse_dtype(args.dtype)
    message = None
    if args.message is not None:
        message = parse_json_value(args.message)
    elif args.message_python is not None:
        message = parse_python_value(args.message_python)
    check_jsonable(message, "--message")
    if args.save_dir:
        os.makedirs(args.save_dir, exist_ok=True)

    try:
        server = NetGear(receive_mode=False, **netgear_kwargs(args))
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG

    sent = 0
    status = EXIT_OK
    stats = RunStats("send", args.stats, args.stats_skip)
    kept = []
    start = time.monotonic()
    try:
        signal.signal(signal.SIGINT, _stop_between_frames)
        signal.signal(signal.SIGTERM, _stop_between_frames)
        while args.frames is None or sent < args.frames:
            if STOP_SENDING:
                log("interrupted")
                break
            if args.duration is not None and sent and time.monotonic() - first_done >= args.duration:
                break
            if args.fps:
                # frame k leaves no earlier than k periods after the start
                delay = start + sent / args.fps - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            if args.cycle and sent >= args.cycle:
                frame = kept[sent % args.cycle]
            else:
                frame = make_frame(args, shape, dtype, sent)
                if args.cycle:
                    kept.append(frame)
            began = time.perf_counter()
            result = server.send(frame, message=message)
            rtt = time.perf_counter() - began
            stats.frame(rtt)
            if args.save_dir and isinstance(result, np.ndarray):
                np.save(os.path.join(args.save_dir, "reply_{:06d}.npy".format(sent)), result)
            if args.json:
                line = {"seq": sent}
                if args.multiclient and isinstance(result, tuple) and len(result) == 2:
                    line["reply"] = describe_value(result[1])
                    line["port"] = result[0]
                else:
                    line["reply"] = describe_value(result)
                line["rtt_us"] = round(rtt * 1e6, 1)
                emit(line)
            sent += 1
            if sent == 1:
                first_done = time.monotonic()
    except KeyboardInterrupt:
        log("interrupted")
    except RuntimeError as exc:
        print(str(exc), file=sys.stderr)
        status = EXIT_RUNTIME
    finally:
        elapsed = time.monotonic() - start
        stats.finish()
        try:
            server.close()
        except Exception as exc:  # closing must not mask the real outcome
            log("close failed: {!r}".format(exc))
    summary("send", sent, elapsed)
    return status


# --------------------------------------------------------------------------
# receive
# --------------------------------------------------------------------------

class _HeldThread(threading.Thread):
    """Stand-in for threading.Thread while NetGear's constructor runs.

    NetGear(receive_mode=True) starts its socket-reading thread inside the
    constructor, and that thread answers frames with whatever return data is
    set at that moment.  Holding the start back lets us install the initial
    return data first, so even the very first frame is answered with it.
    """

    failure = None

    def start(self):
        pass  # postponed; see release()

    def release(self):
        threading.Thread.start(self)

    def run(self):
        # If vidgear's handler dies (e.g. on a header it cannot parse) it leaves
        # recv() spinning forever; flag termination so recv() returns None.
        owner = self._target.__self__  # the NetGear (run() drops _target)
        try:
            super().run()
        except BaseException as exc:
            self.failure = exc
            traceback.print_exc()
            log("vidgear's receive thread failed: {!r}".format(exc))
            owner._NetGear__terminate = True


def construct_client(kwargs, return_data):
    import vidgear.gears.netgear as netgear_module

    original = netgear_module.Thread
    netgear_module.Thread = _HeldThread
    try:
        client = netgear_module.NetGear(receive_mode=True, **kwargs)
    finally:
        netgear_module.Thread = original
    if return_data is not None:
        client._NetGear__return_data = return_data  # private: same slot recv() fills
    client._NetGear__thread.release()
    return client


def unpack(args, item):
    """(port, message, frame) from whatever NetGear.recv() returned."""
    if args.multiserver:
        # (port, message, frame) when the message is truthy, else (port, frame)
        if len(item) == 3:
            return item
        return item[0], None, item[1]
    if args.bidirectional:
        return None, item[0], item[1]
    return None, None, item


def run_receive(args):
    return_data = None
    if args.return_json is not None:
        return_data = parse_json_value(args.return_json)
    elif args.return_python is not None:
        return_data = parse_python_value(args.return_python)
        check_jsonable(return_data, "--return-python")
    elif args.return_frame is not None:
        shape = parse_shape(args.return_frame)
        return_data = make_frame(args, shape, parse_dtype(args.return_dtype), 0)
    if args.save_dir:
        os.makedirs(args.save_dir, exist_ok=True)

    try:
        client = construct_client(netgear_kwargs(args), return_data)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG

    received = 0
    status = EXIT_OK
    start = None
    stats = RunStats("receive", args.stats, args.stats_skip)

    def handle(item):
        nonlocal received
        port, message, frame = unpack(args, item)
        if args.save_dir:
            np.save(os.path.join(args.save_dir, "frame_{:06d}.npy".format(received)), frame)
        if args.json:
            line = {"seq": received, "message": message, "shape": list(frame.shape),
                    "dtype": str(frame.dtype), "sha256": sha256_of(frame)}
            if args.multiserver:
                line["port"] = port
            emit(line)
        received += 1
        stats.frame()

    try:
        while args.frames is None or received < args.frames:
            item = client.recv(return_data=return_data)
            if item is None:
                # vidgear's recv() returns None as soon as its termination flag is
                # set, even if frames are still queued (the termination message can
                # overtake the hand-over of the last frame).  Deliver those too.
                queue = client._NetGear__queue
                leftovers = 0
                while queue and (args.frames is None or received < args.frames):
                    leftover = queue.popleft()
                    if leftover is None:
                        break
                    handle(leftover)
                    leftovers += 1
                if leftovers:
                    log("delivered {} frame(s) still queued at termination".format(leftovers))
                break
            if start is None:
                start = time.monotonic()
            handle(item)
    except KeyboardInterrupt:
        log("interrupted")
    except RuntimeError as exc:
        print(str(exc), file=sys.stderr)
        status = EXIT_RUNTIME
    finally:
        elapsed = 0.0 if start is None else time.monotonic() - start
        stats.finish()
        # When the peer terminated, vidgear's thread has already left its loop
        # and close() is clean.  When we stopped first (--frames, Ctrl-C), the
        # thread is still inside poll()/recv() on the socket: close() would
        # close that socket under it (a hang on PUB/SUB) and close(kill=True)
        # destroys the context under it (a libzmq assertion abort).  Then we
        # leave the thread alone and end the process without tearing zmq down.
        thread = client._NetGear__thread
        client._NetGear__terminate = True
        thread.join(timeout=0.5)
        if thread.failure is not None:
            status = EXIT_RUNTIME
        if thread.is_alive():
            log("stopping while vidgear's receive thread is still blocked; skipping close()")
            global _HARD_EXIT
            _HARD_EXIT = True
        else:
            try:
                client.close()
            except Exception as exc:
                log("close failed: {!r}".format(exc))
    summary("receive", received, elapsed)
    return status


# --------------------------------------------------------------------------
# keys
# --------------------------------------------------------------------------

def run_keys(args):
    """A fresh server and client key set in DIR's .vidgear/keys, made by
    vidgear's own generate_auth_certificates (zmq.auth underneath), as
    NetGear(secure_mode=..., custom_cert_location=DIR, overwrite_cert=True)
    would make it."""
    from vidgear.gears.helper import generate_auth_certificates

    os.makedirs(args.dir, exist_ok=True)
    keys_dir, secret_dir, public_dir = generate_auth_certificates(
        os.path.abspath(args.dir), overwrite=True)
    print(keys_dir)
    return EXIT_OK


# Set when the process must end with os._exit() (see run_receive).
_HARD_EXIT = False


# --------------------------------------------------------------------------

def summary(mode, frames, seconds):
    fps = frames / seconds if seconds > 0 else 0.0
    log("{}: frames={} seconds={:.3f} fps={:.1f}".format(mode, frames, seconds, fps))


def _sigterm(signum, frame):
    raise KeyboardInterrupt


# A sender stops between frames: vidgear writes a frame message as two
# sends (header with SNDMORE, then the payload), and an interruption that
# lands between them makes its closing termination message the second part
# of a half-sent frame (spec/07 §7.19). The first SIGINT/SIGTERM sets this
# flag, which the send loop checks before each frame; a second one
# interrupts at once.
STOP_SENDING = False


def _stop_between_frames(signum, frame):
    global STOP_SENDING
    if STOP_SENDING:
        raise KeyboardInterrupt
    STOP_SENDING = True


def main(argv=None):
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _sigterm)
    try:
        if getattr(args, "frames", None) is not None and args.frames < 0:
            raise ConfigError("--frames must be >= 0")
        if args.mode == "keys":
            return run_keys(args)
        if args.mode == "send":
            return run_send(args)
        return run_receive(args)
    except ConfigError as exc:
        print("invalid configuration: {}".format(exc), file=sys.stderr)
        return EXIT_CONFIG


if __name__ == "__main__":
    code = main()
    if _HARD_EXIT:
        sys.stdout.flush()
        sys.stderr.flush()
        time.sleep(0.1)  # let zmq's I/O thread flush the last reply
        os._exit(code)
    sys.exit(code)
