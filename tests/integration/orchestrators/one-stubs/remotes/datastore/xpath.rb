#!/usr/bin/python3
# A stand-in for OpenNebula's datastore/xpath.rb: `xpath.rb --stdin XPATH...`
# prints the text of each XPATH's first match (empty if none) followed by a
# NUL; an XPATH starting with %m% prints every match, space separated.
# Predicates as OpenNebula writes them (DISK[DISK_ID=0], DISK[TM_MAD="x"]).
import re
import sys
import xml.etree.ElementTree as ET

args = sys.argv[1:]
if args and args[0] == '--stdin':
    args = args[1:]
root = ET.fromstring(sys.stdin.read())
for xp in args:
    multi = xp.startswith('%m%')
    xp = xp[3:] if multi else xp
    parts = xp.strip('/').split('/')
    if parts[0] != root.tag:
        sys.stdout.write('\0')
        continue
    path = './' + '/'.join(parts[1:])
    path = re.sub(r'\[(\w+)=([^\]"\']+)\]', r'[\1="\2"]', path)
    found = [e.text or '' for e in root.findall(path)]
    sys.stdout.write((' '.join(found) if multi else (found[0] if found else '')) + '\0')
