#!/usr/bin/env python3
"""Record the exact bytes vidgear 0.3.6's NetGear puts on the wire.

Real NetGear objects are driven against raw pyzmq sockets on 127.0.0.1 and
every multipart message NetGear emits is written, part by part, to
tests/data/vidgear-0.3.6-capture.json (a JSON list of records).

    python conformance/python/capture.py [--out PATH]

Inputs are fixed; what varies between runs is only what vidgear itself
randomises (the 8-character device id in confirmation strings, the REQ
routing envelope) and, if the preferred ports are taken, the port numbers.
"""

import argparse
import json
import os
import queue
import re
import socket
import sys
import threading
import time

import numpy as np
import zmq

import vidgear
from vidgear.gears import NetGear

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "..", "tests", "data",
                                            "vidgear-0.3.6-capture.json"))
HOST = "127.0.0.1"
WAIT = 5.0  # seconds to wait for any single message

CTX = zmq.Context.instance()  # the same context NetGear uses


# --------------------------------------------------------------------------
# fixed inputs
# --------------------------------------------------------------------------

# (name, python value).  Each is sent as a server message and used as a
# client return value.
VALUES = [
    ("none", None),
    ("unicode", "h\u00e9llo w\u00f6rld \U0001F3A5 \u00f1 \u65e5\u672c"),
    ("nested", {"a": [1, 2.5, {"b": None, "c": [True, False]}], "z": "x",
                "empty_list": [], "empty_dict": {}}),
    ("int-keys", {1: "one", 2: [3, 4], -5: None}),
    ("odd-keys", {1.5: "float key", True: "bool key", None: "none key"}),
    ("tuple", (1, "two", 3.0, (4, 5))),
    ("bigint-pos", 2 ** 100),
    ("bigint-neg", -(2 ** 70)),
    ("int-zero", 0),
    ("int-neg", -7),
    ("float-0.1", 0.1),
    ("float-1e16", 1e16),
    ("float-1e-05", 1e-05),
    ("float-neg-zero", -0.0),
    ("float-1.5e300", 1.5e300),
    ("float-nan", float("nan")),
    ("float-inf", float("inf")),
    ("float-neg-inf", float("-inf")),
    ("float-reprs", [1.0, 100.0, 1e15, 1e16, 0.0001, 1e-05, 123456789.125, 1e22,
                     5e-324, 1.7976931348623157e308, 2.5e-08, 0.30000000000000004]),
    ("true", True),
    ("false", False),
    ("empty-string", ""),
    ("empty-list", []),
    ("empty-dict", {}),
    ("control-chars", "tab\there\nnl\x7f\x01"),
    ("quote-backslash-slash", 'quote " backslash \\ slash / end'),
    ("lone-surrogate", "\ud800x"),
]

DTYPES = ["uint8", "int16", "uint16", "float32", "float64", "bool", "int64", "float16"]
SHAPES = [(2, 3, 3), (1, 1, 3), (4, 5), (7,), (1, 1)]
MESSAGE_FRAME = ("uint8", (2, 3, 3))  # the frame that accompanies message cases
RETURN_FRAMES = [("uint8", (2, 3, 3)), ("float32", (4, 5))]

# Preferred ports for the cases whose port number ends up inside the bytes.
# (One port per session, so a port still held from the previous session never
# forces a fallback to a random one.)
PREFERRED_PORTS = {
    ("s2c", "ms", False): 5566, ("s2c", "ms", True): 5567,
    ("c2s", "ms", False): 5568, ("c2s", "ms", True): 5569,
    ("c2s", "mc", False): 5570, ("c2s", "mc", True): 5571,
}


def synthetic(dtype, shape):
    """Element i (flat, C order) is i % 251 cast to dtype."""
    n = int(np.prod(shape, dtype=np.int64))
    return (np.arange(n, dtype=np.int64) % 251).astype(dtype).reshape(shape)


def shape_name(shape):
    return "x".join(str(d) for d in shape)


def frame_desc(dtype, shape):
    return {"dtype": dtype, "shape": list(shape), "fill": "synthetic-k0"}


def free_port(preferred=None):
    if preferred is not None:
        for _ in range(20):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as libzmq does
            try:
                s.bind((HOST, preferred))
                return preferred
            except OSError:
                time.sleep(0.1)
            finally:
                s.close()
        print("preferred port {} is busy; using a random one".format(preferred), file=sys.stderr)
    s = socket.socket()
    s.bind((HOST, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def part_text(b):
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return None


def new_record(name, direction, pattern, bi, ms=False, mc=False, kind="frame"):
    return {
        "name": name,
        "kind": kind,
        "direction": direction,
        "pattern": pattern,
        "bidirectional": bi,
        "multiserver": ms,
        "multiclient": mc,
        "message_json": None,
        "python_value_repr": None,
        "frame": None,
        "return_frame": None,
        "port": None,
        "parts_hex": [],
        "parts_text": [],
    }


def set_parts(rec, parts, key="parts"):
    parts = [bytes(p) for p in parts]
    rec[key + "_hex"] = [p.hex() for p in parts]
    rec[key + "_text"] = [part_text(p) for p in parts]


def set_value(rec, value):
    rec["message_json"] = json.dumps(value)
    rec["python_value_repr"] = repr(value)


def netgear(**kw):
    kw.setdefault("address", HOST)
    kw.setdefault("logging", False)
    kw.setdefault("jpeg_compression", False)
    kw.setdefault("request_timeout", 4)  # vidgear's minimum
    return NetGear(**kw)


# --------------------------------------------------------------------------
# server -> client: a vidgear server against a raw PAIR / REP / ROUTER socket
# --------------------------------------------------------------------------

class RawResponder(threading.Thread):
    """Receives what the vidgear server sends and answers like a client would."""

    def __init__(self, sock, bi, router=False):
        super().__init__(daemon=True)
        self.sock, self.bi, self.router = sock, bi, router
        self.got = queue.Queue()

    def run(self):
        while True:
            if not self.sock.poll(int(WAIT * 4000)):
                return
            parts = self.sock.recv_multipart()
            self.got.put(parts)
            envelope = []
            if self.router:  # [identity, request id, b"", payload...]
                cut = parts.index(b"") + 1
                envelope, parts = parts[:cut], parts[cut:]
            header = json.loads(parts[0])
            if header.get("terminate_flag"):
                reply = b"raw capture peer: termination noted"
            elif self.bi:
                reply = json.dumps({"return_type": "NoneType", "data": None}).encode()
            else:
                reply = b"Data received on device: RAWPEER0 !"
            self.sock.send_multipart(envelope + [reply])
            if header.get("terminate_flag"):
                return


def server_session(records, pattern, bi, ms=False, jpeg=None, single=None,
                   raw_type=None, name_extra=""):
    """One vidgear server: every value case and frame case (or just the
    `single` (dtype, shape) frame), then close() and its termination message."""
    port = free_port(PREFERRED_PORTS[("s2c", "ms", bi)] if ms else None)
    raw_type = raw_type if raw_type is not None else (zmq.PAIR if pattern == 0 else zmq.REP)
    raw = CTX.socket(raw_type)
    raw.linger = 0
    raw.bind("tcp://{}:{}".format(HOST, port))
    responder = RawResponder(raw, bi, router=(raw_type == zmq.ROUTER))
    responder.start()

    opts = {}
    if bi:
        opts["bidirectional_mode"] = True
    if ms:
        opts["multiserver_mode"] = True
    if jpeg is not None:
        opts.update(jpeg)
    server = netgear(port=str(port), pattern=pattern, receive_mode=False, **opts)

    prefix = "s2c-p{}-{}{}{}".format(pattern, "bi" if bi else "plain",
                                     "-multiserver" if ms else "", name_extra)

    def one(name, message, dtype, shape):
        rec = new_record("{}-{}".format(prefix, name), "server-to-client", pattern, bi, ms)
        set_value(rec, message)
        rec["frame"] = frame_desc(dtype, shape)
        rec["port"] = str(port) if ms else None
        if jpeg is not None:
            rec["jpeg_options"] = {k: v for k, v in jpeg.items()}
        if raw_type == zmq.ROUTER:
            rec["raw_socket"] = "ROUTER"
            rec["note"] = ("parts as seen by a ROUTER: [peer identity, REQ_CORRELATE request id, "
                           "empty delimiter, header, frame]; identity and request id are random")
        reply = server.send(synthetic(dtype, shape), message=message)
        parts = responder.got.get(timeout=WAIT)
        set_parts(rec, parts)
        rec["send_returned_repr"] = repr(reply)
        records.append(rec)

    if single is None:
        for name, value in VALUES:
            one("msg-" + name, value, *MESSAGE_FRAME)
        for dtype in DTYPES:
            for shape in SHAPES:
                one("frame-{}-{}".format(dtype, shape_name(shape)), None, dtype, shape)
    else:
        one("frame-{}-{}".format(single[0], shape_name(single[1])), None, *single)

    server.close()
    parts = responder.got.get(timeout=WAIT)
    rec = new_record(prefix + "-terminate", "server-to-client", pattern, bi, ms, kind="terminate")
    rec["port"] = str(port) if ms else None
    if raw_type == zmq.ROUTER:
        rec["raw_socket"] = "ROUTER"
    set_parts(rec, parts)
    records.append(rec)
    responder.join(WAIT)
    raw.close()


# --------------------------------------------------------------------------
# client -> server: a vidgear client against a raw PAIR / REQ socket
# --------------------------------------------------------------------------

CONFIRM_RE = re.compile(r"^Data received on device: ([A-Z0-9]{8}) !$")


class ClientSession:
    def __init__(self, pattern, bi, ms=False, mc=False):
        self.pattern, self.bi, self.ms, self.mc = pattern, bi, ms, mc
        key = ("c2s", "ms", bi) if ms else ("c2s", "mc", bi) if mc else None
        self.port = free_port(PREFERRED_PORTS[key] if key else None)
        opts = {}
        if bi:
            opts["bidirectional_mode"] = True
        if ms:
            opts["multiserver_mode"] = True
        if mc:
            opts["multiclient_mode"] = True
        port_arg = [str(self.port)] if ms else str(self.port)
        self.client = netgear(port=port_arg, pattern=pattern, receive_mode=True, **opts)
        self.raw = CTX.socket(zmq.PAIR if pattern == 0 else zmq.REQ)
        self.raw.linger = 0
        self.raw.connect("tcp://{}:{}".format(HOST, self.port))
        self.prefix = "c2s-p{}-{}{}{}".format(pattern, "bi" if bi else "plain",
                                              "-multiserver" if ms else "",
                                              "-multiclient" if mc else "")

    def header(self, message=None, dtype="uint8", shape=(2, 3, 3)):
        # Built the way NetGear.send() builds it: same keys, same order, json.dumps defaults.
        d = {"port": str(self.port)} if self.ms else {}
        d.update({"terminate_flag": False, "compression": False, "message": message,
                  "pattern": str(self.pattern), "dtype": dtype, "shape": list(shape)})
        return json.dumps(d).encode()

    def exchange(self, parts):
        self.raw.send_multipart(parts)
        if not self.raw.poll(int(WAIT * 1000)):
            raise RuntimeError("no reply from vidgear client in " + self.prefix)
        return self.raw.recv_multipart()

    def record(self, name, kind="reply"):
        rec = new_record("{}-{}".format(self.prefix, name), "client-to-server",
                         self.pattern, self.bi, self.ms, self.mc, kind=kind)
        rec["port"] = str(self.port) if (self.ms or self.mc) else None
        return rec

    def frame_reply(self, records, name, return_value=None, use_private=True):
        """Send one frame message, capture the reply."""
        if use_private:
            # The slot recv(return_data=...) fills; set directly so the reply to
            # *this* frame is guaranteed to carry it.
            self.client._NetGear__return_data = return_value
        frame = synthetic(*MESSAGE_FRAME)
        request = [self.header(), frame.tobytes()]
        reply = self.exchange(request)
        got = self.client.recv()  # pop the frame NetGear queued
        rec = self.record(name)
        rec["frame"] = frame_desc(*MESSAGE_FRAME)
        set_parts(rec, request, key="request_parts")
        set_parts(rec, reply)
        rec["recv_returned_type"] = type(got).__name__
        records.append(rec)
        return rec

    def terminate(self, records):
        d = {"terminate_flag": True}
        if self.ms:
            d["port"] = str(self.port)  # NetGear.close() puts port after terminate_flag
        request = [json.dumps(d).encode()]
        if self.pattern == 1:
            reply = self.exchange(request)
            rec = self.record("terminate-ack", kind="terminate-ack")
            set_parts(rec, request, key="request_parts")
            set_parts(rec, reply)
            records.append(rec)
        else:
            self.raw.send_multipart(request)
        deadline = time.monotonic() + WAIT
        while not self.client._NetGear__terminate and time.monotonic() < deadline:
            time.sleep(0.01)
        self.client.close()
        self.raw.close()


def add_return_value(rec, value):
    if isinstance(value, np.ndarray):
        rec["return_frame"] = frame_desc(str(value.dtype), value.shape)
        rec["python_value_repr"] = "synthetic({!r}, {!r})".format(str(value.dtype), value.shape)
    else:
        set_value(rec, value)


def add_device_id(rec):
    m = CONFIRM_RE.match(rec["parts_text"][0] or "")
    if m:
        rec["kind"] = "confirmation"
        rec["device_id"] = m.group(1)


def client_sessions(records):
    # Bidirectional replies carrying every kind of return value.
    for pattern in (0, 1):
        s = ClientSession(pattern, bi=True)
        for name, value in VALUES:
            add_return_value(s.frame_reply(records, "return-" + name, value), value)
        for dtype, shape in RETURN_FRAMES:
            value = synthetic(dtype, shape)
            rec = s.frame_reply(records, "return-ndarray-{}-{}".format(
                dtype, shape_name(shape)), value)
            add_return_value(rec, value)
        s.terminate(records)

    # Public API: recv(return_data=X) only affects frames that arrive later,
    # so each reply carries the value given to the previous recv() call.
    s = ClientSession(1, bi=True)
    given = None
    for i, nxt in enumerate(["first", "second", "third"]):
        frame = synthetic(*MESSAGE_FRAME)
        request = [s.header(), frame.tobytes()]
        reply = s.exchange(request)
        s.client.recv(return_data=nxt)
        rec = s.record("public-api-seq{}".format(i))
        rec["frame"] = frame_desc(*MESSAGE_FRAME)
        set_value(rec, given)
        rec["note"] = ("reply to frame {} carries the return_data of the recv() call made "
                       "before that frame arrived ({!r}); recv() right after it passed {!r}"
                       ).format(i, given, nxt)
        set_parts(rec, request, key="request_parts")
        set_parts(rec, reply)
        records.append(rec)
        given = nxt
    s.terminate(records)

    # Non-bidirectional confirmation strings, and single-server termination.
    for pattern in (0, 1):
        s = ClientSession(pattern, bi=False)
        add_device_id(s.frame_reply(records, "confirmation"))
        s.terminate(records)

    # Multi-server client (pattern 1): confirmation / bi reply, termination ack.
    for bi in (False, True):
        s = ClientSession(1, bi=bi, ms=True)
        rec = s.frame_reply(records, "reply" if bi else "confirmation", "ms-return" if bi else None)
        if bi:
            add_return_value(rec, "ms-return")
        add_device_id(rec)
        s.terminate(records)

    # Multi-client client (pattern 1): replies lead with "port".
    for bi in (False, True):
        s = ClientSession(1, bi=bi, mc=True)
        add_return_value(s.frame_reply(records, "return-none", None), None)
        for name, value in [("nested", dict(VALUES)["nested"]), ("unicode", dict(VALUES)["unicode"]),
                            ("tuple", dict(VALUES)["tuple"])]:
            add_return_value(s.frame_reply(records, "return-" + name, value), value)
        dtype, shape = RETURN_FRAMES[0]
        value = synthetic(dtype, shape)
        add_return_value(s.frame_reply(records, "return-ndarray-{}-{}".format(
            dtype, shape_name(shape)), value), value)
        s.terminate(records)


# --------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()

    records = []
    t0 = time.monotonic()
    for pattern in (0, 1):
        for bi in (False, True):
            server_session(records, pattern, bi)
    for bi in (False, True):
        server_session(records, 1, bi, ms=True)
    # The REQ envelope vidgear's server produces (REQ_RELAXED + REQ_CORRELATE).
    server_session(records, 1, False, raw_type=zmq.ROUTER, single=MESSAGE_FRAME,
                   name_extra="-router")
    # JPEG headers and payloads (default quality/fastdct/fastupsample; BGR and GRAY).
    for cs, shape in (("BGR", (16, 16, 3)), ("GRAY", (16, 16))):
        server_session(records, 0, False, jpeg={"jpeg_compression": cs},
                       single=("uint8", shape), name_extra="-jpeg-" + cs.lower())
    client_sessions(records)

    doc_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(doc_dir, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(records, fh, indent=1, ensure_ascii=True, allow_nan=False)
        fh.write("\n")
    print("wrote {} records to {} in {:.1f}s (vidgear {}, pyzmq {}, numpy {})".format(
        len(records), args.out, time.monotonic() - t0, vidgear.__version__,
        zmq.__version__, np.__version__), file=sys.stderr)


if __name__ == "__main__":
    main()
