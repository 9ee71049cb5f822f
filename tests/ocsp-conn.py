#!/usr/bin/env python3
# Connection helpers for tests/ocsp-conn.test (and bench/ocsp/slowloris.sh).
#   ocsp-conn.py overflow PORT HOLD          HOLD idle connections, then one
#       more: prints "closed SECONDS" when the server closes it, "hang" when
#       it is neither answered nor closed within 3 s.
#   ocsp-conn.py trickle PORT N SRC SECS OUT  N connections from SRC, each
#       sending a header line every 0.5 s for SECS seconds; writes to OUT the
#       number still open at the end, the number closed by the server and
#       the number refused at connect.
#   ocsp-conn.py starve PORT N SRC2 COUNT WANT  N trickling connections
#       from 127.0.0.1 while a client on SRC2 sends COUNT GET /healthz;
#       prints the number answered 200, the slowest answer in ms, and the
#       max-per-client refusals in /metrics while the N are still held
#       (polled up to 10 s until WANT are counted).
#   ocsp-conn.py hold PORT N SECS            (benchmark) N connections from
#       127.0.0.1 each sending a header line every 3 s, for SECS seconds;
#       prints how many were still open after 4 s and at the end.
#   ocsp-conn.py measure PORT SRC COUNT      (benchmark) COUNT GET /healthz
#       from SRC one after the other; prints answered, p50/p99/max ms.
import os
import socket
import sys
import threading
import time


def fetch(port, src, path, timeout=2.0):
    """One GET path from src, the whole answer read; its bytes or None."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                     source_address=(src, 0))
        s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\n\r\n" % path)
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
        s.close()
    except OSError:
        return None
    return data


def get(port, src, timeout=2.0):
    """One GET /healthz from src; (status, ms) or (None, ms)."""
    t0 = time.monotonic()
    data = fetch(port, src, b"/healthz", timeout)
    code = int(data.split(b" ", 2)[1]) \
        if data is not None and data.startswith(b"HTTP/") else None
    return code, (time.monotonic() - t0) * 1000.0


def overflow(port, hold):
    held = [socket.create_connection(("127.0.0.1", port))
            for _ in range(hold)]
    time.sleep(0.5)
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(3.0)
    t0 = time.monotonic()
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        b = s.recv(4096)
        if b.startswith(b"HTTP/"):
            print("answered", b.split(b"\r\n")[0].decode())
        else:
            print("closed %.2f" % (time.monotonic() - t0))
    except socket.timeout:
        print("hang")
    except OSError:
        print("closed %.2f" % (time.monotonic() - t0))
    for c in held:
        c.close()


class Trickler:
    """n connections from src that send a header line every `every` s."""

    def __init__(self, port, n, src, every=0.5):
        self.socks = []
        self.closed = 0
        self.refused = 0
        for _ in range(n):
            try:
                s = socket.create_connection(("127.0.0.1", port),
                                             timeout=5,
                                             source_address=(src, 0))
                s.setblocking(False)
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                self.socks.append(s)
            except OSError:
                self.refused += 1
        self.every = every
        self.stop = False
        self.t = threading.Thread(target=self.run)
        self.t.start()

    def run(self):
        i = 0
        while not self.stop:
            time.sleep(self.every)
            i += 1
            for s in list(self.socks):
                try:
                    try:
                        if s.recv(1, socket.MSG_PEEK) == b"":
                            raise OSError("eof")
                    except BlockingIOError:
                        pass
                    s.send(b"X-Trickle-%d: x\r\n" % i)
                except OSError:
                    self.socks.remove(s)
                    self.closed += 1
                    s.close()

    def end(self):
        self.stop = True
        self.t.join()
        n = len(self.socks)
        for s in self.socks:
            s.close()
        return n


def trickle(port, n, src, secs, out):
    tr = Trickler(port, n, src)
    time.sleep(secs)
    still = tr.end()
    with open(out, "w") as f:
        f.write("%d %d %d\n" % (still, tr.closed, tr.refused))


def answers(port, src2, count):
    res = []
    for _ in range(count):
        res.append(get(port, src2))
        time.sleep(0.01)
    return res


def metric(port, src, name):
    """The value of metric line `name` in GET /metrics from src, or -1."""
    data = fetch(port, src, b"/metrics")
    for line in (data or b"").decode("utf-8", "replace").splitlines():
        f = line.split()
        if len(f) == 2 and f[0] == name:
            return int(float(f[1]))
    return -1


def starve(port, n, src2, count, want):
    tr = Trickler(port, n, "127.0.0.1")
    time.sleep(0.3)
    res = answers(port, src2, count)
    # The refusals counted while the trickling connections are still
    # held: a loaded server may accept the last of them late, and once
    # they are closed it would take them as ordinary connections.
    name = 'eseal_ocsp_connections_refused_total{reason="max-per-client"}'
    deadline = time.monotonic() + 10.0
    while (refused := metric(port, src2, name)) < want and \
            time.monotonic() < deadline:
        time.sleep(0.1)
    tr.end()
    ok = [ms for code, ms in res if code == 200]
    print("%d %d %d" % (len(ok), int(max(ms for _, ms in res)), refused))


def hold(port, n, secs):
    tr = Trickler(port, n, "127.0.0.1", every=3.0)
    time.sleep(4.0)     # one trickle round finds those closed at accept
    start = len(tr.socks)
    time.sleep(max(0.0, secs - 4.0))
    still = tr.end()
    print("opened %d, %d still open after 4 s, %d at the end"
          % (n, start, still))


def measure(port, src, count):
    res = answers(port, src, count)
    ms = sorted(m for code, m in res if code == 200)
    if not ms:
        print("answered 0/%d" % count)
        return

    def pct(p):
        return ms[min(len(ms) - 1, int(len(ms) * p))]
    print("answered %d/%d p50 %.2f ms p99 %.2f ms max %.2f ms"
          % (len(ms), count, pct(0.5), pct(0.99), ms[-1]))


if __name__ == "__main__":
    cmd = sys.argv[1]
    a = sys.argv[2:]
    if cmd == "overflow":
        overflow(int(a[0]), int(a[1]))
    elif cmd == "trickle":
        trickle(int(a[0]), int(a[1]), a[2], float(a[3]), a[4])
    elif cmd == "starve":
        starve(int(a[0]), int(a[1]), a[2], int(a[3]), int(a[4]))
    elif cmd == "hold":
        hold(int(a[0]), int(a[1]), float(a[2]))
    elif cmd == "measure":
        measure(int(a[0]), a[1], int(a[2]))
    else:
        sys.exit("unknown command")
