#!/usr/bin/env bash
# Self-test of peer.py: vidgear sender -> vidgear receiver, bidirectional,
# patterns 0 and 1, 5 frames each.  Checks that every received frame hashes
# like the synthetic frame the sender made, that the message arrives intact,
# and that every reply equals the receiver's return data.
#
#   PYTHON=/path/to/python conformance/python/selftest.sh
set -euo pipefail

PYTHON=${PYTHON:-python3}
HERE=$(cd "$(dirname "$0")" && pwd)
PEER="$HERE/peer.py"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

FRAMES=5
SHAPE=24,32,3
MESSAGE='{"text": "h\u00e9llo \ud83c\udfa5", "n": [1, 2.5, null, true]}'
RETURN='{"ok": true, "values": [0.1, 1e+16, -7]}'

free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

fail=0
for pattern in 0 1; do
    port=$(free_port)
    "$PYTHON" "$PEER" receive --address 127.0.0.1 --port "$port" --pattern "$pattern" \
        --bidirectional --json --return "$RETURN" \
        >"$WORK/recv.out" 2>"$WORK/recv.err" &
    rpid=$!
    "$PYTHON" "$PEER" send --address 127.0.0.1 --port "$port" --pattern "$pattern" \
        --bidirectional --json --frames "$FRAMES" --shape "$SHAPE" --message "$MESSAGE" \
        >"$WORK/send.out" 2>"$WORK/send.err" || { echo "pattern $pattern: send failed"; cat "$WORK/send.err"; fail=1; }
    wait "$rpid" || { echo "pattern $pattern: receive failed"; cat "$WORK/recv.err"; fail=1; }

    if "$PYTHON" - "$WORK/send.out" "$WORK/recv.out" "$FRAMES" "$SHAPE" "$MESSAGE" "$RETURN" <<'EOF'
import hashlib, json, sys
import numpy as np
send_path, recv_path, frames, shape, message, ret = sys.argv[1:]
frames = int(frames)
shape = tuple(int(x) for x in shape.split(","))
message, ret = json.loads(message), json.loads(ret)
sent = [json.loads(l) for l in open(send_path)]
got = [json.loads(l) for l in open(recv_path)]
errors = []
if len(sent) != frames or len(got) != frames:
    errors.append("expected {} lines each, got send={} receive={}".format(frames, len(sent), len(got)))
for k, line in enumerate(got):
    n = int(np.prod(shape))
    frame = ((np.arange(n, dtype=np.int64) + k) % 251).astype("uint8").reshape(shape)
    want = hashlib.sha256(frame.tobytes()).hexdigest()
    if line["seq"] != k or line["sha256"] != want or line["shape"] != list(shape) \
            or line["dtype"] != "uint8" or line["message"] != message:
        errors.append("receive line {} wrong: {}".format(k, line))
for k, line in enumerate(sent):
    if line["seq"] != k or line["reply"] != ret:
        errors.append("send line {} wrong: {}".format(k, line))
for e in errors:
    print("  " + e)
sys.exit(1 if errors else 0)
EOF
    then
        echo "pattern $pattern: ok ($FRAMES frames)"
    else
        echo "pattern $pattern: MISMATCH"
        fail=1
    fi
done
exit $fail
