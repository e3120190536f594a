#!/usr/bin/env python3
"""TensorBoard event files of a real training run, read by a decoder that is not rlforge's.

Usage: check_tensorboard_events.py PATH/TO/rlforge CONFIG.yaml [--torch ON|OFF]

Runs a short `rlforge train`, then reads the run's events.out.tfevents.* file: the TFRecord
framing (uint64 length, masked CRC-32C of the length, payload, masked CRC-32C of the payload) is
checked here, and every payload is decoded by `protoc --decode_raw` (Debian's protobuf-compiler),
which knows nothing of our writer. The field numbers are TensorBoard's published ones
(tensorboard/compat/proto/event.proto, summary.proto):
  Event: wall_time = 1 (double), step = 2 (int64), file_version = 3 (string), summary = 5
  Summary: value = 1 (repeated);  Summary.Value: tag = 1 (string), simple_value = 2 (float)
Tags, steps and values must agree with the run's metrics.csv and eval.csv.
"""
import glob
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

failures = []


def check(name, condition):
    if not condition:
        failures.append(name)
        print("FAIL: " + name)
    return condition


# CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), written from its definition.
CRC_TABLE = []
for n in range(256):
    c = n
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    CRC_TABLE.append(c)


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def records(path):
    """The payloads of a TFRecord file, with both CRCs of each checked."""
    with open(path, "rb") as f:
        blob = f.read()
    out = []
    pos = 0
    while pos < len(blob):
        if not check("record %d: a whole 12-byte header at byte %d" % (len(out), pos), pos + 12 <= len(blob)):
            break
        header = blob[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", blob[pos + 8:pos + 12])
        check("record %d: length CRC" % len(out), length_crc == masked_crc32c(header))
        data = blob[pos + 12:pos + 12 + length]
        if not check("record %d: %d bytes of payload" % (len(out), length), len(data) == length and pos + 16 + length <= len(blob)):
            break
        (data_crc,) = struct.unpack("<I", blob[pos + 12 + length:pos + 16 + length])
        check("record %d: data CRC" % len(out), data_crc == masked_crc32c(data))
        out.append(data)
        pos += 16 + length
    return out


def decode_raw(payload):
    """protoc --decode_raw's reading of one message, as {field: [values]} (nested messages as dicts)."""
    text = subprocess.run(["protoc", "--decode_raw"], input=payload, capture_output=True, check=True).stdout.decode()
    root = {}
    stack = [root]
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line == "}":
            stack.pop()
        elif line.endswith("{"):
            child = {}
            stack[-1].setdefault(int(line[:-1].strip()), []).append(child)
            stack.append(child)
        else:
            field, value = line.split(": ", 1)
            stack[-1].setdefault(int(field), []).append(value)
    return root


def fixed64_double(text):  # protoc prints fixed64 fields as 0x%016x
    return struct.unpack("<d", struct.pack("<Q", int(text, 16)))[0]


def fixed32_float(text):  # and fixed32 fields as 0x%08x
    return struct.unpack("<f", struct.pack("<I", int(text, 16)))[0]


def unquote(text):
    return text[1:-1] if text.startswith('"') and text.endswith('"') else None


def read_csv(path):
    with open(path) as f:
        lines = [line.rstrip("\n").split(",") for line in f if line.strip()]
    return lines[0], [[float(v) for v in row] for row in lines[1:]]


def close(a, b):  # a float32 from the event file against a CSV value printed with 6 digits
    return math.isclose(a, b, rel_tol=2e-5, abs_tol=1e-6)


def main():
    args = sys.argv[1:]
    rlforge, config = args[0], args[1]
    if "--torch" in args and args[args.index("--torch") + 1] != "ON":
        print("SKIPPED: TensorBoard events of a training run (built with -DRLFORGE_WITH_TORCH=OFF)")
        return 77
    if shutil.which("protoc") is None:
        print("FAIL: protoc not found: install protobuf-compiler (scripts/install-deps.sh lists it)")
        return 1
    check("this script's CRC-32C matches the published check value", crc32c(b"123456789") == 0xE3069283)

    out = tempfile.mkdtemp(prefix="rlforge-tb-protoc-")
    try:
        started = time.time()
        run = subprocess.run([rlforge, "train", config, "--out", out, "--set", "trainer.total_steps=1024",
                              "--set", "trainer.eval_every=512", "--set", "trainer.eval_episodes=2"],
                             capture_output=True, text=True)
        if not check("rlforge train exits 0", run.returncode == 0):
            print(run.stderr[-2000:])
            return 1
        run_dirs = [line[len("run directory: "):] for line in run.stdout.splitlines() if line.startswith("run directory: ")]
        if not check("train prints its run directory", len(run_dirs) >= 1):
            return 1
        run_dir = run_dirs[-1]
        files = glob.glob(os.path.join(run_dir, "events.out.tfevents.*"))
        if not check("one event file in the run directory", len(files) == 1):
            return 1

        payloads = records(files[0])
        check("the file has records", len(payloads) > 1)
        events = [decode_raw(p) for p in payloads]

        first = events[0]
        check("record 0 is the file version brain.Event:2", [unquote(v) for v in first.get(3, [])] == ["brain.Event:2"])
        scalars = {}  # tag -> [(step, value)]
        for i, e in enumerate(events):
            wall = fixed64_double(e[1][0]) if 1 in e else None
            check("event %d: wall_time within the run" % i, wall is not None and started - 5 <= wall <= time.time() + 5)
            if i == 0:
                continue
            check("event %d: only wall_time, step and summary" % i, set(e) <= {1, 2, 5})
            step = int(e.get(2, ["0"])[0])
            for summary in e.get(5, []):
                for value in summary.get(1, []):
                    tag = unquote(value.get(1, ['""'])[0])
                    check("event %d: a tag and a simple_value" % i, bool(tag) and 2 in value)
                    if tag and 2 in value:
                        scalars.setdefault(tag, []).append((step, fixed32_float(value[2][0])))

        # The run's CSV files hold the same numbers (metrics.csv with 6 significant digits).
        header, rows = read_csv(os.path.join(run_dir, "metrics.csv"))
        check("metrics.csv has a row per update", len(rows) == 4)
        for column, tag in [("policy_loss", "loss/policy"), ("value_loss", "loss/value"), ("entropy", "loss/entropy"),
                            ("approx_kl", "ppo/approx_kl"), ("learning_rate", "schedule/learning_rate")]:
            expected = [(int(r[0]), r[header.index(column)]) for r in rows]
            got = scalars.get(tag, [])
            check("%s: the steps of metrics.csv" % tag, [s for s, _ in got] == [s for s, _ in expected])
            for (step, value), (_, csv_value) in zip(got, expected):
                check("%s at step %d: %r vs metrics.csv %r" % (tag, step, value, csv_value), close(value, csv_value))
        header, rows = read_csv(os.path.join(run_dir, "eval.csv"))
        expected = [(int(r[0]), r[header.index("mean_return")]) for r in rows]
        got = scalars.get("eval/mean_return", [])
        check("eval/mean_return: the rows of eval.csv", [s for s, _ in got] == [s for s, _ in expected] and len(got) >= 2)
        for (step, value), (_, csv_value) in zip(got, expected):
            check("eval/mean_return at step %d: %r vs eval.csv %r" % (step, value, csv_value), close(value, csv_value))
        check("time/steps_per_second is positive at every update",
              len(scalars.get("time/steps_per_second", [])) == 4 and all(v > 0 for _, v in scalars["time/steps_per_second"]))
        print("%d records, %d tags decoded by protoc" % (len(payloads), len(scalars)))
    finally:
        shutil.rmtree(out, ignore_errors=True)
    print("%d failed checks" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
