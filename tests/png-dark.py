#!/usr/bin/env python3
"""Count dark pixels in the top band of two PNG screenshots (8-bit RGB or
RGBA, as Chromium writes them): "png-dark.py A.png B.png [HEIGHT]" prints
the dark pixels of A, of B, and of A xor B.  The Japanese report test uses
it to tell CJK glyphs from the boxes a render without CJK fonts shows."""
import struct, sys, zlib
def load(fn):
    d = open(fn, 'rb').read()
    assert d[:8] == b'\x89PNG\r\n\x1a\n'
    i, idat = 8, b''
    while i < len(d):
        n, t = struct.unpack('>I4s', d[i:i+8]); c = d[i+8:i+8+n]; i += 12 + n
        if t == b'IHDR': w, h, bd, ct = struct.unpack('>IIBB', c[:10])
        elif t == b'IDAT': idat += c
    assert bd == 8 and ct in (2, 6), (bd, ct)
    bpp = 3 if ct == 2 else 4
    raw = zlib.decompress(idat); st = w * bpp; rows = []; prev = bytearray(st); p = 0
    for y in range(h):
        f = raw[p]; line = bytearray(raw[p+1:p+1+st]); p += 1 + st
        for x in range(st):
            a = line[x-bpp] if x >= bpp else 0; b = prev[x]; cc = prev[x-bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - cc), abs(a - cc), abs(a + b - 2*cc)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else cc)) & 255
        rows.append(bytes(line)); prev = line
    return w, h, bpp, rows
def dark(img, y0, y1):
    w, h, bpp, rows = img
    return [(x, y) for y in range(y0, min(y1, h)) for x in range(w) if sum(rows[y][x*bpp:x*bpp+3]) < 300]
if __name__ == '__main__':
    ja, tofu = load(sys.argv[1]), load(sys.argv[2])
    band = int(sys.argv[3]) if len(sys.argv) > 3 else 60
    a, b = dark(ja, 0, band), dark(tofu, 0, band)
    print(len(a), len(b), len(set(a) ^ set(b)))
