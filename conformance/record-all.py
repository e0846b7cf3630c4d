#!/usr/bin/env python3
"""Re-record the session corpus in conformance/sessions/ (spec/09-session-files.md).

Every session puts real vidgear 0.3.6 peers (conformance/python/peer.py) on
both ends and `netgear record` between them:

    server(s): peer.py send    --> netgear record --listen/--forward --> peer.py receive :client(s)

and then checks the new file with `netgear replay`.

    python3 conformance/record-all.py                 # every session
    python3 conformance/record-all.py p0-plain p1-*   # some (shell-style patterns)
    python3 conformance/record-all.py --list

Options: --netgear PATH (default: `cargo build` then target/debug/netgear),
--python PATH (default: the venv of `netgear conform --provision`),
--out DIR (default: conformance/sessions).  Uses only the standard library.
Ports 47100-47399 on 127.0.0.1 must be free.
"""

import argparse
import fnmatch
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEER = ROOT / "conformance" / "python" / "peer.py"

SHAPE = "24,32,3"  # small synthetic frames keep the files small
FRAMES = 5


class Session:
    def __init__(self, name, pattern, description, *, bidirectional=False, frames=FRAMES,
                 shape=SHAPE, dtype="uint8", message=None, message_python=None,
                 ret=None, ret_python=None, return_frame=None, return_dtype="uint8",
                 server_jpeg=None, client_jpeg=None, multiserver=0, multiclient=0,
                 restart_client=None, fps=None):
        self.name = name
        self.pattern = pattern
        self.description = description
        self.bidirectional = bidirectional
        self.frames = frames
        self.shape = shape
        self.dtype = dtype
        self.message = message
        self.message_python = message_python
        self.ret = ret
        self.ret_python = ret_python
        self.return_frame = return_frame
        self.return_dtype = return_dtype
        self.server_jpeg = server_jpeg
        self.client_jpeg = client_jpeg
        self.multiserver = multiserver  # number of servers (0: not multi-server)
        self.multiclient = multiclient  # number of clients (0: not multi-client)
        # seconds between killing the client and starting it again (None: no restart)
        self.restart_client = restart_client
        self.fps = fps

    def links(self):
        return max(self.multiserver, self.multiclient, 1)


UNICODE = '"h\\u00e9llo w\\u00f6rld \\ud83c\\udfa5 \\u2713 \\u65e5\\u672c \\u0001\\t\\"q\\" \\\\"'

SESSIONS = [
    Session("p0-plain", 0, "plain PAIR: raw frames, confirmations, termination"),
    Session("p1-plain", 1, "plain REQ/REP: raw frames, confirmations, termination and its acknowledgement"),
    Session("p0-terminate", 0, "termination handshake alone on PAIR: the server closes without sending a frame",
            frames=0),
    Session("p1-terminate", 1, "termination handshake alone on REQ/REP: termination message and acknowledgement",
            frames=0),
    Session("p0-bidi-str", 0, "bidirectional PAIR: unicode string message and return data",
            bidirectional=True, message=UNICODE, ret='"merci \\ud83d\\ude4f \\u00e7a va"'),
    Session("p1-bidi-str", 1, "bidirectional REQ/REP: unicode string message and return data",
            bidirectional=True, message=UNICODE, ret='"ok"'),
    Session("p0-bidi-int", 0, "bidirectional PAIR: integers", bidirectional=True, message="42", ret="-7"),
    Session("p0-bidi-float", 0, "bidirectional PAIR: float repr edge cases",
            bidirectional=True,
            message="[0.1, 1e+16, 1e-05, -0.0, 1.5e+300, 5e-324, 1.7976931348623157e+308, 2.5]",
            ret="[0.30000000000000004, -1e-07, 100.0]"),
    Session("p1-bidi-nan-inf", 1, "bidirectional REQ/REP: NaN, Infinity, -Infinity",
            bidirectional=True, message='{"x": NaN, "y": Infinity, "z": -Infinity}',
            ret="NaN"),
    Session("p0-bidi-bigint", 0, "bidirectional PAIR: integers beyond 64 bits",
            bidirectional=True,
            message="[1267650600228229401496703205376, -1180591620717411303424, 18446744073709551616]",
            ret="340282366920938463463374607431768211457"),
    Session("p0-bidi-list", 0, "bidirectional PAIR: nested lists and objects",
            bidirectional=True, message='[1, [2, [3, []]], {"a": {"b": [true, false, null]}}]',
            ret='["a", 1, null, true, {}]'),
    Session("p1-bidi-tuple", 1, "bidirectional REQ/REP: Python tuples (return_type \"tuple\")",
            bidirectional=True, message_python="(1, 'two', (3.5, None))",
            ret_python="((1, 2), (3, 4))"),
    Session("p1-bidi-dict-intkeys", 1, "bidirectional REQ/REP: dicts with int keys (sent as strings)",
            bidirectional=True, message_python="{1: 'one', 2: {3: 'three'}}",
            ret_python="{10: [1, 2], 'k': {}}"),
    Session("p0-bidi-bool", 0, "bidirectional PAIR: booleans (a falsy return value)",
            bidirectional=True, message="true", ret="false"),
    Session("p1-bidi-none", 1, "bidirectional REQ/REP: no message and no return data (None)",
            bidirectional=True),
    Session("p0-bidi-frame-return", 0, "bidirectional PAIR: a uint8 frame as return data",
            bidirectional=True, message='"send me a frame"', return_frame="16,24,3"),
    Session("p1-bidi-frame-return-f32", 1, "bidirectional REQ/REP: a float32 frame as return data",
            bidirectional=True, message='"depth please"', return_frame="6,8", return_dtype="float32",
            dtype="uint16", shape="12,16"),
    Session("p0-jpeg-bgr", 0, "JPEG BGR both ways: JPEG frames and JPEG return frames",
            bidirectional=True, shape="48,64,3", server_jpeg="BGR", client_jpeg="BGR",
            return_frame="48,64,3"),
    Session("p1-jpeg-rgb", 1, "JPEG RGB both ways: JPEG frames and JPEG return frames",
            bidirectional=True, shape="48,64,3", server_jpeg="RGB", client_jpeg="RGB",
            return_frame="48,64,3"),
    Session("p0-jpeg-gray", 0, "JPEG GRAY both ways: 2-D frames and return frames",
            bidirectional=True, shape="48,64", server_jpeg="GRAY", client_jpeg="GRAY",
            return_frame="48,64"),
    Session("p1-jpeg-bgr-plain", 1, "JPEG BGR frames, plain REQ/REP (confirmations)",
            shape="48,64,3", server_jpeg="BGR"),
    # Paced so that the two servers overlap: vidgear's client stops as soon as
    # every server it has seen has terminated.
    Session("p1-multiserver", 1, "multi-server: two servers, one client bound to both ports",
            multiserver=2, frames=8, fps=4),
    Session("p1-multiclient", 1, "multi-client: one server, two clients (replies carry the client's port)",
            multiclient=2, frames=6, ret='"from a client"'),
    Session("p0-reconnect", 0,
            "client killed (SIGKILL) mid-stream and started again at once; the frame sent meanwhile "
            "waits in the relay and reaches the new client",
            frames=15, fps=5, restart_client=0.5, shape="16,16,3"),
    Session("p1-reconnect", 1,
            "client killed (SIGKILL) mid-stream and started again at once; the frame sent meanwhile "
            "waits in the relay and reaches the new client",
            frames=15, fps=5, restart_client=0.5, shape="16,16,3"),
    Session("p0-reconnect-slow", 0,
            "client killed (SIGKILL) mid-stream and started again after 5 s: the server's request "
            "times out, it reconnects and goes on; the new client answers the stale frame queued "
            "in the relay too (PAIR does not correlate answers with frames)",
            frames=15, fps=5, restart_client=5.0, shape="16,16,3"),
    Session("p1-reconnect-slow", 1,
            "client killed (SIGKILL) mid-stream and started again after 5 s: the server's request "
            "times out, it reconnects with a new REQ socket and goes on; the answer to the stale "
            "request cannot be routed back",
            frames=15, fps=5, restart_client=5.0, shape="16,16,3"),
]


def log(msg):
    print("[record-all] " + msg, file=sys.stderr, flush=True)


class Proc:
    """A child whose stderr is collected (and watched for a line)."""

    def __init__(self, argv, name):
        self.name = name
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.err = []
        self.out = []
        self.ready = threading.Event()
        self._t = [threading.Thread(target=self._read, args=(self.proc.stderr, self.err), daemon=True),
                   threading.Thread(target=self._read, args=(self.proc.stdout, self.out), daemon=True)]
        for t in self._t:
            t.start()

    def _read(self, stream, into):
        for line in stream:
            into.append(line)
            if "netgear record: ready" in line:
                self.ready.set()

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log("{} did not finish in {} s; killing it".format(self.name, timeout))
            self.proc.kill()
            self.proc.wait()
            return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def tail(self):
        for t in self._t:
            t.join(timeout=1)
        return "".join(self.err[-8:])


def json_or_python(argv, flag, json_text, python_text):
    if python_text is not None:
        argv += [flag + "-python", python_text]
    elif json_text is not None:
        argv += [flag, json_text]


def record(s, index, netgear, python, out_dir, versions):
    base = 47100 + 10 * index
    n = s.links()
    listen = [base + i for i in range(n)]
    forward = [base + 5 + i for i in range(n)]
    common = ["--pattern", str(s.pattern)]
    if s.bidirectional:
        common.append("--bidirectional")

    clients = []
    if s.multiclient:
        for p in forward:
            argv = [str(python), str(PEER), "receive", "--port", str(p), "--multiclient"] + common
            json_or_python(argv, "--return", s.ret, s.ret_python)
            clients.append(argv)
    else:
        ports = ",".join(str(p) for p in forward)
        argv = [str(python), str(PEER), "receive", "--port", ports] + common
        if s.multiserver:
            argv.append("--multiserver")
        if s.client_jpeg:
            argv += ["--jpeg", s.client_jpeg]
        if s.return_frame:
            argv += ["--return-frame", s.return_frame, "--return-dtype", s.return_dtype]
        json_or_python(argv, "--return", s.ret, s.ret_python)
        if s.restart_client is not None:
            argv.append("--json")  # one line per frame: tells when to kill it
        clients.append(argv)

    servers = []
    server_ports = [[p] for p in listen] if s.multiserver else [listen]
    for ports in server_ports:
        argv = [str(python), str(PEER), "send", "--address", "127.0.0.1",
                "--port", ",".join(str(p) for p in ports), "--frames", str(s.frames),
                "--shape", s.shape, "--dtype", s.dtype] + common
        if s.multiserver:
            argv.append("--multiserver")
        if s.multiclient:
            argv.append("--multiclient")
        if s.server_jpeg:
            argv += ["--jpeg", s.server_jpeg]
        if s.fps:
            argv += ["--fps", str(s.fps)]
        json_or_python(argv, "--message", s.message, s.message_python)
        servers.append(argv)

    def shown(argvs):
        return " ; ".join(" ".join(shlex.quote(a) for a in argv[2:]) for argv in argvs)

    tmp = out_dir / (".recording-" + s.name + ".ngs")
    rec_argv = [str(netgear), "record", "--pattern", str(s.pattern),
                "--listen", ",".join("tcp://127.0.0.1:{}".format(p) for p in listen),
                "--forward", ",".join("tcp://127.0.0.1:{}".format(p) for p in forward),
                "--out", str(tmp), "--timeout", "90", "--name", s.name,
                "--description", s.description,
                "--server-impl", "vidgear " + versions, "--client-impl", "vidgear " + versions,
                "--server-args", shown(servers), "--client-args", shown(clients)]
    for flag, on in (("--bidirectional", s.bidirectional), ("--multiserver", s.multiserver),
                     ("--multiclient", s.multiclient)):
        if on:
            rec_argv.append(flag)
    if s.server_jpeg:
        rec_argv += ["--server-jpeg", s.server_jpeg]
    if s.client_jpeg:
        rec_argv += ["--client-jpeg", s.client_jpeg]

    recorder = Proc(rec_argv, "recorder")
    if not recorder.ready.wait(20):
        recorder.kill()
        raise RuntimeError("the recorder did not start: " + recorder.tail())
    running_clients = [Proc(argv, "client") for argv in clients]
    time.sleep(0.3)
    running_servers = [Proc(argv, "server") for argv in servers]
    problems = []
    if s.restart_client is not None:
        # Kill the client mid-stream: once it has delivered a few frames.
        deadline = time.monotonic() + 30
        while len(running_clients[0].out) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        log("  killing the client (SIGKILL); starting it again in {} s".format(s.restart_client))
        running_clients[0].kill()
        time.sleep(s.restart_client)
        running_clients.append(Proc(clients[0], "restarted client"))
        running_clients = running_clients[1:]
    for p in running_servers:
        if p.wait(90) != 0:
            problems.append("server exited with {}: {}".format(p.proc.returncode, p.tail()))
    for p in running_clients:
        if p.wait(60) != 0:
            problems.append("client exited with {}: {}".format(p.proc.returncode, p.tail()))
    code = recorder.wait(100)
    if code != 0:
        problems.append("recorder exited with {}: {}".format(code, recorder.tail()))
    if problems:
        raise RuntimeError("; ".join(problems))
    final = out_dir / (s.name + ".ngs")
    os.replace(tmp, final)
    log("  " + recorder.tail().strip().splitlines()[-1])
    return final


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="sessions to record (shell patterns); default: all")
    ap.add_argument("--netgear", type=Path, default=None)
    ap.add_argument("--python", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "conformance" / "sessions")
    ap.add_argument("--list", action="store_true", help="list the sessions and exit")
    args = ap.parse_args()

    chosen = [(i, s) for i, s in enumerate(SESSIONS)
              if not args.names or any(fnmatch.fnmatch(s.name, pat) for pat in args.names)]
    if args.list:
        for _, s in chosen:
            print("{:28} {}".format(s.name, s.description))
        return 0
    if not chosen:
        log("no session matches {}".format(args.names))
        return 2

    netgear = args.netgear
    if netgear is None:
        subprocess.run(["cargo", "build", "--quiet", "--bin", "netgear"], cwd=ROOT, check=True)
        netgear = ROOT / "target" / "debug" / "netgear"
    python = args.python
    if python is None:
        out = subprocess.run([str(netgear), "conform", "--provision"], cwd=ROOT, check=True,
                             stdout=subprocess.PIPE, text=True)
        python = Path(out.stdout.strip())
    versions = subprocess.run(
        [str(python), "-c", "import vidgear.version as v; print(v.__version__)"],
        check=True, stdout=subprocess.PIPE, text=True).stdout.strip()
    args.out.mkdir(parents=True, exist_ok=True)

    failed = []
    for index, s in chosen:
        log("{} ({})".format(s.name, s.description))
        try:
            path = record(s, index, netgear, python, args.out, versions)
        except RuntimeError as exc:
            log("  FAILED: {}".format(exc))
            failed.append(s.name)
            continue
        check = subprocess.run([str(netgear), "replay", str(path)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
        sys.stderr.write(check.stdout)
        if check.returncode != 0:
            failed.append(s.name + " (replay)")
    log("{} of {} session(s) recorded and replayed cleanly".format(len(chosen) - len(failed), len(chosen)))
    if failed:
        log("failed: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
