#!/usr/bin/env python3
"""Print the entries of a StatusExport content (DER, as `openssl cms
-verify -out` gives it) in file order, one line per entry:
"ISSUER SERIALHEX STATUS" (serial as lower-case hex without leading
zeros), for tests/export-order.test."""
import sys


def tlv(b, i):
    """(tag, content start, content end) of the TLV at b[i]."""
    tag, ln = b[i], b[i + 1]
    i += 2
    if ln & 0x80:
        n = ln & 0x7f
        ln = int.from_bytes(b[i:i + n], "big")
        i += n
    return tag, i, i + ln


def children(b, start, end):
    i = start
    while i < end:
        t, s, e = tlv(b, i)
        yield t, s, e
        i = e


def main():
    b = open(sys.argv[1], "rb").read()
    t, s, e = tlv(b, 0)
    assert t == 0x30 and e == len(b)
    top = list(children(b, s, e))
    assert top[3][0] == 0x30
    for n, (t, s, e) in enumerate(children(b, top[3][1], top[3][2])):
        parts = list(children(b, s, e))
        ent = parts[3]
        assert ent[0] == 0x30
        for t, s2, e2 in children(b, ent[1], ent[2]):
            f = list(children(b, s2, e2))
            assert f[0][0] == 0x02 and f[1][0] == 0x0a
            serial = int.from_bytes(b[f[0][1]:f[0][2]], "big")
            print(n, format(serial, "x"), b[f[1][1]])


main()
