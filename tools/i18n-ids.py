#!/usr/bin/env python3
"""Check that every translation in the given PO files keeps its msgid's
rule IDs (ES-QUORUM-01 ...), option names (--officer ...) and conversions
(%s, %zu ...) in the same order: exit 1 naming each entry that does not."""
import re
import sys

RULE = re.compile(r'\b[A-Z]{2,}(?:-[A-Z0-9]+)*-[0-9]{2}\b')
OPT = re.compile(r'(?<![\w-])--[a-z][a-z0-9-]*')
CONV = re.compile(r'%(?:\.\*|\.[0-9]+)?(?:hh|h|ll|l|z|t|j)?[diouxXscp%]')


def entries(path):
    """(msgid, msgstr, fuzzy) of each entry but the header."""
    cur, field, flags = {}, None, ''
    with open(path, encoding='utf-8') as f:
        for line in f.read().split('\n') + ['']:
            if line.startswith('#,'):
                flags = line
            m = re.match(r'(msgid|msgstr) "(.*)"$', line)
            if m:
                field = m.group(1)
                cur[field] = m.group(2)
                continue
            m = re.match(r'"(.*)"$', line)
            if m and field:
                cur[field] += m.group(1)
                continue
            if line.strip() == '' and 'msgstr' in cur:
                if cur['msgid']:
                    yield cur['msgid'], cur['msgstr'], 'fuzzy' in flags
                cur, field, flags = {}, None, ''


def convs(s):
    # %.0s swallows an English plural suffix: it is the %s of the msgid.
    return [re.sub(r'\.0s$', 's', c) for c in CONV.findall(s)]


bad = 0
for path in sys.argv[1:]:
    for msgid, msgstr, fuzzy in entries(path):
        if not msgstr:
            continue
        why = []
        if RULE.findall(msgid) != RULE.findall(msgstr):
            why.append('rule IDs %s' % RULE.findall(msgid))
        if sorted(set(OPT.findall(msgid))) != sorted(set(OPT.findall(msgstr))):
            why.append('options %s' % sorted(set(OPT.findall(msgid))))
        if convs(msgid) != convs(msgstr):
            why.append('conversions %s' % convs(msgid))
        if why:
            bad += 1
            print('%s: "%s": translation must keep %s' %
                  (path, msgid[:70], ', '.join(why)), file=sys.stderr)
sys.exit(1 if bad else 0)
