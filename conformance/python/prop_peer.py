#!/usr/bin/env python3
"""vidgear (0.3.6) behind a control channel, for the property test.

One long-lived process: vidgear is imported once, and each generated
session costs a few milliseconds instead of a Python start.  The Rust side
(conformance/src/property) writes one JSON instruction per line on stdin;
this process answers with one JSON event per line on stdout.  Nothing else
goes to stdout.

Instructions (every one carries the session id `sid`, echoed in events):

  {"op": "clients", ...}  bind vidgear receivers (one client, N clients
                          of a Multi-Client server, or one Multi-Server
                          hub); report every frame each receives
  {"op": "servers", ...}  connect vidgear senders (one server, N servers
                          of a Multi-Server hub, or one Multi-Client
                          server), send the steps, report every reply
  {"op": "next"}          pacing: the Rust side saw the last frame sent
                          (or gave up waiting for it); send the next one
  {"op": "ping"}          answered with {"ev": "pong"}

Values travel tagged, so that every Python type survives the trip:
null, true/false and strings as themselves; {"i": "digits"} an int;
{"f": "16 hex digits"} the bits of a float; {"l": [...]} a list;
{"t": [...]} a tuple; {"d": [[key, value], ...]} a dict whose keys are
tagged too.  A frame is {"dtype": ..., "shape": [...], "hex": <its bytes>}.

What vidgear hands over is reported as {"json": "<json.dumps text>"} (the
Python dialect: NaN stays NaN), {"nd": frame} for an array, or
{"absent": true} when vidgear's API gives no message at all.
"""

import json
import queue
import struct
import sys
import threading
import time
import traceback

import numpy as np
import vidgear.gears.netgear as netgear_module

OUT = threading.Lock()
NEXT = queue.Queue()

# A PUB socket drops what it sends before the subscription has arrived
# (ZeroMQ's slow joiner); a pattern-2 sender waits this long after
# connecting before its first frame.
SLOW_JOINER_GUARD = 0.02
# A PUB socket with HWM 1 learns only with a delay that its queue has
# drained, and drops what it is handed before: the pause before the next
# frame once "next" has come.
PUB_GAP = 0.005
# How long a paced pattern-2 sender waits for "next" before going on.
PACING_LIMIT = 5.0


def emit(obj):
    line = json.dumps(obj)
    with OUT:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def log(msg):
    print("[prop_peer] " + msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# values
# --------------------------------------------------------------------------

def py_value(tree):
    """The Python value a tagged tree describes."""
    if tree is None or isinstance(tree, (bool, str)):
        return tree
    (tag, inner), = tree.items()
    if tag == "i":
        return int(inner)
    if tag == "f":
        return struct.unpack(">d", bytes.fromhex(inner))[0]
    if tag == "l":
        return [py_value(v) for v in inner]
    if tag == "t":
        return tuple(py_value(v) for v in inner)
    if tag == "d":
        return dict((py_value(k), py_value(v)) for k, v in inner)
    if tag == "frame":
        return frame_of(inner)
    raise ValueError("unknown tag {!r}".format(tag))


def frame_of(spec):
    data = bytes.fromhex(spec["hex"])
    arr = np.frombuffer(data, dtype=np.dtype(spec["dtype"]))
    return arr.reshape(tuple(spec["shape"])).copy()


def describe(value):
    if isinstance(value, np.ndarray):
        # (not np.ascontiguousarray, which turns a 0-d array into a 1-d one)
        return {"nd": {"dtype": str(value.dtype), "shape": list(value.shape),
                       "hex": value.tobytes(order="C").hex()}}
    return {"json": json.dumps(value)}


def reference(frame, jpeg):
    """What netgear, receiving `frame` from vidgear, should decode:
    simplejpeg's own decode of the bitstream vidgear sends (simplejpeg is
    deterministic, so encoding again gives that bitstream)."""
    import simplejpeg
    if not jpeg or not isinstance(frame, np.ndarray):
        return None
    cs = jpeg["colorspace"]
    src = frame[:, :, np.newaxis] if cs == "GRAY" and frame.ndim == 2 else frame
    kw = {} if cs == "GRAY" else {"colorsubsampling": "422"}
    data = simplejpeg.encode_jpeg(np.ascontiguousarray(src), quality=jpeg["quality"],
                                  colorspace=cs, fastdct=jpeg["fastdct"], **kw)
    # Decoded with the IDCT netgear's decoder uses, so that the two decodes
    # differ only where JPEG leaves decoders free (chroma upsampling).
    out = simplejpeg.decode_jpeg(data, colorspace=cs, fastdct=jpeg.get("reference_fastdct", jpeg["fastdct"]),
                                 fastupsample=False)
    if cs == "GRAY" and out.ndim == 3:
        out = np.squeeze(out, axis=2)
    return describe(out)


# --------------------------------------------------------------------------
# construction
# --------------------------------------------------------------------------

def options_of(ins):
    options = {"jpeg_compression": False}
    jpeg = ins.get("jpeg")
    if jpeg:
        options["jpeg_compression"] = jpeg["colorspace"]
        options["jpeg_compression_quality"] = jpeg["quality"]
        options["jpeg_compression_fastdct"] = jpeg["fastdct"]
    if ins.get("bidirectional"):
        options["bidirectional_mode"] = True
    if ins.get("multiserver"):
        options["multiserver_mode"] = True
    if ins.get("multiclient"):
        options["multiclient_mode"] = True
    return options


class HeldThread(threading.Thread):
    """NetGear starts its receive thread in the constructor; holding it
    back lets the first return data be set before any frame is answered."""

    failure = None

    def start(self):
        pass

    def release(self):
        threading.Thread.start(self)

    def run(self):
        owner = self._target.__self__
        try:
            super().run()
        except BaseException as exc:  # vidgear's thread died: report it
            self.failure = "{}: {}".format(type(exc).__name__, exc)
            traceback.print_exc()
            owner._NetGear__terminate = True


def make_receiver(ins, port, first_return):
    options = options_of(ins)
    if ins["pattern"] == 2 and ins.get("subscriber_timeout"):
        options["subscriber_timeout"] = ins["subscriber_timeout"]
    original = netgear_module.Thread
    netgear_module.Thread = HeldThread
    try:
        client = netgear_module.NetGear(
            address=ins["address"], port=port, protocol="ipc",
            pattern=ins["pattern"], receive_mode=True, logging=False, **options)
    finally:
        netgear_module.Thread = original
    client._NetGear__return_data = first_return
    return client


# --------------------------------------------------------------------------
# receivers
# --------------------------------------------------------------------------

def unpack(ins, item):
    """(port, message, frame); message is None when vidgear's API has none."""
    if ins.get("multiserver"):
        if len(item) == 3:
            return item[0], {"json": json.dumps(item[1])}, item[2]
        return item[0], {"json": "null"}, item[1]
    if ins.get("bidirectional"):
        return None, {"json": json.dumps(item[0])}, item[1]
    return None, {"absent": True}, item


def receive_loop(ins, index, client, returns):
    sid = ins["sid"]
    j = 0
    try:
        while True:
            item = client.recv()
            if item is None:
                break
            port, message, frame = unpack(ins, item)
            # The return data for this receiver's next frame, set before
            # the Rust side learns of this one (and so before it sends
            # the next frame): vidgear answers with whatever is set when
            # a frame arrives (spec/07 §7.2).
            if j + 1 < len(returns):
                client._NetGear__return_data = returns[j + 1]
            emit({"ev": "frame", "sid": sid, "client": index, "j": j, "port": port,
                  "message": message, "frame": describe(frame)})
            j += 1
    except Exception as exc:
        emit({"ev": "error", "sid": sid, "client": index, "error": repr(exc)})
    thread = client._NetGear__thread
    thread.join(timeout=2.0)
    failure = thread.failure
    if thread.is_alive():
        emit({"ev": "end", "sid": sid, "client": index, "frames": j,
              "failure": "vidgear's receive thread is still running"})
        return
    try:
        client.close()
    except Exception as exc:
        failure = failure or "close: {!r}".format(exc)
    emit({"ev": "end", "sid": sid, "client": index, "frames": j, "failure": failure})


def run_clients(ins):
    ports = ins["ports"]
    returns = [[py_value(v) for v in r] for r in ins["returns"]]
    if ins.get("multiserver"):
        groups = [ports]  # one hub binding every port
    else:
        groups = [p for p in ports]
    clients = []
    try:
        for i, port in enumerate(groups):
            first = returns[i][0] if i < len(returns) and returns[i] else None
            clients.append(make_receiver(ins, port, first))
    except Exception as exc:
        emit({"ev": "refused", "sid": ins["sid"], "error": "{}: {}".format(type(exc).__name__, exc)})
        return
    for client in clients:
        client._NetGear__thread.release()
    references = [[reference(r, ins.get("jpeg")) for r in rs] for rs in returns]
    emit({"ev": "bound", "sid": ins["sid"], "clients": len(clients), "references": references})
    threads = []
    for i, client in enumerate(clients):
        r = returns[i] if i < len(returns) else []
        t = threading.Thread(target=receive_loop, args=(ins, i, client, r), daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    emit({"ev": "done", "sid": ins["sid"]})


# --------------------------------------------------------------------------
# senders
# --------------------------------------------------------------------------

def close_server(server, pattern, frames):
    if pattern == 0 and frames:
        # On pattern 0 close() waits request_timeout / 5 (800 ms) for an
        # answer that never comes (spec/05 §5.3.1), which also gives libzmq
        # time to send the termination message before the socket closes
        # with linger 0.  Once frames have gone, the connection is up and
        # 10 ms are plenty: shorten only that wait.
        server._NetGear__request_timeout = 50
    server.close()


def run_servers(ins):
    sid = ins["sid"]
    pattern = ins["pattern"]
    options = options_of(ins)
    ports = ins["ports"]
    try:
        if ins.get("multiclient"):
            servers = [netgear_module.NetGear(
                address=ins["address"], port=ports, protocol="ipc", pattern=pattern,
                receive_mode=False, logging=False, **options)]
        else:
            servers = [netgear_module.NetGear(
                address=ins["address"], port=p, protocol="ipc", pattern=pattern,
                receive_mode=False, logging=False, **options) for p in ports]
    except Exception as exc:
        emit({"ev": "refused", "sid": sid, "error": "{}: {}".format(type(exc).__name__, exc)})
        return
    steps = [(s["server"], py_value(s["message"]), frame_of(s["frame"])) for s in ins["steps"]]
    emit({"ev": "connected", "sid": sid})
    if pattern == 2:
        time.sleep(SLOW_JOINER_GUARD)
    for k, (i, message, frame) in enumerate(steps):
        try:
            reply = servers[i].send(frame, message=message)
        except Exception as exc:
            emit({"ev": "send_error", "sid": sid, "k": k, "error": "{}: {}".format(type(exc).__name__, exc)})
            continue
        event = {"ev": "sent", "sid": sid, "k": k, "reference": reference(frame, ins.get("jpeg"))}
        if ins.get("multiclient") and isinstance(reply, tuple):
            event["port"], event["reply"] = reply[0], describe(reply[1])
        else:
            event["reply"] = describe(reply)
        emit(event)
        if ins.get("paced"):
            try:
                NEXT.get(timeout=PACING_LIMIT)
            except queue.Empty:
                log("no pacing message for frame {}".format(k))
            time.sleep(PUB_GAP)
    for i, server in enumerate(servers):
        frames = sum(1 for (j, _, _) in steps if j == i or ins.get("multiclient"))
        try:
            close_server(server, pattern, frames)
        except Exception as exc:
            emit({"ev": "error", "sid": sid, "error": "close: {!r}".format(exc)})
    emit({"ev": "closed", "sid": sid})


# --------------------------------------------------------------------------

def main():
    worker = None
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        ins = json.loads(line)
        op = ins["op"]
        if op == "ping":
            emit({"ev": "pong"})
        elif op == "next":
            NEXT.put(ins)
        elif op in ("clients", "servers"):
            if worker is not None:
                worker.join()
            while not NEXT.empty():
                NEXT.get_nowait()
            target = run_clients if op == "clients" else run_servers
            worker = threading.Thread(target=guarded, args=(target, ins), daemon=True)
            worker.start()
        elif op == "quit":
            break
        else:
            emit({"ev": "error", "error": "unknown op {!r}".format(op)})


def guarded(target, ins):
    try:
        target(ins)
    except Exception:
        emit({"ev": "error", "sid": ins.get("sid"), "error": traceback.format_exc()})


if __name__ == "__main__":
    emit({"ev": "ready"})
    main()
