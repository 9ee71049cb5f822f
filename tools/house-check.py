#!/usr/bin/env python3
"""The house's size limits (issue 14): no function of 150 lines or more and
no .c file over 1,500 lines in the product folders.  Prints each offender
as "file: N lines" or "file:line: function: N lines" and exits 1 when there
is one; exits 0 when the house is within its limits.  A function is counted
from the line of its opening brace (in column 0) to its closing brace."""
import glob
import os
import re
import sys

FOLDERS = ("ca", "ocsp", "policy", "hsm", "common", "crl", "verify")
MAX_FUNC = 149
MAX_FILE = 1500


def scan(path):
    bad = []
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if len(lines) - 1 > MAX_FILE:
        bad.append("%s: %d lines (limit %d)" % (path, len(lines) - 1, MAX_FILE))
    start = name = None
    for i, line in enumerate(lines):
        if line.startswith("{") and i > 0:
            j = i - 1
            while j > 0 and "(" not in lines[j]:
                j -= 1
            m = re.match(r"^(\w+)\s*\(", lines[j]) or re.search(r"(\w+)\s*\(", lines[j])
            start, name = i, (m.group(1) if m else "?")
        elif line.startswith("}") and start is not None:
            n = i - start + 1
            if n > MAX_FUNC:
                bad.append("%s:%d: %s: %d lines (limit %d)" % (path, start + 1, name, n, MAX_FUNC))
            start = None
    return bad


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    bad = []
    for d in FOLDERS:
        for p in sorted(glob.glob(os.path.join(root, d, "*.c"))):
            bad += scan(p)
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
