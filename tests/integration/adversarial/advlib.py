# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared by the adversarial scenario tests: the target (tests/tools/advtarget.py)
and a bridge (`lunbridge attach` in the foreground, an nbd+unix export) that
both die with the test, an NBD client (libnbd's Python bindings), the
target's event log, and assertions that print what they saw.

Times are time.monotonic(), the clock the target stamps its events with.
"""

import ctypes
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.normpath(os.path.join(HERE, "..", "..", "tools"))
sys.path.insert(0, TOOLS)
import advtarget  # noqa: E402

IQN = "iqn.2026-12.org.lunbridge.test:adv"
BLOCK = 512
TRIGGER_LBA = 4096
TRIGGER_OFF = TRIGGER_LBA * BLOCK  # 2 MiB
SKIP = 77


def skip(why):
    print("SKIP: %s" % why)
    sys.exit(SKIP)


def _pdeathsig():
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def expected(off, length, seed=0):
    """What the target's image holds at [off, off+length) before any write."""
    first, last = off // BLOCK, (off + length - 1) // BLOCK
    data = b"".join(advtarget.pattern(b, seed) for b in range(first, last + 1))
    skip_ = off - first * BLOCK
    return data[skip_:skip_ + length]


class Result:
    """One NBD request's outcome: ok, errno, data, start and end times."""

    def __init__(self, kind, off, length):
        self.kind, self.off, self.length = kind, off, length
        self.start = time.monotonic()
        self.end = None
        self.err = None
        self.errmsg = None
        self.data = None

    @property
    def ok(self):
        return self.end is not None and self.err is None

    @property
    def secs(self):
        return None if self.end is None else self.end - self.start

    def describe(self):
        if self.end is None:
            return "%s %d@%d: no answer yet after %.1f s" % (
                self.kind, self.length, self.off, time.monotonic() - self.start)
        if self.err is None:
            return "%s %d@%d: ok after %.2f s" % (self.kind, self.length, self.off, self.secs)
        return "%s %d@%d: %s (%s) after %.2f s" % (
            self.kind, self.length, self.off, errno.errorcode.get(self.err, self.err),
            self.errmsg, self.secs)


class Test:
    def __init__(self, name):
        self.name = name
        self.failures = 0
        self.steps = 0
        self.lunbridge = os.environ.get("LUNBRIDGE")
        if not self.lunbridge or not os.access(self.lunbridge, os.X_OK):
            skip("set LUNBRIDGE to the lunbridge binary")
        try:
            import nbd  # noqa: F401
        except ImportError:
            skip("no libnbd Python bindings (Debian package python3-libnbd)")
        self.tmp = tempfile.mkdtemp(prefix="lbadv.")
        self.run_dir = os.path.join(self.tmp, "run")
        os.mkdir(self.run_dir)
        self.target = None
        self.bridge = None
        self.bridge_err = os.path.join(self.tmp, "bridge.err")
        self.events_path = os.path.join(self.tmp, "events.jsonl")
        self.portals = []
        self.handles = []
        self.t0 = time.monotonic()
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))

    # ---- assertions
    def check(self, desc, cond, detail=""):
        self.steps += 1
        if cond:
            print("PASS: %s" % desc)
        else:
            self.failures += 1
            print("FAIL: %s" % desc)
            if detail:
                for line in str(detail).splitlines():
                    print("    | %s" % line)
        sys.stdout.flush()
        return cond

    def note(self, msg):
        print("NOTE: %s" % msg)
        sys.stdout.flush()

    def finish(self):
        self.dump()
        self.cleanup()
        print("%d passed, %d failed" % (self.steps - self.failures, self.failures))
        sys.exit(1 if self.failures else 0)

    def abort(self, desc, detail=""):
        self.check(desc + " (the test cannot go on)", False, detail)
        self.finish()

    def dump(self):
        """The bridge's log and the target's events, for whoever reads a failure."""
        print("---- bridge stderr")
        sys.stdout.write(self.log())
        print("---- target events (t relative to the test's start)")
        for e in self.events():
            e = dict(e)
            t = e.pop("t") - self.t0
            ev = e.pop("ev")
            print("%8.3f %s %s" % (t, ev, json.dumps(e, sort_keys=True)))
        sys.stdout.flush()

    # ---- the target
    def start_target(self, scenario="happy", *args):
        ready = os.path.join(self.tmp, "target.ready")
        cmd = ["/usr/bin/python3", os.path.join(TOOLS, "advtarget.py"), "--iqn", IQN,
               "--events", self.events_path, "--ready", ready, "--scenario", scenario,
               "--trigger-lba", str(TRIGGER_LBA)] + list(args)
        self.target_err = open(os.path.join(self.tmp, "target.err"), "w")
        self.target = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                       stdout=self.target_err, stderr=self.target_err,
                                       preexec_fn=_pdeathsig)
        deadline = time.monotonic() + 10
        while not os.path.exists(ready):
            if self.target.poll() is not None or time.monotonic() > deadline:
                self.abort("the target starts", open(self.target_err.name).read())
            time.sleep(0.02)
        with open(ready) as f:
            self.portals = json.load(f)["portals"]
        return self.portals

    def events(self, ev=None):
        out = []
        try:
            with open(self.events_path) as f:
                for line in f:
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    if ev is None or rec["ev"] == ev:
                        out.append(rec)
        except OSError:
            pass
        return out

    def wait_event(self, pred, timeout, ev=None):
        """The first event matching pred, waited for up to timeout s."""
        deadline = time.monotonic() + timeout
        while True:
            for e in self.events(ev):
                if pred(e):
                    return e
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)

    # ---- the bridge
    def env(self):
        e = dict(os.environ)
        e["LUNBRIDGE_RUN_DIR"] = self.run_dir
        return e

    def export(self, name="adv"):
        return "nbd+unix:///%s?socket=%s/%s.nbd" % (name, self.tmp, name)

    def attach(self, *extra, name="adv", portal=None, expect_ok=True, timeout=30):
        """`lunbridge attach` in the foreground; True once it printed its
        ready line.  Its stderr goes to bridge.err (self.log())."""
        portal = portal or self.portals[0]
        extra = self.known_options(extra)
        cmd = [self.lunbridge, "attach", "-p", portal, "-T", IQN, "-l", "0",
               "--export", self.export(name), "--name", name] + list(extra)
        self.bridge_out = os.path.join(self.tmp, "bridge.out")
        out = open(self.bridge_out, "w")
        err = open(self.bridge_err, "w")
        self.bridge_cmd = cmd
        self.bridge = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                       env=self.env(), preexec_fn=_pdeathsig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.bridge_out) as f:
                line = f.readline()
            if line.endswith("\n"):
                self.where = line.strip()
                return True
            if self.bridge.poll() is not None:
                break
            time.sleep(0.05)
        if expect_ok:
            self.abort("lunbridge attach serves (%s)" % " ".join(cmd[1:]),
                       "exit %s; stderr:\n%s" % (self.bridge.poll(), self.log()))
        return False

    def known_options(self, extra):
        """With ADV_DROP_UNKNOWN_OPTS=1, leave out the attach options (and their
        values) that this lunbridge does not know yet, to check the target
        against an older bridge; by default they are passed, and an older
        bridge fails the test."""
        if not os.environ.get("ADV_DROP_UNKNOWN_OPTS"):
            return list(extra)
        helptext = subprocess.run([self.lunbridge, "attach", "--help"], capture_output=True,
                                  text=True).stdout
        out, i = [], 0
        extra = list(extra)
        while i < len(extra):
            o = extra[i]
            if o.startswith("--") and o not in helptext:
                self.note("ADV_DROP_UNKNOWN_OPTS: leaving out %s %s" % (o, extra[i + 1]))
                i += 2
                continue
            out.append(o)
            i += 1
        return out

    def log(self):
        try:
            with open(self.bridge_err, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_has(self, desc, *words, timeout=3):
        """Every word (case-insensitive) on one line of the bridge's log,
        waited for up to timeout s (some lines follow the I/O's answer)."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.log().splitlines()
            hit = [ln for ln in lines if all(w.lower() in ln.lower() for w in words)]
            if hit or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        return self.check("%s: the bridge log has a line with %s" % (
            desc, " + ".join(repr(w) for w in words)), bool(hit),
            "its log:\n" + ("\n".join(lines[-30:]) or "(empty)"))

    def log_has_read(self, desc, *words):
        """A line of the bridge's log about a READ (opcode 0x28 or 0x88) with
        every word: the inventory's INQUIRYs have residuals of their own."""
        lines = self.log().splitlines()
        hit = [ln for ln in lines if all(w.lower() in ln.lower() for w in words) and
               any(op in ln for op in ("0x88", "0x28", "READ"))]
        return self.check("%s: the bridge log has a line about the READ with %s" % (
            desc, " + ".join(repr(w) for w in words)), bool(hit),
            "its log:\n" + ("\n".join(lines[-30:]) or "(empty)"))

    def bridge_alive(self, desc):
        return self.check("%s: the bridge is still running" % desc,
                          self.bridge is not None and self.bridge.poll() is None,
                          "exit status %s" % (self.bridge.poll() if self.bridge else None))

    def list_json(self):
        r = subprocess.run([self.lunbridge, "list", "--json"], capture_output=True, text=True,
                           env=self.env(), timeout=10)
        try:
            return [v for v in json.loads(r.stdout) if v.get("name") == "adv"], r.stdout
        except ValueError:
            return [], r.stdout + r.stderr

    # ---- NBD
    def nbd(self):
        import nbd
        h = nbd.NBD()
        h.connect_uri(self.where)
        self.handles.append(h)
        return h

    def start_io(self, h, kind, off, length=4096, data=None):
        """Issue an asynchronous pread/pwrite; poll with wait_io()."""
        import nbd
        r = Result(kind, off, length)
        r.h = h
        if kind == "read":
            r.buf = nbd.Buffer(length)
            r.cookie = h.aio_pread(r.buf, off)
        else:
            r.buf = nbd.Buffer.from_bytearray(bytearray(data))
            r.cookie = h.aio_pwrite(r.buf, off)
        return r

    def poll_io(self, results):
        """Progress every handle a little; mark the finished results."""
        import nbd
        for h in {id(r.h): r.h for r in results if r.end is None}.values():
            try:
                h.poll(50)
            except nbd.Error:
                pass
        for r in results:
            if r.end is not None:
                continue
            try:
                done = r.h.aio_command_completed(r.cookie)
            except nbd.Error as e:
                r.end = time.monotonic()
                r.err = e.errnum or errno.EIO
                r.errmsg = e.string
                continue
            if done:
                r.end = time.monotonic()
                if r.kind == "read":
                    r.data = bytes(r.buf.to_bytearray())

    def wait_io(self, results, timeout):
        if not isinstance(results, (list, tuple)):
            results = [results]
        deadline = time.monotonic() + timeout
        while any(r.end is None for r in results) and time.monotonic() < deadline:
            self.poll_io(results)
        return all(r.end is not None for r in results)

    def io(self, h, kind, off, length=4096, data=None, timeout=60):
        r = self.start_io(h, kind, off, length, data)
        self.wait_io(r, timeout)
        return r

    def read_ok(self, desc, h, off, length, want, timeout=60):
        r = self.io(h, "read", off, length, timeout=timeout)
        self.check("%s: read %d@%d succeeds" % (desc, length, off), r.ok, r.describe())
        if r.ok:
            self.check("%s: read %d@%d returns the right bytes" % (desc, length, off),
                       r.data == want, self.diff(r.data, want))
        return r

    def diff(self, got, want):
        if got is None:
            return "no data"
        if len(got) != len(want):
            return "length %d, expected %d" % (len(got), len(want))
        for i in range(len(got)):
            if got[i] != want[i]:
                return "first difference at byte %d: got %s..., expected %s..." % (
                    i, got[i:i + 16].hex(), want[i:i + 16].hex())
        return ""

    # ---- cleanup
    def cleanup(self):
        # no NBD_CMD_DISC: it would wait for requests still in flight
        for h in self.handles:
            try:
                h.close()
            except Exception:
                pass
        self.handles = []
        if self.bridge and self.bridge.poll() is None:
            self.bridge.send_signal(signal.SIGTERM)
            try:
                self.bridge.wait(10)
            except subprocess.TimeoutExpired:
                print("cleanup: the bridge ignored SIGTERM for 10 s: SIGKILL")
                self.bridge.kill()
                self.bridge.wait()
        if self.target and self.target.poll() is None:
            self.target.kill()
            self.target.wait()
        if os.environ.get("ADV_KEEP"):
            print("kept %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def same_isid_login_after(events, isid, t_from, t_to=None):
    """A login reinstating isid in (t_from, t_to]."""
    for e in events:
        if e["ev"] == "login" and e["isid"] == isid and e["t"] > t_from and \
                (t_to is None or e["t"] <= t_to):
            return e
    return None


def confirmations(events, isid):
    """Events after which the target holds none of the session's commands:
    an ABORT TASK or LUN RESET it answered Function Complete, a logout it
    answered, a reinstating login with the same ISID."""
    out = []
    for e in events:
        if e["ev"] == "tmf" and e.get("isid") == isid and e["answer"] == "complete" and \
                e["function"] in ("abort_task", "lun_reset", "abort_task_set",
                                  "clear_task_set"):
            out.append(e)
        elif e["ev"] == "logout" and e.get("isid") == isid and e.get("answered"):
            out.append(e)
        elif e["ev"] == "login" and e["isid"] == isid and e.get("reinstatement"):
            out.append(e)
    return out


def last_cmd_before(events, lba, t):
    last = None
    for e in events:
        if e["ev"] == "cmd" and e.get("lba") == lba and e["t"] <= t:
            last = e
    return last
