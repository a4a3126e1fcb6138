#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""An adversarial iSCSI target for lunbridge's scenario tests.

A small, real iSCSI target (RFC 7143: ErrorRecoveryLevel 0, one connection
per session, AuthMethod=None, no digests) serving LUN 0 (and optionally
LUN 1) from memory or a file, that misbehaves as --scenario says and logs
what it saw and did to --events FILE, one JSON object a line, each with
"t" = time.monotonic() (CLOCK_MONOTONIC, comparable across processes).

    advtarget.py --iqn IQN --events FILE --ready FILE [--portals 2]
                 [--size BYTES] [--lun1-size BYTES] [--image FILE]
                 [--max-recv-dsl N] [--max-burst N] [--first-burst N]
                 [--initial-r2t yes|no] [--immediate-data yes|no]
                 [--wce yes|no] [--wp yes|no] [--thin yes|no]
                 [--trigger-lba LBA] [--trigger-blocks N]
                 [--alua STATE,STATE...] [--lu-id-per-portal]
                 [--scenario NAME[:ARGS]]

--alua makes it an ALUA target (TPGS implicit): portal i is relative port
i+1 in target port group i+1 (its login's TargetPortalGroupTag, VPD 0x83's
designators), in the state given (ao, ano, standby, unavailable,
transitioning); REPORT TARGET PORT GROUPS lists them, READs and WRITEs
through a port in standby, unavailable or transitioning get NOT READY
04/0B, 04/0C, 04/0A, and after a change (set_alua()) each I_T nexus's next
command gets the UA 2A/06, as LIO does.  --lu-id-per-portal: every portal
after the first reports another LU in VPD 0x83 (a path to the wrong LU).

The --ready FILE gets {"portals": ["127.0.0.1:P", ...], "pid": PID} once
the target listens.  The data of block N of the in-memory image is
pattern(N, seed) (see below), so a test knows what it should read.

Most scenarios act on commands that touch the trigger range
[--trigger-lba, +--trigger-blocks) (a READ or WRITE whose blocks meet it),
so the LUN inventory at attach is never disturbed.  Scenario names and
their arguments are listed in SCENARIOS below and in
docs/TESTING-ADVERSARIAL.md.

Events ("ev"): listening, login (isid, tsih, reinstatement, portal),
login_redirect, login_reject, discovery, cmd (itt, cmdsn, opcode, lba,
blocks, lun), answer (itt, status, how), swallowed, tmf (function,
ref_itt, answer), nop_out, logout (reason, answered), async (event),
window (closed/open), outage (start/end; portal when one portal closes),
held and late_write (landed, why: a write held on its way, path-lost-late),
alua (states), conn_closed (why), violation (what: the initiator broke the
protocol), data_out.  A cmd event names the portal it came through.
"""

import argparse
import json
import os
import random
import socket
import struct
import sys
import threading
import time

# ---- the image ------------------------------------------------------------


def pattern(lba, seed=0, block=512):
    """The initial content of one block: its LBA and the seed, repeated."""
    unit = struct.pack(">QQ", lba, seed)
    return unit * (block // len(unit))


class Lun:
    def __init__(self, number, size, block=512, seed=0, image=None):
        self.number = number
        self.block = block
        self.lock = threading.Lock()
        self.image = image
        if image:
            self.fd = os.open(image, os.O_RDWR)
            self.data = None
            self.size = os.fstat(self.fd).st_size
        else:
            self.fd = -1
            blocks = size // block
            self.data = bytearray(b"".join(pattern(i, seed, block) for i in range(blocks)))
            self.size = blocks * block

    @property
    def blocks(self):
        return self.size // self.block

    def read(self, lba, n):
        off, ln = lba * self.block, n * self.block
        with self.lock:
            if self.data is not None:
                return bytes(self.data[off:off + ln])
            return os.pread(self.fd, ln, off)

    def write(self, lba, buf):
        off = lba * self.block
        with self.lock:
            if self.data is not None:
                self.data[off:off + len(buf)] = buf
            else:
                os.pwrite(self.fd, buf, off)

    def grow(self, extra):
        with self.lock:
            if self.data is not None:
                self.data.extend(bytes(extra))
                self.size += extra
            else:
                self.size += extra
                os.ftruncate(self.fd, self.size)


# ---- constants ------------------------------------------------------------

OP_NOP_OUT, OP_SCSI_CMD, OP_TMF_REQ, OP_LOGIN_REQ = 0x00, 0x01, 0x02, 0x03
OP_TEXT_REQ, OP_DATA_OUT, OP_LOGOUT_REQ, OP_SNACK = 0x04, 0x05, 0x06, 0x10
OP_NOP_IN, OP_SCSI_RSP, OP_TMF_RSP, OP_LOGIN_RSP = 0x20, 0x21, 0x22, 0x23
OP_TEXT_RSP, OP_DATA_IN, OP_LOGOUT_RSP, OP_R2T = 0x24, 0x25, 0x26, 0x31
OP_ASYNC, OP_REJECT = 0x32, 0x3F
RESERVED = 0xFFFFFFFF

GOOD, CHECK_CONDITION, BUSY, TASK_SET_FULL = 0x00, 0x02, 0x08, 0x28
NOT_READY, MEDIUM_ERROR, ILLEGAL_REQUEST, UNIT_ATTENTION = 0x2, 0x3, 0x5, 0x6
DATA_PROTECT = 0x7

TMF_NAMES = {1: "abort_task", 2: "abort_task_set", 3: "clear_aca", 4: "clear_task_set",
             5: "lun_reset", 6: "target_warm_reset", 7: "target_cold_reset",
             8: "task_reassign"}
TMF_COMPLETE, TMF_NO_TASK, TMF_REJECTED = 0, 1, 255

FLAG_F = 0x80
DI_ACK, DI_O, DI_U, DI_S = 0x40, 0x04, 0x02, 0x01


def sense_fixed(key, asc, ascq, info=None, deferred=False):
    s = bytearray(18)
    s[0] = (0x71 if deferred else 0x70) | (0x80 if info is not None else 0)
    s[2] = key
    if info is not None:
        s[3:7] = struct.pack(">I", info & 0xFFFFFFFF)
    s[7] = 10
    s[12], s[13] = asc, ascq
    return bytes(s)


def sn_gt(a, b):
    """RFC 1982 serial number arithmetic, 32 bits."""
    return a != b and ((a - b) & 0xFFFFFFFF) < 0x80000000


def pad4(n):
    return (4 - n % 4) % 4


# ---- events ---------------------------------------------------------------


class Events:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1) if path else None
        self.lock = threading.Lock()

    def __call__(self, ev, **kw):
        rec = {"t": round(time.monotonic(), 6), "ev": ev}
        rec.update(kw)
        line = json.dumps(rec, sort_keys=False)
        with self.lock:
            if self.f:
                self.f.write(line + "\n")
            if os.environ.get("ADVTARGET_VERBOSE"):
                print(line, file=sys.stderr, flush=True)


# ---- PDUs -----------------------------------------------------------------


class Pdu:
    def __init__(self, bhs, ahs=b"", data=b""):
        self.bhs = bytearray(bhs)
        self.ahs = ahs
        self.data = data

    @property
    def opcode(self):
        return self.bhs[0] & 0x3F

    @property
    def immediate(self):
        return bool(self.bhs[0] & 0x40)

    @property
    def flags(self):
        return self.bhs[1]

    def u32(self, off):
        return struct.unpack_from(">I", self.bhs, off)[0]

    def u16(self, off):
        return struct.unpack_from(">H", self.bhs, off)[0]

    @property
    def itt(self):
        return self.u32(16)

    @property
    def lun(self):
        return decode_lun(bytes(self.bhs[8:16]))


def decode_lun(b):
    addr = b[0] >> 6
    if addr == 0:
        return b[1]
    if addr == 1:
        return ((b[0] & 0x3F) << 8) | b[1]
    return 0xFFFF


def encode_lun(n):
    b = bytearray(8)
    if n < 256:
        b[1] = n
    else:
        b[0] = 0x40 | (n >> 8)
        b[1] = n & 0xFF
    return bytes(b)


def bhs(opcode, flags=0, dlen=0):
    h = bytearray(48)
    h[0] = opcode
    h[1] = flags
    h[5:8] = dlen.to_bytes(3, "big")
    return h


def put32(h, off, v):
    struct.pack_into(">I", h, off, v & 0xFFFFFFFF)


def put16(h, off, v):
    struct.pack_into(">H", h, off, v & 0xFFFF)


def parse_text(data):
    out = []
    for item in data.split(b"\0"):
        if not item:
            continue
        k, _, v = item.partition(b"=")
        out.append((k.decode(errors="replace"), v.decode(errors="replace")))
    return out


def build_text(pairs):
    return b"".join(("%s=%s" % kv).encode() + b"\0" for kv in pairs)


class Closed(Exception):
    pass


# ---- sessions --------------------------------------------------------------


class Session:
    def __init__(self, target, initiator, isid, tsih, cmdsn, tpgt=1):
        self.target = target
        self.initiator = initiator
        self.isid = isid
        self.tsih = tsih
        self.tpgt = tpgt
        self.ended = None  # why the target ended it: "reinstated", "logged out"
        self.exp_cmdsn = cmdsn
        self.conn = None
        self.params = {}
        self.max_sent = None  # the highest MaxCmdSN sent
        self.alua_gen = target.alua_gen  # UA 2A/06 owed when behind


class Task:
    """A SCSI command in progress on a connection."""

    def __init__(self, pdu):
        self.pdu = pdu
        self.itt = pdu.itt
        self.lun = pdu.lun
        self.cmdsn = pdu.u32(24)
        self.edtl = pdu.u32(20)
        self.cdb = bytes(pdu.bhs[32:48])
        self.read = bool(pdu.flags & 0x40)
        self.write = bool(pdu.flags & 0x20)
        self.final = bool(pdu.flags & 0x80)
        self.buf = bytearray()
        self.received = 0
        self.unsol_done = self.final
        self.r2tsn = 0
        self.r2t = None  # (ttt, offset, length) outstanding
        self.ttt = None
        self.lba, self.blocks = cdb_range(self.cdb)
        self.aborted = False
        self.swallowed = False


def cdb_range(cdb):
    op = cdb[0]
    if op in (0x28, 0x2A, 0x35, 0x41):
        return struct.unpack_from(">I", cdb, 2)[0], struct.unpack_from(">H", cdb, 7)[0]
    if op in (0x88, 0x8A, 0x91, 0x93):
        return struct.unpack_from(">Q", cdb, 2)[0], struct.unpack_from(">I", cdb, 10)[0]
    return None, None


OPCODE_NAMES = {0x00: "TEST UNIT READY", 0x12: "INQUIRY", 0x1A: "MODE SENSE(6)",
                0x25: "READ CAPACITY(10)", 0x28: "READ(10)", 0x2A: "WRITE(10)",
                0x35: "SYNCHRONIZE CACHE(10)", 0x41: "WRITE SAME(10)", 0x42: "UNMAP",
                0x5A: "MODE SENSE(10)", 0x88: "READ(16)", 0x8A: "WRITE(16)",
                0x91: "SYNCHRONIZE CACHE(16)", 0x93: "WRITE SAME(16)",
                0x9E: "SERVICE ACTION IN(16)", 0xA0: "REPORT LUNS"}

ALUA_CODES = {"ao": 0x0, "ano": 0x1, "standby": 0x2, "unavailable": 0x3,
              "transitioning": 0xF}
ALUA_NAMES = {v: k for k, v in ALUA_CODES.items()}
# what a READ or WRITE gets through a port in that state: NOT READY 04/xx
ALUA_NOT_READY = {0x2: 0x0B, 0x3: 0x0C, 0xF: 0x0A}
# what a port serves in any state (SPC-4 5.16.2.4: TUR, REQUEST SENSE, the
# capacity and mode pages, as LIO allows them in standby)
ALUA_ALWAYS = (0x00, 0x03, 0x1A, 0x5A, 0x25, 0x9E, 0x4D)
READS = (0x28, 0x88)
WRITES = (0x2A, 0x8A)


class Answer:
    """What to do with a command instead of executing it normally."""

    def __init__(self, how, status=GOOD, sense=None, **kw):
        self.how = how  # "status", "swallow", "drop", "normal"
        self.status = status
        self.sense = sense
        self.__dict__.update(kw)


# ---- a connection ------------------------------------------------------------


class Conn:
    def __init__(self, target, sock, portal):
        self.t = target
        self.sock = sock
        self.portal = portal
        self.send_lock = threading.Lock()
        self._tl = threading.local()
        self.statsn = random.randint(1, 1 << 20)
        self.session = None
        self.closed = False
        self.tasks = {}  # itt -> Task (writes waiting for data, swallowed commands)
        self.next_ttt = 1
        self.peer_mrdsl = 8192
        self.discovery = False
        self.login_keys = {}
        self.ffp = False

    # -- I/O
    def recv_exact(self, n):
        b = bytearray()
        while len(b) < n:
            try:
                chunk = self.sock.recv(n - len(b))
            except OSError as e:
                raise Closed(str(e))
            if not chunk:
                raise Closed("peer closed")
            b += chunk
        return bytes(b)

    def recv_pdu(self):
        h = self.recv_exact(48)
        ahslen = h[4] * 4
        dlen = int.from_bytes(h[5:8], "big")
        if dlen > self.t.args.max_recv_dsl and h[0] & 0x3F != OP_LOGIN_REQ:
            self.t.ev("violation", what="data segment of %d bytes exceeds our "
                      "MaxRecvDataSegmentLength %d" % (dlen, self.t.args.max_recv_dsl),
                      opcode=h[0] & 0x3F)
        ahs = self.recv_exact(ahslen) if ahslen else b""
        data = self.recv_exact(dlen + pad4(dlen)) if dlen else b""
        return Pdu(h, ahs, data[:dlen])

    def send(self, h, data=b""):
        h[5:8] = len(data).to_bytes(3, "big")
        pending = getattr(self._tl, "sn", None)
        self._tl.sn = None
        with self.send_lock:
            if pending and pending[0] == id(h):
                self._fill_now(h, pending[1])
            payload = bytes(h) + bytes(data) + bytes(pad4(len(data)))
            if self.closed:
                return False
            try:
                self.sock.sendall(payload)
                return True
            except OSError:
                return False

    def close(self, why, rst=False):
        with self.send_lock:
            if self.closed:
                return
            self.closed = True
        if rst:
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                     struct.pack("ii", 1, 0))
            except OSError:
                pass
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass
        s = self.session
        self.t.ev("conn_closed", why=why, isid=s.isid if s else None,
                  tsih=s.tsih if s else None, portal=self.portal)

    # -- sequence numbers
    def next_statsn(self):
        v = self.statsn
        self.statsn = (self.statsn + 1) & 0xFFFFFFFF
        return v

    def window(self):
        """(ExpCmdSN, MaxCmdSN) for the next PDU.  An initiator never lowers
        its MaxCmdSN (RFC 7143 4.2.2.1), so a closed window is MaxCmdSN held
        where it was: closed once ExpCmdSN reaches it + 1 (at once with
        --queue-depth 1)."""
        s = self.session
        exp = s.exp_cmdsn if s else 0
        if s is None:
            return exp, (exp + self.t.args.queue_depth - 1) & 0xFFFFFFFF
        if self.t.window_closed() and s.max_sent is not None:
            return exp, s.max_sent
        mx = (exp + self.t.args.queue_depth - 1) & 0xFFFFFFFF
        if s.max_sent is None or sn_gt(mx, s.max_sent):
            s.max_sent = mx
        return exp, s.max_sent

    def fill_sn(self, h, status=True):
        """Mark h to carry StatSN (advanced if status), ExpCmdSN and MaxCmdSN:
        filled by send() under the send lock, so that StatSN goes out in
        order whichever thread (a scenario's timer) sends."""
        self._tl.sn = (id(h), status)

    def _fill_now(self, h, status):
        if status:
            put32(h, 24, self.next_statsn())
        else:
            put32(h, 24, self.statsn)
        exp, mx = self.window()
        put32(h, 28, exp)
        put32(h, 32, mx)

    # -- the connection's life
    def run(self):
        try:
            while not self.closed:
                pdu = self.recv_pdu()
                self.dispatch(pdu)
        except Closed as e:
            self.close("peer: %s" % e if not self.closed else "closed")
        except Exception as e:  # a bug here must not kill the target
            import traceback
            traceback.print_exc()
            self.t.ev("violation", what="target exception: %r" % e)
            self.close("target exception")
        finally:
            self.t.conn_gone(self)

    def dispatch(self, pdu):
        op = pdu.opcode
        if not self.ffp:
            if op != OP_LOGIN_REQ:
                self.t.ev("violation", what="opcode 0x%02x before login completed" % op)
                self.close("protocol error")
                return
            self.on_login(pdu)
            return
        if op in (OP_SCSI_CMD, OP_TEXT_REQ, OP_LOGOUT_REQ, OP_NOP_OUT, OP_TMF_REQ):
            self.advance_cmdsn(pdu)
        if op == OP_NOP_OUT:
            self.on_nop_out(pdu)
        elif op == OP_SCSI_CMD:
            self.on_scsi_cmd(pdu)
        elif op == OP_DATA_OUT:
            self.on_data_out(pdu)
        elif op == OP_TMF_REQ:
            self.on_tmf(pdu)
        elif op == OP_TEXT_REQ:
            self.on_text(pdu)
        elif op == OP_LOGOUT_REQ:
            self.on_logout(pdu)
        elif op == OP_LOGIN_REQ:
            self.t.ev("violation", what="Login Request in full feature phase")
            self.close("protocol error")
        else:
            self.t.ev("violation", what="unexpected opcode 0x%02x" % op)
            self.reject(pdu, 0x04)

    def advance_cmdsn(self, pdu):
        s = self.session
        cmdsn = pdu.u32(24)
        if pdu.immediate:
            return
        if cmdsn != s.exp_cmdsn:
            self.t.ev("violation", what="CmdSN %d, expected %d" % (cmdsn, s.exp_cmdsn),
                      opcode=pdu.opcode)
        if s.max_sent is not None and sn_gt(cmdsn, s.max_sent):
            self.t.ev("violation", what="CmdSN %d beyond the MaxCmdSN %d we sent%s"
                      % (cmdsn, s.max_sent,
                         " (window closed)" if self.t.window_closed() else ""),
                      opcode=pdu.opcode)
        s.exp_cmdsn = (cmdsn + 1) & 0xFFFFFFFF

    def reject(self, pdu, reason):
        h = bhs(OP_REJECT, FLAG_F)
        h[2] = reason
        put32(h, 16, RESERVED)
        self.fill_sn(h)
        self.send(h, bytes(pdu.bhs))

    # -- login
    def on_login(self, pdu):
        t = self.t
        flags = pdu.flags
        transit = bool(flags & 0x80)
        csg = (flags >> 2) & 3
        nsg = flags & 3
        isid = bytes(pdu.bhs[8:14]).hex()
        tsih = pdu.u16(14)
        cmdsn = pdu.u32(24)
        keys = parse_text(pdu.data)
        self.login_keys.update(dict(keys))
        reply = []
        lk = self.login_keys
        if csg == 0:
            if lk.get("SessionType", "Normal") == "Discovery":
                self.discovery = True
            elif lk.get("TargetName") not in t.iqns():
                t.ev("login_reject", isid=isid, why="unknown target %s" % lk.get("TargetName"))
                self.login_status(pdu, 0x02, 0x03, [])
                self.close("login rejected")
                return
            if "AuthMethod" in dict(keys):
                offered = dict(keys)["AuthMethod"].split(",")
                if "None" not in offered:
                    self.login_status(pdu, 0x02, 0x01, [])
                    self.close("login rejected")
                    return
                reply.append(("AuthMethod", "None"))
            if not self.discovery and "TargetPortalGroupTag" not in self.__dict__:
                reply.append(("TargetPortalGroupTag", str(t.portal_tpgt(self))))
                self.__dict__["TargetPortalGroupTag"] = True
            redirect = None if self.discovery else t.scenario.login_redirect(self, isid)
            if redirect:
                t.ev("login_redirect", isid=isid, portal=self.portal, to=redirect)
                self.login_status(pdu, 0x01, 0x01, [("TargetAddress", redirect + ",1")])
                self.close("redirected")
                return
        else:
            reply += self.negotiate(keys)
        if transit and nsg == 3:
            if csg == 0:
                # straight to full feature: declare ours as well
                reply += self.negotiate([])
            self.finish_login(pdu, isid, tsih, cmdsn, reply, csg)
            return
        h = bhs(OP_LOGIN_RSP, (0x80 if transit else 0) | (csg << 2) | (nsg if transit else 0))
        h[2], h[3] = 0, 0
        h[8:16] = pdu.bhs[8:16]
        put32(h, 16, pdu.itt)
        put32(h, 24, self.next_statsn())
        put32(h, 28, cmdsn)
        put32(h, 32, cmdsn + t.args.queue_depth - 1)
        self.send(h, build_text(reply))

    def login_status(self, pdu, cls, detail, pairs):
        h = bhs(OP_LOGIN_RSP, 0)
        h[8:16] = pdu.bhs[8:16]
        put32(h, 16, pdu.itt)
        put32(h, 24, self.next_statsn())
        put32(h, 28, pdu.u32(24))
        put32(h, 32, pdu.u32(24))
        h[36], h[37] = cls, detail
        self.send(h, build_text(pairs))

    def negotiate(self, keys):
        a = self.t.args
        out = []
        if not getattr(self, "declared", False):
            self.declared = True
            out.append(("MaxRecvDataSegmentLength", str(a.max_recv_dsl)))
        for k, v in keys:
            if k == "MaxRecvDataSegmentLength":
                self.peer_mrdsl = int(v)
                continue
            if k in ("InitiatorName", "InitiatorAlias", "TargetName", "SessionType",
                     "AuthMethod"):
                continue
            if k in ("HeaderDigest", "DataDigest"):
                out.append((k, "None"))
            elif k == "ErrorRecoveryLevel":
                out.append((k, "0"))
            elif k == "MaxConnections":
                out.append((k, "1"))
            elif k == "InitialR2T":
                r = "Yes" if (v == "Yes" or a.initial_r2t == "yes") else "No"
                self.neg_initial_r2t = r == "Yes"
                out.append((k, r))
            elif k == "ImmediateData":
                r = "Yes" if (v == "Yes" and a.immediate_data == "yes") else "No"
                self.neg_immediate = r == "Yes"
                out.append((k, r))
            elif k == "MaxBurstLength":
                self.neg_max_burst = min(int(v), a.max_burst)
                out.append((k, str(self.neg_max_burst)))
            elif k == "FirstBurstLength":
                self.neg_first_burst = min(int(v), a.first_burst)
                out.append((k, str(self.neg_first_burst)))
            elif k == "DefaultTime2Wait":
                out.append((k, str(max(int(v), 0))))
            elif k == "DefaultTime2Retain":
                out.append((k, "0"))
            elif k == "MaxOutstandingR2T":
                out.append((k, "1"))
            elif k in ("DataPDUInOrder", "DataSequenceInOrder"):
                out.append((k, "Yes"))
            elif k in ("IFMarker", "OFMarker"):
                out.append((k, "No"))
            elif k in ("IFMarkInt", "OFMarkInt"):
                out.append((k, "Irrelevant"))
            else:
                out.append((k, "NotUnderstood"))
        return out

    def finish_login(self, pdu, isid, tsih, cmdsn, reply, csg):
        t = self.t
        if not hasattr(self, "neg_max_burst"):
            self.neg_max_burst = min(262144, t.args.max_burst)
        if not hasattr(self, "neg_first_burst"):
            self.neg_first_burst = min(65536, t.args.first_burst)
        self.neg_first_burst = min(self.neg_first_burst, self.neg_max_burst)
        if not hasattr(self, "neg_initial_r2t"):
            self.neg_initial_r2t = True
        if not hasattr(self, "neg_immediate"):
            self.neg_immediate = True
        refuse = t.scenario.login_refuse(self, isid)
        if refuse:
            t.ev("login_reject", isid=isid, why=refuse)
            self.login_status(pdu, 0x03, 0x01, [])  # target unavailable
            self.close("login refused")
            return
        initiator = self.login_keys.get("InitiatorName", "")
        sess, reinst = t.new_session(self, initiator, isid, tsih, cmdsn)
        self.session = sess
        h = bhs(OP_LOGIN_RSP, 0x80 | (csg << 2) | 3)
        h[8:14] = pdu.bhs[8:14]
        put16(h, 14, sess.tsih)
        put32(h, 16, pdu.itt)
        put32(h, 24, self.next_statsn())
        self.ffp = True
        exp, mx = self.window()
        put32(h, 28, exp)
        put32(h, 32, mx)
        t.ev("login", isid=isid, tsih=sess.tsih, reinstatement=reinst, portal=self.portal,
             discovery=self.discovery, cmdsn=cmdsn, initiator=initiator,
             params={"mrdsl_peer": self.peer_mrdsl, "max_burst": self.neg_max_burst,
                     "first_burst": self.neg_first_burst,
                     "initial_r2t": self.neg_initial_r2t,
                     "immediate_data": self.neg_immediate})
        self.send(h, build_text(reply))
        t.scenario.after_login(self)

    # -- full feature phase
    def on_nop_out(self, pdu):
        ttt = pdu.u32(20)
        if pdu.itt == RESERVED:
            return  # an answer to our NOP-In
        self.t.ev("nop_out", itt=pdu.itt)
        h = bhs(OP_NOP_IN, FLAG_F)
        h[8:16] = pdu.bhs[8:16]
        put32(h, 16, pdu.itt)
        put32(h, 20, RESERVED)
        self.fill_sn(h)
        if ttt != RESERVED:
            self.t.ev("violation", what="NOP-Out with a TTT we never sent")
        self.send(h, pdu.data)

    def send_nop_in(self):
        h = bhs(OP_NOP_IN, FLAG_F)
        put32(h, 16, RESERVED)
        put32(h, 20, RESERVED)
        self.fill_sn(h, status=False)
        self.send(h)

    def on_text(self, pdu):
        keys = parse_text(pdu.data)
        out = []
        for k, v in keys:
            if k == "SendTargets":
                self.t.ev("discovery", value=v)
                for iqn in self.t.iqns():
                    if v not in ("All", iqn) and not (v == "" and not self.discovery):
                        continue
                    out.append(("TargetName", iqn))
                    for i, p in enumerate(self.t.portal_names()):
                        tpgt = i + 1 if self.t.alua is not None else 1
                        out.append(("TargetAddress", "%s,%d" % (p, tpgt)))
            else:
                out.append((k, "NotUnderstood"))
        h = bhs(OP_TEXT_RSP, FLAG_F)
        h[8:16] = pdu.bhs[8:16]
        put32(h, 16, pdu.itt)
        put32(h, 20, RESERVED)
        self.fill_sn(h)
        self.send(h, build_text(out))

    def on_logout(self, pdu):
        reason = pdu.flags & 0x7F
        answered = self.t.scenario.on_logout(self, pdu)
        self.t.ev("logout", reason=reason, isid=self.session.isid, tsih=self.session.tsih,
                  answered=answered)
        if not answered:
            return
        h = bhs(OP_LOGOUT_RSP, FLAG_F)
        h[2] = 0
        put32(h, 16, pdu.itt)
        self.fill_sn(h)
        put16(h, 40, self.t.scenario.logout_time2wait())
        put16(h, 42, 0)
        self.send(h)
        self.t.end_session(self.session)
        self.close("logout")

    def on_tmf(self, pdu):
        func = pdu.flags & 0x7F
        ref = pdu.u32(20)
        name = TMF_NAMES.get(func, "function %d" % func)
        answer = self.t.scenario.on_tmf(self, func, ref, pdu)
        if answer is None:
            if func == 1:
                task = self.tasks.get(ref)
                answer = TMF_COMPLETE if task else TMF_NO_TASK
            elif func in (2, 4, 5, 6, 7):
                answer = TMF_COMPLETE
            else:
                answer = 5  # not supported
        rec = {"function": name, "ref_itt": ref, "lun": pdu.lun, "itt": pdu.itt,
               "isid": self.session.isid}
        if answer == "ignore":
            self.t.ev("tmf", answer="ignored", **rec)
            return
        if answer == TMF_COMPLETE:
            if func == 1:
                task = self.tasks.pop(ref, None)
                if task:
                    task.aborted = True
            elif func in (2, 4, 5, 6, 7):
                for k in [k for k, v in self.tasks.items()
                          if func in (6, 7) or v.lun == pdu.lun]:
                    self.tasks.pop(k).aborted = True
                if func == 5:  # a LU reset ends every I_T nexus's tasks on it
                    with self.t.lock:
                        others = [c for c in self.t.conns if c is not self]
                    for c in others:
                        for k in [k for k, v in list(c.tasks.items()) if v.lun == pdu.lun]:
                            c.tasks.pop(k).aborted = True
        self.t.ev("tmf", answer={TMF_COMPLETE: "complete", TMF_NO_TASK: "no_task",
                                 TMF_REJECTED: "rejected"}.get(answer, str(answer)), **rec)
        h = bhs(OP_TMF_RSP, FLAG_F)
        h[2] = answer
        put32(h, 16, pdu.itt)
        self.fill_sn(h)
        self.send(h)

    # -- SCSI
    def on_scsi_cmd(self, pdu):
        task = Task(pdu)
        op = task.cdb[0]
        ev = {"itt": task.itt, "cmdsn": task.cmdsn, "opcode": op,
              "name": OPCODE_NAMES.get(op, "0x%02x" % op), "lun": task.lun,
              "edtl": task.edtl, "isid": self.session.isid, "tsih": self.session.tsih,
              "portal": self.portal}
        if task.lba is not None:
            ev["lba"], ev["blocks"] = task.lba, task.blocks
        self.t.ev("cmd", **ev)
        if task.itt in self.tasks:
            self.t.ev("violation", what="ITT 0x%08x reused while in use" % task.itt)
        if task.write:
            if len(pdu.data) > task.edtl:
                self.t.ev("violation", what="immediate data beyond the transfer length")
            if pdu.data and not self.neg_immediate:
                self.t.ev("violation", what="immediate data while ImmediateData=No")
            if len(pdu.data) > self.neg_first_burst:
                self.t.ev("violation", what="immediate data beyond FirstBurstLength")
            task.buf = bytearray(task.edtl)
            task.buf[0:len(pdu.data)] = pdu.data
            task.received = len(pdu.data)
            if not task.final and self.neg_initial_r2t:
                self.t.ev("violation", what="unsolicited Data-Out with InitialR2T=Yes")
            self.tasks[task.itt] = task
            self.write_progress(task)
            return
        self.execute(task)

    def on_data_out(self, pdu):
        itt, ttt = pdu.itt, pdu.u32(20)
        off = pdu.u32(40)
        task = self.tasks.get(itt)
        if task is None or task.aborted:
            return  # after an abort, late Data-Out is legal and ignored
        if not task.write:
            self.t.ev("violation", what="Data-Out for a command that writes nothing")
            return
        if ttt == RESERVED:
            if task.unsol_done:
                self.t.ev("violation", what="unsolicited Data-Out after the F bit")
            limit = self.neg_first_burst
        else:
            if task.r2t is None or task.r2t[0] != ttt:
                self.t.ev("violation", what="Data-Out with TTT 0x%08x we did not send" % ttt)
                return
            limit = task.r2t[1] + task.r2t[2]
        if off + len(pdu.data) > task.edtl or off + len(pdu.data) > limit:
            self.t.ev("violation", what="Data-Out [%d,+%d) beyond its burst (limit %d)"
                      % (off, len(pdu.data), limit))
            return
        if off != task.received:
            self.t.ev("violation", what="Data-Out at offset %d, expected %d"
                      % (off, task.received))
        task.buf[off:off + len(pdu.data)] = pdu.data
        task.received = max(task.received, off + len(pdu.data))
        if pdu.flags & FLAG_F:
            if ttt == RESERVED:
                task.unsol_done = True
            else:
                if task.received < task.r2t[1] + task.r2t[2]:
                    self.t.ev("violation", what="Data-Out burst ended short")
                task.r2t = None
            self.write_progress(task)

    def write_progress(self, task):
        if not task.unsol_done or task.r2t is not None:
            return
        if task.received >= task.edtl:
            del self.tasks[task.itt]
            self.execute(task)
            return
        length = min(self.neg_max_burst, task.edtl - task.received)
        ttt = self.next_ttt
        self.next_ttt = (self.next_ttt + 1) & 0x7FFFFFFF or 1
        task.r2t = (ttt, task.received, length)
        h = bhs(OP_R2T, FLAG_F)
        h[8:16] = task.pdu.bhs[8:16]
        put32(h, 16, task.itt)
        put32(h, 20, ttt)
        self.fill_sn(h, status=False)
        put32(h, 36, task.r2tsn)
        task.r2tsn += 1
        put32(h, 40, task.received)
        put32(h, 44, length)
        self.send(h)

    def execute(self, task):
        ans = self.t.scenario.on_cmd(self, task)
        if ans is None or ans.how == "normal":
            self.run_scsi(task, ans)
            return
        if ans.how == "swallow":
            task.swallowed = True
            self.tasks[task.itt] = task
            self.t.ev("swallowed", itt=task.itt, lba=task.lba, isid=self.session.isid)
            return
        if ans.how == "drop":
            self.t.ev("answer", itt=task.itt, how="connection dropped")
            self.close("scenario drops the connection", rst=getattr(ans, "rst", True))
            return
        if ans.how == "status":
            self.t.ev("answer", itt=task.itt, status=ans.status, how=getattr(ans, "what", ""))
            self.scsi_rsp(task, ans.status, ans.sense)
            return
        if ans.how == "raw":
            ans.fn(self, task)
            return
        raise ValueError(ans.how)

    def scsi_rsp(self, task, status, sense=None, flags=0, residual=0, response=0,
                 sense_segment=None):
        h = bhs(OP_SCSI_RSP, FLAG_F | flags)
        h[2] = response
        h[3] = status
        put32(h, 16, task.itt)
        put32(h, 20, 0)
        self.fill_sn(h)
        put32(h, 36, 0)
        put32(h, 44, residual)
        data = b""
        if sense_segment is not None:
            data = sense_segment
        elif sense:
            data = struct.pack(">H", len(sense)) + sense
        self.send(h, data)

    def data_in(self, task, data, status=GOOD, flags_final=0, residual=0, with_status=True,
                stop_after=None):
        """Data-In PDUs of at most the initiator's MaxRecvDataSegmentLength; the
        last carries status unless with_status is False."""
        mrdsl = self.peer_mrdsl
        off, datasn = 0, 0
        chunks = []
        while off < len(data):
            n = min(mrdsl, len(data) - off)
            chunks.append((off, data[off:off + n]))
            off += n
        if not chunks and with_status:
            self.scsi_rsp(task, status, flags=flags_final, residual=residual)
            return
        for i, (off, chunk) in enumerate(chunks):
            if stop_after is not None and i >= stop_after:
                # the next PDU's header and half its data, then nothing
                h = bhs(OP_DATA_IN, 0)
                h[8:16] = task.pdu.bhs[8:16]
                put32(h, 16, task.itt)
                put32(h, 20, RESERVED)
                put32(h, 36, datasn)
                put32(h, 40, off)
                h[5:8] = len(chunk).to_bytes(3, "big")
                with self.send_lock:
                    self._fill_now(h, False)
                    try:
                        self.sock.sendall(bytes(h) + chunk[:len(chunk) // 2])
                    except OSError:
                        pass
                return
            last = i == len(chunks) - 1
            flags = 0
            if last:
                flags |= FLAG_F
                if with_status:
                    flags |= DI_S | flags_final
            h = bhs(OP_DATA_IN, flags)
            if last and with_status:
                h[3] = status
            h[8:16] = task.pdu.bhs[8:16]
            put32(h, 16, task.itt)
            put32(h, 20, RESERVED)
            self.fill_sn(h, status=bool(last and with_status))
            put32(h, 36, datasn)
            put32(h, 40, off)
            put32(h, 44, residual if last and with_status else 0)
            datasn += 1
            self.send(h, chunk)

    def send_data(self, task, data, alloc=None):
        """Answer a command that returns data: cut to the CDB's allocation
        length, then to the Expected Data Transfer Length, with an overflow
        (O) or underflow (U) residual against the latter (RFC 7143 11.4.5)."""
        if alloc is not None:
            data = data[:alloc]
        if not task.read:
            if data:
                self.scsi_rsp(task, GOOD, flags=DI_O, residual=len(data))
            else:
                self.scsi_rsp(task, GOOD)
            return
        if len(data) > task.edtl:
            self.data_in(task, data[:task.edtl], flags_final=DI_O,
                         residual=len(data) - task.edtl)
        elif len(data) == task.edtl:
            self.data_in(task, data)
        else:
            self.data_in(task, data, flags_final=DI_U, residual=task.edtl - len(data))

    def check(self, task, key, asc, ascq, info=None):
        self.scsi_rsp(task, CHECK_CONDITION, sense_fixed(key, asc, ascq, info))

    def run_scsi(self, task, ans=None):
        t = self.t
        lun = t.luns.get(task.lun)
        cdb = task.cdb
        op = cdb[0]
        if t.alua is not None and op not in (0x12, 0xA0, 0xA3):
            with t.lock:
                owed = self.session.alua_gen < t.alua_gen
                self.session.alua_gen = t.alua_gen
            if owed:  # as LIO: the first command after a change gets the UA
                self.t.ev("answer", itt=task.itt, how="UA 2A/06")
                return self.check(task, UNIT_ATTENTION, 0x2A, 0x06)
            state = t.alua_state(self)
            if op not in ALUA_ALWAYS and state in ALUA_NOT_READY:
                self.t.ev("answer", itt=task.itt, how="ALUA %s" % ALUA_NAMES[state])
                return self.check(task, NOT_READY, 0x04, ALUA_NOT_READY[state])
        if op == 0xA3 and (cdb[1] & 0x1F) == 0x0A and t.alua is not None:
            return self.send_data(task, t.report_tpgs(), struct.unpack_from(">I", cdb, 6)[0])
        if op == 0x12:
            data = t.inquiry(lun, cdb, self)
            if data is None or (not cdb[1] & 1 and cdb[2]):
                return self.check(task, ILLEGAL_REQUEST, 0x24, 0x00)
            return self.send_data(task, data, struct.unpack_from(">H", cdb, 3)[0])
        if op == 0xA0:
            return self.send_data(task, t.report_luns(), struct.unpack_from(">I", cdb, 6)[0])
        if lun is None:
            return self.check(task, ILLEGAL_REQUEST, 0x25, 0x00)
        if op == 0x00:
            return self.scsi_rsp(task, GOOD)
        if op == 0x25:
            last = min(lun.blocks - 1, 0xFFFFFFFF)
            return self.send_data(task, struct.pack(">II", last, lun.block))
        if op == 0x9E and (cdb[1] & 0x1F) == 0x10:
            d = bytearray(32)
            struct.pack_into(">QI", d, 0, lun.blocks - 1, lun.block)
            if t.args.thin == "yes":
                d[14] = 0x80 | 0x40
            return self.send_data(task, bytes(d), struct.unpack_from(">I", cdb, 10)[0])
        if op == 0x1A:
            return self.send_data(task, t.mode_sense(op, cdb), cdb[4])
        if op == 0x5A:
            return self.send_data(task, t.mode_sense(op, cdb),
                                  struct.unpack_from(">H", cdb, 7)[0])
        if op in (0x35, 0x91):
            return self.scsi_rsp(task, GOOD)
        if task.lba is not None and op not in (0x35, 0x91):
            if task.lba + task.blocks > lun.blocks:
                return self.check(task, ILLEGAL_REQUEST, 0x21, 0x00)
        if op in READS + WRITES and cdb[1] & 0xE0:
            return self.check(task, ILLEGAL_REQUEST, 0x24, 0x00)  # no protection
        if op in READS:
            data = lun.read(task.lba, task.blocks)
            return self.send_data(task, data)
        if op in WRITES or op in (0x41, 0x93, 0x42):
            if t.args.wp == "yes":
                return self.check(task, DATA_PROTECT, 0x27, 0x00)
        if op in WRITES:
            if task.edtl != task.blocks * lun.block:
                t.ev("violation", what="WRITE of %d blocks with EDTL %d"
                     % (task.blocks, task.edtl))
            lun.write(task.lba, bytes(task.buf[:task.blocks * lun.block]))
            return self.scsi_rsp(task, GOOD)
        if op in (0x41, 0x93):
            if cdb[1] & 0x08:  # UNMAP
                block = bytes(lun.block)
            else:
                block = bytes(task.buf[:lun.block]).ljust(lun.block, b"\0")
            n = task.blocks or (lun.blocks - task.lba)
            lun.write(task.lba, block * n)
            return self.scsi_rsp(task, GOOD)
        if op == 0x42:
            buf = bytes(task.buf)
            if len(buf) >= 8:
                n = struct.unpack_from(">H", buf, 2)[0] // 16
                for i in range(n):
                    if 8 + 16 * i + 12 > len(buf):
                        break
                    lba, cnt = struct.unpack_from(">QI", buf, 8 + 16 * i)
                    if lba + cnt > lun.blocks:
                        return self.check(task, ILLEGAL_REQUEST, 0x21, 0x00)
                    lun.write(lba, bytes(cnt * lun.block))
            return self.scsi_rsp(task, GOOD)
        return self.check(task, ILLEGAL_REQUEST, 0x20, 0x00)


# ---- the target ------------------------------------------------------------


class Target:
    def __init__(self, args):
        self.args = args
        self.ev = Events(args.events)
        self.luns = {0: Lun(0, args.size, args.block, args.seed, args.image)}
        if args.lun1_size:
            self.luns[1] = Lun(1, args.lun1_size, args.block, args.seed + 1)
        self.lock = threading.Lock()
        self.sessions = {}  # (initiator, isid) -> Session
        self.next_tsih = 1
        self.conns = set()
        self.listeners = []  # [ (sock, port, name) ]
        self.ports = []
        self.window_closed_until = 0.0
        self.alua = (None if not args.alua else
                     [ALUA_CODES[w] for w in args.alua.split(",")])
        self.alua_gen = 0
        self.scenario = make_scenario(self, args.scenario)

    def iqns(self):
        return [self.args.iqn]

    def portal_names(self):
        return ["127.0.0.1:%d" % p for p in self.ports]

    def window_closed(self):
        return time.monotonic() < self.window_closed_until

    # -- listening
    def listen_all(self):
        lo = 32768
        try:
            with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
                lo = int(f.read().split()[0])
        except OSError:
            pass
        ports = []
        for _ in range(self.args.portals):
            for _try in range(200):
                p = random.randint(10000, max(10001, lo - 1))
                if p in ports:
                    continue
                try:
                    s = self.open_listener(p)
                except OSError:
                    continue
                ports.append(p)
                self.listeners.append(s)
                break
            else:
                raise SystemExit("advtarget: no free port")
        self.ports = ports
        for s in self.listeners:
            threading.Thread(target=self.accept_loop, args=(s,), daemon=True).start()

    def open_listener(self, port):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(16)
        return s

    def accept_loop(self, ls):
        port = ls.getsockname()[1]
        while True:
            try:
                sock, _ = ls.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            c = Conn(self, sock, "127.0.0.1:%d" % port)
            with self.lock:
                self.conns.add(c)
            threading.Thread(target=c.run, daemon=True).start()

    def stop_listening(self):
        for s in self.listeners:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        self.listeners = []

    def listen_again(self, port):
        for _ in range(100):
            try:
                s = self.open_listener(port)
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise SystemExit("advtarget: cannot listen on %d again" % port)
        self.listeners.append(s)
        threading.Thread(target=self.accept_loop, args=(s,), daemon=True).start()

    def start_listening(self):
        for p in self.ports:
            self.listen_again(p)

    def close_portal(self, i, seconds, why, before_reopen=None):
        """Portal i stops listening for seconds, its connections reset: a
        path lost (the other portals serve on).  before_reopen() is called
        at the end, before the portal listens again."""
        port = self.ports[i]
        name = "127.0.0.1:%d" % port
        for ls in [ls for ls in self.listeners if ls.getsockname()[1] == port]:
            try:
                ls.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            ls.close()
            self.listeners.remove(ls)
        with self.lock:
            conns = [c for c in self.conns if c.portal == name]
        self.ev("outage", phase="start", seconds=seconds, portal=name)
        for c in conns:
            c.close(why, rst=True)

        def reopen():
            time.sleep(seconds)
            if before_reopen:
                before_reopen()
            self.listen_again(port)
            self.ev("outage", phase="end", portal=name)
        threading.Thread(target=reopen, daemon=True).start()

    def conn_gone(self, c):
        with self.lock:
            self.conns.discard(c)

    def drop_all(self, why, rst=True):
        with self.lock:
            conns = list(self.conns)
        for c in conns:
            if c.ffp and not c.discovery:
                c.close(why, rst=rst)

    # -- sessions: a session is the initiator name, the ISID and the target
    # portal group (RFC 7143 6.3.5): a login with the same three reinstates it
    def new_session(self, conn, initiator, isid, tsih, cmdsn):
        tpgt = self.portal_tpgt(conn)
        with self.lock:
            key = (initiator, isid, tpgt)
            old = None if conn.discovery else self.sessions.get(key)
            tsih_new = self.next_tsih
            self.next_tsih = self.next_tsih % 0xFFFF + 1
            s = Session(self, initiator, isid, tsih_new, cmdsn, tpgt)
            s.conn = conn
            if not conn.discovery:
                self.sessions[key] = s
            if old:
                old.ended = "reinstated"
        reinst = old is not None
        if old and old.conn and not old.conn.closed:
            old.conn.close("session reinstated")
        return s, reinst

    def end_session(self, s):
        with self.lock:
            key = (s.initiator, s.isid, s.tpgt)
            if self.sessions.get(key) is s:
                del self.sessions[key]
                s.ended = "logged out"

    def session_alive(self, s):
        with self.lock:
            return self.sessions.get((s.initiator, s.isid, s.tpgt)) is s

    # -- SCSI data
    def inquiry(self, lun, cdb, conn=None):
        evpd = cdb[1] & 1
        page = cdb[2]
        if lun is None:
            d = bytearray(36)
            d[0] = 0x7F
            d[2], d[3], d[4] = 6, 0x12, 31
            return bytes(d)
        if not evpd:
            d = bytearray(96)
            d[0] = 0x00
            d[2] = 0x06
            d[3] = 0x12
            d[4] = len(d) - 5
            d[7] = 0x02
            if self.alua is not None:
                d[5] |= 0x10  # TPGS: implicit ALUA
            d[8:16] = b"LBADV   "
            d[16:32] = b"ADVTARGET".ljust(16)
            d[32:36] = b"0001"
            return bytes(d)
        if page == 0x00:
            pages = [0x00, 0x80, 0x83, 0xB0] + ([0xB2] if self.args.thin == "yes" else [])
            return bytes([0, 0, 0, len(pages)] + pages)
        if page == 0x80:
            serial = ("adv%04d%d" % (self.args.seed % 10000, lun.number)).encode()
            return bytes([0, 0x80, 0, len(serial)]) + serial
        if page == 0x83:
            naa = bytes([0x60, 0x01, 0x40, 0x5a, 0xd5, 0x00, 0x00, 0x00,
                         0x00, 0x00, 0x00, 0x00, 0x00, 0x00, self.args.seed & 0xFF,
                         lun.number])
            if self.args.lu_id_per_portal and conn is not None and self.portal_index(conn):
                naa = naa[:13] + bytes([0x80 | self.portal_index(conn)]) + naa[14:]
            d1 = bytes([0x01, 0x03, 0x00, len(naa)]) + naa
            name = self.args.iqn.encode() + b"\0"
            name += bytes(pad4(len(name)))
            d2 = bytes([0x53, 0xA8, 0x00, len(name)]) + name
            body = d1 + d2
            if self.alua is not None and conn is not None:
                i = self.portal_index(conn)
                body += bytes([0x61, 0x94, 0, 4, 0, 0]) + struct.pack(">H", i + 1)  # rel port
                body += bytes([0x61, 0x95, 0, 4, 0, 0]) + struct.pack(">H", i + 1)  # its group
            return bytes([0, 0x83]) + struct.pack(">H", len(body)) + body
        if page == 0xB0:
            d = bytearray(64)
            d[1] = 0xB0
            struct.pack_into(">H", d, 2, 0x3C)
            struct.pack_into(">I", d, 8, self.args.max_transfer_blocks)
            struct.pack_into(">I", d, 12, 8)
            if self.args.thin == "yes":
                struct.pack_into(">I", d, 20, 0x10000)
                struct.pack_into(">I", d, 24, 16)
                struct.pack_into(">Q", d, 36, 0x10000)
            return bytes(d)
        if page == 0xB2 and self.args.thin == "yes":
            d = bytearray(8)
            d[1] = 0xB2
            struct.pack_into(">H", d, 2, 4)
            d[5] = 0x80 | 0x40
            d[6] = 0x02
            return bytes(d)
        return None  # an unsupported page: INVALID FIELD IN CDB

    # -- ALUA (--alua): portal i is relative port i+1 in target port group i+1
    def portal_index(self, conn):
        names = self.portal_names()
        return names.index(conn.portal) if conn.portal in names else 0

    def portal_tpgt(self, conn):
        return self.portal_index(conn) + 1 if self.alua is not None else self.scenario.tpgt()

    def alua_state(self, conn):
        with self.lock:
            i = self.portal_index(conn)
            return self.alua[i] if i < len(self.alua) else 0

    def set_alua(self, states):
        """New access states (codes, one a portal); every I_T nexus then owes
        a UA 2A/06 (asymmetric access state changed)."""
        with self.lock:
            self.alua = list(states)
            self.alua_gen += 1
        self.ev("alua", states=[ALUA_NAMES[x] for x in states])

    def report_tpgs(self):
        body = b""
        with self.lock:
            states = list(self.alua)
        for i, st in enumerate(states):
            body += bytes([st, 0x8F]) + struct.pack(">H", i + 1) + bytes([0, 2, 0, 1])
            body += bytes([0, 0]) + struct.pack(">H", i + 1)
        return struct.pack(">I", len(body)) + body

    def report_luns(self):
        body = b"".join(encode_lun(n) for n in sorted(self.luns))
        return struct.pack(">II", len(body), 0) + body

    def mode_sense(self, op, cdb):
        page = cdb[2] & 0x3F
        dev = (0x80 if self.args.wp == "yes" else 0) | 0x10
        pages = b""
        if page in (0x08, 0x3F):
            cp = bytearray(20)
            cp[0], cp[1] = 0x08, 0x12
            if self.args.wce == "yes":
                cp[2] |= 0x04
            pages += bytes(cp)
        if page in (0x0A, 0x3F):
            cp = bytearray(12)
            cp[0], cp[1] = 0x0A, 0x0A
            pages += bytes(cp)
        if op == 0x1A:
            return bytes([len(pages) + 3, 0, dev, 0]) + pages
        return struct.pack(">HBBBBH", len(pages) + 6, 0, dev, 0, 0, 0) + pages


# ---- scenarios ---------------------------------------------------------------


class Scenario:
    """The well-behaved target; scenarios override the hooks."""

    def __init__(self, target, arg):
        self.t = target
        self.arg = arg
        self.lock = threading.Lock()

    def touches_trigger(self, task, kinds=READS + WRITES):
        if task.cdb[0] not in kinds or task.lba is None or task.lun != 0:
            return False
        lo, n = self.t.args.trigger_lba, self.t.args.trigger_blocks
        return task.lba < lo + n and lo < task.lba + task.blocks

    def first_on_trigger(self, task, kinds=READS + WRITES, flag="done"):
        """Whether task is the first command on the trigger range (of kinds)
        this scenario sees: once, under the lock, remembered in self.<flag>."""
        if not self.touches_trigger(task, kinds):
            return False
        with self.lock:
            if getattr(self, flag, False):
                return False
            setattr(self, flag, True)
            return True

    def on_cmd(self, conn, task):
        return None

    def on_tmf(self, conn, func, ref, pdu):
        return None

    def on_logout(self, conn, pdu):
        return True

    def logout_time2wait(self):
        return 0

    def login_redirect(self, conn, isid):
        return None

    def login_refuse(self, conn, isid):
        return None

    def after_login(self, conn):
        pass

    def tpgt(self):
        return 1


class Happy(Scenario):
    pass


class Underflow(Scenario):
    """read-underflow-once / -always: GOOD with U and a residual, half the data."""

    def __init__(self, target, arg, always):
        super().__init__(target, arg)
        self.always = always
        self.done = False

    def on_cmd(self, conn, task):
        if not self.touches_trigger(task, READS):
            return None
        with self.lock:
            if self.done and not self.always:
                return None
            self.done = True
        return Answer("raw", fn=self.short)

    def short(self, conn, task):
        lun = self.t.luns[0]
        data = lun.read(task.lba, task.blocks)
        half = (task.blocks // 2 or 1) * lun.block if task.blocks > 1 else lun.block // 2
        self.t.ev("answer", itt=task.itt, how="underflow", sent=half,
                  residual=task.edtl - half)
        conn.data_in(task, data[:half], flags_final=DI_U, residual=task.edtl - half)


class Overflow(Scenario):
    def on_cmd(self, conn, task):
        if not self.touches_trigger(task, READS):
            return None
        return Answer("raw", fn=self.over)

    def over(self, conn, task):
        data = self.t.luns[0].read(task.lba, task.blocks)
        self.t.ev("answer", itt=task.itt, how="overflow", residual=4096)
        conn.data_in(task, data, flags_final=DI_O, residual=4096)


class ResidualTooBig(Scenario):
    def on_cmd(self, conn, task):
        if not self.touches_trigger(task, READS):
            return None
        return Answer("raw", fn=self.big)

    def big(self, conn, task):
        self.t.ev("answer", itt=task.itt, how="residual too big",
                  residual=task.edtl + 4096)
        conn.scsi_rsp(task, GOOD, flags=DI_U, residual=task.edtl + 4096)


class TimedStatus(Scenario):
    """busy:N, task-set-full:N, becoming-ready:N, alua-transition:N: from the
    first command on the trigger range, for N seconds, every command gets
    the status; then normal."""

    def __init__(self, target, arg, status, sense, what):
        super().__init__(target, arg)
        self.seconds = float(arg or 5)
        self.status, self.sense, self.what = status, sense, what
        self.until = None

    def on_cmd(self, conn, task):
        now = time.monotonic()
        with self.lock:
            if self.until is None:
                if not self.touches_trigger(task):
                    return None
                self.until = now + self.seconds
                self.t.ev("condition", what=self.what, start=now, until=self.until)
            if now >= self.until:
                return None
        return Answer("status", self.status, self.sense, what=self.what)


class AlwaysStatus(Scenario):
    """alua-standby, alua-unavailable: every command on the trigger range."""

    def __init__(self, target, arg, status, sense, what):
        super().__init__(target, arg)
        self.status, self.sense, self.what = status, sense, what

    def on_cmd(self, conn, task):
        if not self.touches_trigger(task):
            return None
        return Answer("status", self.status, self.sense, what=self.what)


class DeferredError(Scenario):
    INFO_LBA = 123456

    def __init__(self, target, arg):
        super().__init__(target, arg)
        self.info = int(arg) if arg else self.INFO_LBA
        self.done = False

    def on_cmd(self, conn, task):
        if not self.first_on_trigger(task, WRITES, flag='done'):
            return None
        return Answer("status", CHECK_CONDITION,
                      sense_fixed(MEDIUM_ERROR, 0x0C, 0x00, self.info, deferred=True),
                      what="deferred medium error, information %d" % self.info)


class OnceOnTrigger(Scenario):
    """The first command on the trigger range changes the LUN (change()) and
    is answered with the unit attention that says so; only once."""

    def __init__(self, target, arg):
        super().__init__(target, arg)
        self.done = False

    def on_cmd(self, conn, task):
        if not self.first_on_trigger(task, flag='done'):
            return None
        return self.change()


class PathLost(Scenario):
    """path-lost[:SECONDS]: the first WRITE on the trigger range through the
    first portal is swallowed, that portal's connections reset and the portal
    closed for SECONDS (default 10); the other portals serve on."""

    def __init__(self, target, arg):
        super().__init__(target, arg)
        self.seconds = float(arg) if arg else 10.0

    def on_cmd(self, conn, task):
        if conn.portal != self.t.portal_names()[0]:
            return None
        if not self.first_on_trigger(task, WRITES):
            return None
        threading.Timer(0.2, self.t.close_portal, (0, self.seconds, "scenario: path lost")).start()
        return Answer("swallow")


class PathLostLate(Scenario):
    """path-lost-late[:SECONDS]: as path-lost, but the first WRITE on the
    trigger range (through whichever portal: without ALUA the initiator may
    pick either) has not reached the target when its path is lost: it is
    held on its way (event held; not a task: nothing answers it and a LUN
    reset cannot abort it), that portal's connections reset and the portal
    closed for SECONDS (default 15).  The write arrives once a WRITE on the
    trigger range with other data has been answered through another portal
    (a newer write acknowledged), at the latest when its portal listens
    again, and runs (event late_write, landed) only if the session it was
    sent on still exists on the target: not reinstated (a login with its
    initiator name and ISID in its portal group) nor logged out."""

    def __init__(self, target, arg):
        super().__init__(target, arg)
        self.seconds = float(arg) if arg else 15.0
        self.held = None  # (session, task, portal)
        self.arrived = False

    def on_cmd(self, conn, task):
        held = self.held
        if held:
            if conn.portal != held[2] and self.touches_trigger(task, WRITES):
                return Answer("raw", fn=self.newer)
            return None
        if not self.first_on_trigger(task, WRITES):
            return None
        s = conn.session
        self.held = (s, task, conn.portal)
        self.t.ev("held", itt=task.itt, lba=task.lba, blocks=task.blocks, isid=s.isid,
                  tsih=s.tsih, tpgt=s.tpgt, portal=conn.portal)
        threading.Timer(0.2, self.t.close_portal,
                        (self.t.portal_index(conn), self.seconds, "scenario: path lost",
                         self.arrive)).start()
        return Answer("raw", fn=lambda c, t: None)

    def newer(self, conn, task):
        conn.run_scsi(task)
        held = self.held[1]
        n = task.blocks * self.t.luns[0].block
        if task.lba != held.lba or bytes(task.buf[:n]) != bytes(held.buf[:n]):
            self.arrive("a newer write was answered")

    def arrive(self, after="its portal listens again"):
        with self.lock:
            if self.arrived or not self.held:
                return
            self.arrived = True
            s, task, _ = self.held
        lun = self.t.luns[0]
        landed = self.t.session_alive(s)
        if landed:
            lun.write(task.lba, bytes(task.buf[:task.blocks * lun.block]))
        self.t.ev("late_write", landed=landed, why=s.ended or "its session is there", after=after,
                  itt=task.itt, lba=task.lba, blocks=task.blocks, isid=s.isid, tsih=s.tsih,
                  tpgt=s.tpgt)


class AluaSwap(Scenario):
    """alua-swap[:SECONDS]: on the first READ on the trigger range the first
    portal's group turns transitioning (the other keeps its state), then
    after SECONDS (default 1.5) standby while the second turns active/
    optimized.  Each change owes every nexus a UA 2A/06."""

    def __init__(self, target, arg):
        super().__init__(target, arg)
        self.seconds = float(arg) if arg else 1.5

    def on_cmd(self, conn, task):
        if not self.first_on_trigger(task, READS):
            return None
        states = list(self.t.alua)
        states[0] = ALUA_CODES["transitioning"]
        self.t.set_alua(states)

        def settle():
            time.sleep(self.seconds)
            self.t.set_alua([ALUA_CODES["standby"], ALUA_CODES["ao"]] + states[2:])
        threading.Thread(target=settle, daemon=True).start()
        return Answer("status", CHECK_CONDITION, sense_fixed(NOT_READY, 0x04, 0x0A),
                      what="NOT READY 04/0A")


class CapacityChange(OnceOnTrigger):
    def __init__(self, target, arg):
        super().__init__(target, arg)
        self.grow = int(arg) if arg else 8 << 20

    def change(self):
        lun = self.t.luns[0]
        lun.grow(self.grow)
        self.t.ev("capacity", size=lun.size)
        return Answer("status", CHECK_CONDITION, sense_fixed(UNIT_ATTENTION, 0x2A, 0x09),
                      what="UA capacity data has changed")


class CacheAppears(OnceOnTrigger):
    """cache-appears: the write cache turns on (the Caching page's WCE),
    answered UA 2A/01 (mode parameters changed)."""

    def change(self):
        self.t.args.wce = "yes"
        self.t.ev("mode", wce=True)
        return Answer("status", CHECK_CONDITION, sense_fixed(UNIT_ATTENTION, 0x2A, 0x01),
                      what="UA mode parameters changed")


class NeverAnswer(Scenario):
    """never-answer:complete|reject|ignore: commands on the trigger range are
    swallowed, every time; TMFs answered as the argument says."""

    def __init__(self, target, arg):
        super().__init__(target, arg)
        self.mode = arg or "complete"
        if self.mode not in ("complete", "reject", "ignore"):
            raise SystemExit("never-answer: complete, reject or ignore")

    def on_cmd(self, conn, task):
        if self.touches_trigger(task):
            return Answer("swallow")
        return None

    def on_tmf(self, conn, func, ref, pdu):
        if self.mode == "ignore":
            return "ignore"
        if self.mode == "reject" and func == 1:
            return TMF_REJECTED
        return None


class Outage(Scenario):
    """outage:SECONDS: the first WRITE on the trigger range is swallowed, every
    connection dropped (RST) and the portals closed for SECONDS."""

    def __init__(self, target, arg):
        super().__init__(target, arg)
        self.seconds = float(arg or 15)
        self.started = False

    def on_cmd(self, conn, task):
        if not self.first_on_trigger(task, WRITES, flag='started'):
            return None
        threading.Thread(target=self.outage, daemon=True).start()
        return Answer("swallow")

    def outage(self):
        time.sleep(0.05)
        self.t.ev("outage", phase="start", seconds=self.seconds)
        self.t.stop_listening()
        self.t.drop_all("outage", rst=True)
        time.sleep(self.seconds)
        self.t.start_listening()
        self.t.ev("outage", phase="end")


class TpgtChange(Scenario):
    """tpgt-change: the first WRITE on the trigger range is swallowed and its
    connection reset; from then on logins declare portal group 2 (the LUN
    moved to another controller's group: a new I_T nexus, which does not end
    the old session's tasks)."""

    def __init__(self, target, arg):
        super().__init__(target, arg)
        self.moved = False

    def tpgt(self):
        return 2 if self.moved else 1

    def on_cmd(self, conn, task):
        if not self.first_on_trigger(task, WRITES, flag='moved'):
            return None
        threading.Thread(target=self.drop, args=(conn,), daemon=True).start()
        return Answer("swallow")

    def drop(self, conn):
        time.sleep(0.05)
        self.t.ev("moved", tpgt=2)
        conn.close("scenario: the portal group changes", rst=True)


class Redirect(Scenario):
    """redirect[:DROPS]: logins on the first portal are redirected (0x0101) to
    the second; the first command on the trigger range drops the connection,
    DROPS times (default 3).
    redirect-loop: the first portal redirects to the second, the second back."""

    def __init__(self, target, arg, loop=False):
        super().__init__(target, arg)
        self.drops = int(arg) if arg else 3
        self.loop = loop
        self.dropped = 0

    def login_redirect(self, conn, isid):
        if len(self.t.ports) < 2:
            return None
        a, b = self.t.portal_names()[:2]
        if conn.portal == a:
            return b
        if self.loop and conn.portal == b:
            return a
        return None

    def on_cmd(self, conn, task):
        if not self.touches_trigger(task):
            return None
        with self.lock:
            if self.dropped >= self.drops:
                return None
            self.dropped += 1
        return Answer("drop", rst=False)


class LogoutRequest(Scenario):
    """logout-request[:T2W]: on the first READ of the trigger range, an Async
    Message (event 1, Parameter3 = T2W, default 2) first, then the read's
    answer 1 s later."""

    def __init__(self, target, arg):
        super().__init__(target, arg)
        self.t2w = int(arg) if arg else 2
        self.done = False

    def logout_time2wait(self):
        return self.t2w

    def on_cmd(self, conn, task):
        if not self.first_on_trigger(task, READS, flag='done'):
            return None
        return Answer("raw", fn=self.ask)

    def ask(self, conn, task):
        h = bhs(OP_ASYNC, FLAG_F)
        put32(h, 16, RESERVED)
        conn.fill_sn(h)
        h[36] = 1
        put16(h, 38, 0)
        put16(h, 40, 0)
        put16(h, 42, self.t2w)
        self.t.ev("async", event=1, time2wait=self.t2w, isid=conn.session.isid)
        conn.send(h)

        def later():
            self.t.ev("answer", itt=task.itt, how="delayed 0.5 s after the logout request")
            conn.run_scsi(task)
        # well inside Parameter3 - 1 s, when the initiator logs out anyway
        threading.Timer(0.5, later).start()


class ResetInDataIn(Scenario):
    """reset-data-in: the first READ of the trigger range gets half its
    Data-In PDUs, then a TCP RST."""

    def __init__(self, target, arg):
        super().__init__(target, arg)
        self.done = False

    def on_cmd(self, conn, task):
        if not self.first_on_trigger(task, READS, flag='done'):
            return None
        return Answer("raw", fn=self.cut)

    def cut(self, conn, task):
        data = self.t.luns[0].read(task.lba, task.blocks)
        n = (len(data) + conn.peer_mrdsl - 1) // conn.peer_mrdsl
        conn.data_in(task, data, stop_after=n // 2)
        self.t.ev("answer", itt=task.itt, how="reset after %d of %d Data-In PDUs and half "
                  "of the next" % (n // 2, n))
        conn.close("scenario resets in the middle of Data-In", rst=True)


class ClosedWindow(Scenario):
    """closed-window[:SECONDS]: the answer to the first command on the trigger
    range closes the window (MaxCmdSN = ExpCmdSN - 1) for SECONDS (3); a
    NOP-In then opens it."""

    def __init__(self, target, arg):
        super().__init__(target, arg)
        self.seconds = float(arg or 3)
        self.done = False

    def on_cmd(self, conn, task):
        if not self.first_on_trigger(task, flag='done'):
            return None
        self.t.window_closed_until = time.monotonic() + self.seconds
        self.t.ev("window", state="closed", seconds=self.seconds)

        def reopen():
            self.t.window_closed_until = 0
            self.t.ev("window", state="open")
            conn.send_nop_in()
        threading.Timer(self.seconds, reopen).start()
        return None


class Malformed(Scenario):
    """malformed:itt|sense: the first command on the trigger range is answered
    with a Data-In for an unknown ITT (itt) or a SCSI Response whose
    SenseLength overruns its data segment (sense)."""

    def __init__(self, target, arg):
        super().__init__(target, arg)
        self.kind = arg or "itt"
        self.done = False

    def on_cmd(self, conn, task):
        if not self.first_on_trigger(task, flag='done'):
            return None
        return Answer("raw", fn=self.bad)

    def bad(self, conn, task):
        if self.kind == "itt":
            self.t.ev("answer", itt=task.itt, how="Data-In with ITT 0x%08x"
                      % (task.itt ^ 0x7A5A0000))
            h = bhs(OP_DATA_IN, 0)
            put32(h, 16, task.itt ^ 0x7A5A0000)
            put32(h, 20, RESERVED)
            conn.fill_sn(h, status=False)
            conn.send(h, b"\xAA" * 512)
        else:
            self.t.ev("answer", itt=task.itt, how="sense length overrun")
            sense = sense_fixed(MEDIUM_ERROR, 0x11, 0x00)
            conn.scsi_rsp(task, CHECK_CONDITION,
                          sense_segment=struct.pack(">H", 200) + sense)


def make_scenario(target, spec):
    name, _, arg = (spec or "happy").partition(":")
    table = {
        "happy": lambda: Happy(target, arg),
        "read-underflow-once": lambda: Underflow(target, arg, False),
        "read-underflow-always": lambda: Underflow(target, arg, True),
        "read-overflow": lambda: Overflow(target, arg),
        "residual-too-big": lambda: ResidualTooBig(target, arg),
        "busy": lambda: TimedStatus(target, arg, BUSY, None, "BUSY"),
        "task-set-full": lambda: TimedStatus(target, arg, TASK_SET_FULL, None,
                                             "TASK SET FULL"),
        "becoming-ready": lambda: TimedStatus(target, arg, CHECK_CONDITION,
                                              sense_fixed(NOT_READY, 0x04, 0x01),
                                              "NOT READY 04/01"),
        "alua-transition": lambda: TimedStatus(target, arg, CHECK_CONDITION,
                                               sense_fixed(NOT_READY, 0x04, 0x0A),
                                               "NOT READY 04/0A"),
        "alua-standby": lambda: AlwaysStatus(target, arg, CHECK_CONDITION,
                                             sense_fixed(NOT_READY, 0x04, 0x0B),
                                             "NOT READY 04/0B"),
        "alua-unavailable": lambda: AlwaysStatus(target, arg, CHECK_CONDITION,
                                                 sense_fixed(NOT_READY, 0x04, 0x0C),
                                                 "NOT READY 04/0C"),
        "deferred-error": lambda: DeferredError(target, arg),
        "capacity-change": lambda: CapacityChange(target, arg),
        "cache-appears": lambda: CacheAppears(target, arg),
        "tpgt-change": lambda: TpgtChange(target, arg),
        "never-answer": lambda: NeverAnswer(target, arg),
        "outage": lambda: Outage(target, arg),
        "path-lost": lambda: PathLost(target, arg),
        "path-lost-late": lambda: PathLostLate(target, arg),
        "alua-swap": lambda: AluaSwap(target, arg),
        "redirect": lambda: Redirect(target, arg),
        "redirect-loop": lambda: Redirect(target, arg, loop=True),
        "logout-request": lambda: LogoutRequest(target, arg),
        "reset-data-in": lambda: ResetInDataIn(target, arg),
        "closed-window": lambda: ClosedWindow(target, arg),
        "malformed": lambda: Malformed(target, arg),
    }
    if name not in table:
        raise SystemExit("advtarget: unknown scenario '%s' (known: %s)"
                         % (name, ", ".join(sorted(table))))
    return table[name]()


SCENARIOS = ["happy", "read-underflow-once", "read-underflow-always", "read-overflow",
             "residual-too-big", "busy:N", "task-set-full:N", "becoming-ready:N",
             "alua-transition:N", "alua-standby", "alua-unavailable", "deferred-error[:LBA]",
             "capacity-change[:BYTES]", "cache-appears", "tpgt-change", "never-answer:complete|reject|ignore",
             "outage[:SECONDS]", "path-lost[:SECONDS]",
             "path-lost-late[:SECONDS]", "alua-swap[:SECONDS]",
             "redirect[:DROPS]", "redirect-loop",
             "logout-request[:T2W]", "reset-data-in", "closed-window[:SECONDS]",
             "malformed:itt|sense"]


def parse_size(s):
    s = str(s)
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if s and s[-1].upper() in mult:
        return int(s[:-1]) * mult[s[-1].upper()]
    return int(s)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                epilog="scenarios: " + ", ".join(SCENARIOS))
    p.add_argument("--iqn", default="iqn.2026-12.org.lunbridge.test:adv")
    p.add_argument("--events")
    p.add_argument("--ready", help="write the portals here once listening")
    p.add_argument("--portals", type=int, default=1)
    p.add_argument("--size", type=parse_size, default=16 << 20)
    p.add_argument("--lun1-size", type=parse_size, default=0)
    p.add_argument("--image")
    p.add_argument("--block", type=int, default=512)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-recv-dsl", type=int, default=65536)
    p.add_argument("--max-burst", type=int, default=262144)
    p.add_argument("--first-burst", type=int, default=65536)
    p.add_argument("--initial-r2t", choices=("yes", "no"), default="yes")
    p.add_argument("--immediate-data", choices=("yes", "no"), default="yes")
    p.add_argument("--max-transfer-blocks", type=int, default=16384)
    p.add_argument("--queue-depth", type=int, default=64)
    p.add_argument("--wce", choices=("yes", "no"), default="yes")
    p.add_argument("--wp", choices=("yes", "no"), default="no")
    p.add_argument("--thin", choices=("yes", "no"), default="yes")
    p.add_argument("--alua", help="ALUA access states, one a portal: ao,ano,standby,...")
    p.add_argument("--lu-id-per-portal", action="store_true",
                   help="each portal after the first reports another LU (VPD 0x83)")
    p.add_argument("--trigger-lba", type=int, default=4096)
    p.add_argument("--trigger-blocks", type=int, default=8)
    p.add_argument("--scenario", default="happy")
    args = p.parse_args(argv)
    if not 512 <= args.max_recv_dsl <= 16777215:
        p.error("--max-recv-dsl: 512..16777215")
    t = Target(args)
    t.listen_all()
    t.ev("listening", portals=t.portal_names(), scenario=args.scenario, pid=os.getpid())
    if args.ready:
        tmp = args.ready + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"portals": t.portal_names(), "pid": os.getpid()}, f)
        os.rename(tmp, args.ready)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
