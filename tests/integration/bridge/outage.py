#!/usr/bin/python3
# Drives one NBD client through a target outage (test-outage.sh):
#   outage.py URI DIR
# Step files in DIR, made by the test: "down" (the target is gone and the
# session past its replacement timeout), "up" (the target is back).  This
# writes "ready" once its first write is read back, and prints one JSON
# object at the end: how the I/O during and after the outage ended.
import json
import os
import sys
import time

import nbd


def wait_file(path, limit):
    end = time.monotonic() + limit
    while not os.path.exists(path):
        if time.monotonic() > end:
            sys.exit(f"outage.py: {path} did not appear within {limit} s")
        time.sleep(0.05)


def try_io(h, fn):
    t = time.monotonic()
    try:
        fn()
        return {"ok": True, "s": round(time.monotonic() - t, 2)}
    except nbd.Error as e:
        return {"ok": False, "errno": e.errnum, "s": round(time.monotonic() - t, 2)}


uri, d = sys.argv[1], sys.argv[2]
h = nbd.NBD()
h.connect_uri(uri)
res = {}
h.pwrite(b"A" * 65536, 0)
res["before"] = h.pread(65536, 0) == b"A" * 65536
open(os.path.join(d, "ready"), "w").close()

wait_file(os.path.join(d, "down"), 120)
# past the replacement timeout: a read fails, and fails fast
res["read_down"] = try_io(h, lambda: h.pread(4096, 0))
res["write_down"] = try_io(h, lambda: h.pwrite(b"X" * 4096, 8192))
open(os.path.join(d, "tried"), "w").close()

wait_file(os.path.join(d, "up"), 120)
# the session logs in again by itself: I/O succeeds again within a minute
end = time.monotonic() + 60
t0 = time.monotonic()
while True:
    r = try_io(h, lambda: h.pwrite(b"B" * 65536, 65536))
    if r["ok"] or time.monotonic() > end:
        break
    time.sleep(0.2)
res["write_up"] = r["ok"]
res["resumed_after_s"] = round(time.monotonic() - t0, 1)
res["read_up"] = h.pread(131072, 0) == b"A" * 65536 + b"B" * 65536
h.shutdown()
print(json.dumps(res))
