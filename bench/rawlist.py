#!/usr/bin/env python3
"""The API server's own time to serve inspect's two lists: a client that only reads bytes.

    rawlist.py API CA CERT KEY ENCODING MODE
ENCODING: json | protobuf. MODE: rv0 (one unpaginated response per list, from the watch
cache: resourceVersion=0) or a page size N (limit=N, continue tokens followed, consistent
reads: what inspect asks). Both lists are read at once, each on its own connection, as inspect
does. Prints `seconds bytes requests` (wall time from the first connect to the last byte).
The continue token is read off the head of each page (JSON: a regex on the metadata that
precedes the items; protobuf: the list's first field), never by decoding the items.
"""
import http.client
import re
import ssl
import sys
import threading
import time
import urllib.parse

api, ca, cert, key, encoding, mode = sys.argv[1:7]
host = urllib.parse.urlsplit(api)
ctx = ssl.create_default_context(cafile=ca)
ctx.load_cert_chain(cert, key)
ACCEPT = {"json": "application/json", "protobuf": "application/vnd.kubernetes.protobuf"}[encoding]


def varint(b, i):
    shift = value = 0
    while True:
        c = b[i]
        i += 1
        value |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return value, i


def fields(b, i, end):
    """(field number, start, end) of each length-delimited field of b[i:end]."""
    while i < end:
        k, i = varint(b, i)
        wire = k & 7
        if wire == 2:
            n, i = varint(b, i)
            yield k >> 3, i, i + n
            i += n
        elif wire == 0:
            _, i = varint(b, i)
        else:
            raise ValueError(f"wire type {wire}")


def pb_continue(b):
    assert b[:4] == b"k8s\x00", "not protobuf"
    for f, s, e in fields(b, 4, len(b)):
        if f == 2:  # Unknown.raw
            for lf, ls, le in fields(b, s, e):
                if lf == 1:  # List.metadata
                    for mf, ms, me in fields(b, ls, le):
                        if mf == 3:  # ListMeta.continue
                            return b[ms:me].decode()
                    return None
    return None


def json_continue(b):
    m = re.search(rb'"continue":"([^"]*)"', b[:4096])
    return m.group(1).decode() if m else None


def read(path, out):
    conn = http.client.HTTPSConnection(host.hostname, host.port, context=ctx)
    token, total, requests = None, 0, 0
    while True:
        q = {"resourceVersion": "0"} if mode == "rv0" else {"limit": mode}
        if token:
            q["continue"] = token
        conn.request("GET", f"{path}?{urllib.parse.urlencode(q)}", headers={"Accept": ACCEPT})
        r = conn.getresponse()
        body = r.read()
        requests += 1
        if r.status != 200:
            sys.exit(f"{path}: {r.status} {body[:200]!r}")
        total += len(body)
        token = None if mode == "rv0" else (pb_continue if encoding == "protobuf" else json_continue)(body)
        if not token:
            break
    out.append((total, requests))


t0 = time.monotonic()
out = []
threads = [threading.Thread(target=read, args=(p, out)) for p in ("/api/v1/serviceaccounts", "/api/v1/pods")]
for t in threads:
    t.start()
for t in threads:
    t.join()
wall = time.monotonic() - t0
if len(out) != 2:
    sys.exit("a list failed")
print(f"{wall:.3f} {sum(o[0] for o in out)} {sum(o[1] for o in out)}")
