#!/usr/bin/python3
# A TCP proxy that can stall a connection, for test-orphan-write.sh:
#   stall-proxy.py LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT
# Prints "listening" once ready and one line per connection ("conn N").
# SIGUSR1 stalls the newest connection: nothing more is forwarded either
# way (what it had sent before is delivered; what comes after waits in
# the proxy).  SIGUSR2 lets the stalled ones go again: what waited is
# forwarded if the other end is still there.
import select
import signal
import socket
import sys
import threading

port, up_host, up_port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
conns = []  # [client, upstream, stalled-event]
lock = threading.Lock()


def pump(src, dst, go):
    try:
        while True:
            go.wait()
            r, _, _ = select.select([src], [], [], 0.2)
            if not r:
                continue
            go.wait()  # stalled while waiting: hold what arrived
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def stall(signum, frame):
    with lock:
        if conns:
            conns[-1][2].clear()
            print(f"stalled conn {len(conns)}", flush=True)


def release(signum, frame):
    with lock:
        for c in conns:
            c[2].set()
    print("released", flush=True)


def stall_all(signum, frame):
    with lock:
        for c in conns:
            c[2].clear()
    print(f"stalled all {len(conns)}", flush=True)


signal.signal(signal.SIGHUP, stall_all)
signal.signal(signal.SIGUSR1, stall)
signal.signal(signal.SIGUSR2, release)
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(64)
print("listening", flush=True)
while True:
    try:
        c, _ = ls.accept()
    except InterruptedError:
        continue
    u = socket.create_connection((up_host, up_port))
    go = threading.Event()
    go.set()
    with lock:
        conns.append([c, u, go])
        print(f"conn {len(conns)}", flush=True)
    threading.Thread(target=pump, args=(c, u, go), daemon=True).start()
    threading.Thread(target=pump, args=(u, c, go), daemon=True).start()
