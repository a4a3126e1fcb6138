#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A raw NBD client for the protocol edge cases libnbd will not produce:
clients that vanish mid-request, broken magic, garbage, NBD_OPT_ABORT.

    nbd-raw.py CASE URI

URI is nbd+unix:///NAME?socket=PATH or nbd://HOST:PORT/NAME.  Prints one
line saying what the server did (the test compares it); exits 0 when the
exchange could be run at all, 1 (with a message on stderr) otherwise.

Cases:
  half-write   GO, then a 1 MiB WRITE with only 512 KiB of payload; close
  read-close   GO, then a 16 MiB READ; close without reading the reply
  burst-close  GO, then 64 READs of 1 MiB back to back; close at once
  mid-option   an NBD_OPT_GO header announcing 1000 bytes, 10 sent; close
  bad-magic    GO, then a request whose magic is wrong: "eof" if dropped
  bad-optmagic client flags, then an option with a wrong magic: "eof"
  garbage      64 bytes of junk instead of the client flags: "eof"
  http         an HTTP request instead of the handshake: "eof"
  abort        NBD_OPT_ABORT: "ack eof" (ACK, then the server closes)
  go-read      GO, then one 4 KiB READ: "read ok" (the plain path works)
  idle         the greeting, then nothing: "eof" once the server closes
  export-name  the old NBD_OPT_EXPORT_NAME, then one 4 KiB READ: "read ok"
  export-name-bad  NBD_OPT_EXPORT_NAME with an unknown name: "eof"
"""
import os
import socket
import struct
import time
import sys
import urllib.parse

NBDMAGIC = 0x4E42444D41474943
IHAVEOPT = 0x49484156454F5054
REPMAGIC = 0x0003E889045565A9
REQMAGIC = 0x25609513
SIMPLE_REPLY_MAGIC = 0x67446698
OPT_ABORT, OPT_GO = 2, 7
REP_ACK, REP_INFO = 1, 3
INFO_EXPORT, INFO_BLOCK_SIZE = 0, 3
OPT_EXPORT_NAME = 1
CMD_READ, CMD_WRITE = 0, 1
TIMEOUT = 15


def die(msg):
    print(f"nbd-raw: {msg}", file=sys.stderr)
    sys.exit(1)


def connect(uri):
    u = urllib.parse.urlsplit(uri)
    name = urllib.parse.unquote(u.path[1:]) if u.path.startswith("/") else ""
    if u.scheme == "nbd+unix":
        q = urllib.parse.parse_qs(u.query)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(TIMEOUT)
        s.connect(q["socket"][0])
    elif u.scheme == "nbd":
        s = socket.create_connection((u.hostname or "127.0.0.1", u.port or 10809), TIMEOUT)
    else:
        die(f"unsupported URI {uri}")
    return s, name


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            die(f"EOF after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def recv_eof(s):
    """'eof' once the server closes (whatever it sent first is skipped),
    'open' if it keeps the connection past the timeout."""
    try:
        while True:
            if not s.recv(65536):
                return "eof"
    except socket.timeout:
        return "open"
    except ConnectionResetError:
        return "eof"


def greeting(s):
    magic, opts, gflags = struct.unpack(">QQH", recv_exact(s, 18))
    if magic != NBDMAGIC or opts != IHAVEOPT:
        die(f"bad greeting {magic:#x} {opts:#x}")
    return gflags


def send_opt(s, opt, data=b""):
    s.sendall(struct.pack(">QII", IHAVEOPT, opt, len(data)) + data)


def recv_opt_reply(s):
    magic, opt, rtype, length = struct.unpack(">QIII", recv_exact(s, 20))
    if magic != REPMAGIC:
        die(f"bad option reply magic {magic:#x}")
    return opt, rtype, recv_exact(s, length)


def handshake(s, name):
    """Fixed newstyle, NO_ZEROES, NBD_OPT_GO asking for the block sizes.
    Returns (size, eflags, min_block)."""
    greeting(s)
    s.sendall(struct.pack(">I", 3))  # FIXED_NEWSTYLE | NO_ZEROES
    n = name.encode()
    send_opt(s, OPT_GO, struct.pack(">I", len(n)) + n + struct.pack(">HH", 1, INFO_BLOCK_SIZE))
    size = eflags = None
    min_block = 1
    while True:
        opt, rtype, data = recv_opt_reply(s)
        if rtype == REP_ACK:
            break
        if rtype & 0x80000000:
            die(f"NBD_OPT_GO refused: {rtype:#x} {data!r}")
        if rtype == REP_INFO:
            (info,) = struct.unpack(">H", data[:2])
            if info == INFO_EXPORT:
                size, eflags = struct.unpack(">QH", data[2:12])
            elif info == INFO_BLOCK_SIZE:
                min_block = struct.unpack(">III", data[2:14])[0]
    if size is None:
        die("no NBD_INFO_EXPORT before the ACK")
    return size, eflags, min_block


def request(s, cmd, offset, count, flags=0, handle=1, magic=REQMAGIC):
    s.sendall(struct.pack(">IHHQQI", magic, flags, cmd, handle, offset, count))


def read_one(s):
    """One 4 KiB READ with a simple reply: 'read ok' or 'read error N'."""
    request(s, CMD_READ, 0, 4096, handle=0x1234)
    magic, err, handle = struct.unpack(">IIQ", recv_exact(s, 16))
    if magic != SIMPLE_REPLY_MAGIC or handle != 0x1234:
        die(f"bad reply {magic:#x} handle {handle:#x}")
    if err:
        return f"read error {err}"
    recv_exact(s, 4096)
    return "read ok"


def main():
    if len(sys.argv) != 3:
        die("usage: nbd-raw.py CASE URI")
    case, uri = sys.argv[1], sys.argv[2]
    s, name = connect(uri)
    if case == "half-write":
        handshake(s, name)
        request(s, CMD_WRITE, 0, 1 << 20)
        s.sendall(os.urandom(512 << 10))
        s.close()
        print("sent")
    elif case == "read-close":
        handshake(s, name)
        request(s, CMD_READ, 0, 16 << 20)
        s.close()
        print("sent")
    elif case == "burst-close":
        handshake(s, name)
        for i in range(64):
            request(s, CMD_READ, (i % 8) << 20, 1 << 20, handle=i + 1)
        s.close()
        print("sent")
    elif case == "hoard":
        # 128 reads of up to 32 MiB, replies never read: the server must
        # stop taking requests at its in-flight limit, not allocate 4 GiB
        size, _, _ = handshake(s, name)
        count = min(32 << 20, size)
        for i in range(128):
            request(s, CMD_READ, 0, count, handle=i + 1)
        print("sent", flush=True)
        time.sleep(6)
        s.close()
    elif case == "mid-option":
        greeting(s)
        s.sendall(struct.pack(">I", 3))
        s.sendall(struct.pack(">QII", IHAVEOPT, OPT_GO, 1000) + b"\0" * 10)
        s.close()
        print("sent")
    elif case == "bad-magic":
        handshake(s, name)
        request(s, CMD_READ, 0, 4096, magic=0x25609514)
        print(recv_eof(s))
    elif case == "bad-optmagic":
        greeting(s)
        s.sendall(struct.pack(">I", 3))
        s.sendall(struct.pack(">QII", IHAVEOPT ^ 1, OPT_GO, 0))
        print(recv_eof(s))
    elif case == "garbage":
        greeting(s)
        s.sendall(bytes(range(0x80, 0xC0)))
        print(recv_eof(s))
    elif case == "http":
        s.sendall(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        print(recv_eof(s))
    elif case == "abort":
        greeting(s)
        s.sendall(struct.pack(">I", 3))
        send_opt(s, OPT_ABORT)
        opt, rtype, data = recv_opt_reply(s)
        ack = "ack" if (opt, rtype, data) == (OPT_ABORT, REP_ACK, b"") else f"reply {opt} {rtype:#x}"
        print(ack, recv_eof(s))
    elif case == "idle":
        greeting(s)
        print(recv_eof(s))
    elif case == "go-read":
        handshake(s, name)
        print(read_one(s))
        s.close()
    elif case in ("export-name", "export-name-bad"):
        greeting(s)
        s.sendall(struct.pack(">I", 3))  # NO_ZEROES: 10 bytes back
        send_opt(s, OPT_EXPORT_NAME, (name if case == "export-name" else "no-such").encode())
        if case == "export-name-bad":
            print(recv_eof(s))
        else:
            recv_exact(s, 10)
            print(read_one(s))
        s.close()
    else:
        die(f"unknown case {case}")


if __name__ == "__main__":
    main()
