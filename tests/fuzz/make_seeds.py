#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz targets other than manifest_load into seeds/<target>/.

The files are committed; run this again only to change them: `python3 tests/fuzz/make_seeds.py`.
Each seed is a small realistic input or a hostile one. Binary targets take a first byte of flags
(see the top of each target): it is written here in front of the payload.
"""

import base64
import io
import json
import os
import struct
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    folder = os.path.join(HERE, "seeds", target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


# --- dotenv -------------------------------------------------------------------------------------

DOTENV = {
    "basic.env": "# the project's defaults\nTAG=1.0\nIMAGE=backend\nPORT=8080\nEMPTY=\nJUST_A_NAME\n",
    "quotes.env": (
        "SINGLE='$HOME ${X:-y} # kept'\n"
        'DOUBLE="line1\\nline2 \\"q\\" \\t tab \\\\ back"\n'
        'MULTI="first\nsecond\nthird"\n'
        "MULTI_SINGLE='a\nb'\n"
        "INLINE=value # a comment\n"
        "HASH=x#not-a-comment\n"
        "SPACES = spaced value   \n"
        'AFTER="quoted" # comment after\n'
    ),
    "export.env": "\ufeffexport TAG=1.0\nexport   SPACED=yes\n  INDENTED=ok\nexport=odd\nexportX=1\n",
    "interpolation.env": (
        "IMAGE=${IMAGE_NAME:-backend}:${TAG:-latest}\n"
        "DIR=$HOME/app\n"
        'FULL="$IMAGE@sha"\n'
        "NESTED=${UNSET:-${ALSO:-${TAG}}}\n"
        "ALT=${TAG:+set}${UNSET:+never}\n"
        "DOLLAR=cost $$5 and $$HOME\n"
        "REQ=${TAG:?must be set}\n"
        "SHELL=$(date) $1 $\n"
    ),
    "crlf.env": "A=1\r\nB='two'\r\nC=\"three\r\nlines\"\r\n",
    "unclosed.env": 'A=1\nB="never closed\nC=3\n',
    "unclosed-single.env": "A='open\n\n\n",
    "bad-key.env": "A=1\nnot a pair\n",
    "bad-key-chars.env": "K$Y=1\n",
    "after-quote.env": "A='x' trailing\n",
    "required-unset.env": "A=${NOPE:?give it}\n",
    "unterminated-template.env": "X=${A\n",
    "deep-nesting.env": "D=" + "${A:-" * 40 + "x" + "}" * 40 + "\n",
    "multibyte.env": "U=h\u00e9llo ${UNSET:-w\u00f6rld} \u2713\nV=${HT\u2029P}\n",
    "only-comments.env": "# one\n   # two\n\n\t\n",
    "escapes-edge.env": 'E="\\\\"\nF="\\"\nG="x\\\n',
    "garbage.env": b"\x00\xff=\xfe\nA=\x80\n",
}

# --- interpolate --------------------------------------------------------------------------------

INTERPOLATE = {
    "plain.txt": "$SET and ${SET} and $UNSET! and ${UNSET}",
    "defaults.txt": "${UNSET:-d} ${EMPTY:-d} ${EMPTY-d} ${UNSET-d} ${UNSET:-a b:c}",
    "nested.txt": "${UNSET:-${PORT}} ${UNSET:-${ALSO:-deep}} ${UNSET:-x${SET}y}z ${SET:+${PORT:-1}}",
    "alternatives.txt": "${SET:+alt}${EMPTY:+alt}${UNSET:+alt}${SET+alt}${EMPTY+alt}",
    "required.txt": "${SET:?boom} ${EMPTY?x} ${UNSET:?need a port}",
    "dollars.txt": "$$SET cost: $$5 $${SET} $$$SET $$$$ $",
    "not-variables.txt": "echo $(date) $5 a$-b $ x ${",
    "unterminated.txt": "${UNSET:-${A}",
    "invalid.txt": "${} ${1X} ${SET:} ${SET%x} ${SET\u00e9}",
    "deep.txt": "${A:-" * 40 + "}" * 40,
    "deep-ok.txt": "${A:-" * 30 + "leaf" + "}" * 30,
    "unicode.txt": "h\u00e9llo ${UNSET:-w\u00f6rld} \u2713 ${HT\u2029P}",
    "value-looks-like-template.txt": "${TRICKY} $TRICKY ${UNICODE}",
    "braces-in-default.txt": "${UNSET:-{a}} ${UNSET:-$${b}} ${UNSET:-}}",
}

# --- log_frames ---------------------------------------------------------------------------------


def frame(stream, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return struct.pack(">BxxxI", stream, len(payload)) + payload


def frames_seed(timestamps, *parts):
    return bytes([1 if timestamps else 0]) + b"".join(parts)


T1 = "2026-01-02T03:04:05.1Z "
T2 = "2026-01-02T03:04:05.123456789Z "
T3 = "2026-01-02T03:04:06Z "
LOGS = {
    "stdout-stderr.bin": frames_seed(
        False,
        frame(1, "hello\n"),
        frame(2, "warning: x\n"),
        frame(1, "two\nlines\n"),
        frame(1, "no newline at end"),
    ),
    "split-line.bin": frames_seed(False, frame(1, "hel"), frame(1, "lo\nwor"), frame(1, "ld\n")),
    "split-utf8.bin": frames_seed(
        False, frame(1, "h\u00e9llo \u2713\n".encode()[:2]), frame(1, "h\u00e9llo \u2713\n".encode()[2:])
    ),
    "crlf.bin": frames_seed(False, frame(1, "one\r\ntwo\r"), frame(1, "\n"), frame(1, "a\rb\n")),
    "timestamps.bin": frames_seed(
        True,
        frame(1, T1 + "hello world\n"),
        frame(2, T2 + "earlier on stderr\n"),
        frame(1, T3 + "later\n"),
    ),
    "timestamps-pieces.bin": frames_seed(
        True, frame(1, T1 + "aaa"), frame(1, T2 + "bbb\nccc"), frame(1, T3 + "ddd\n")
    ),
    "timestamps-other-forms.bin": frames_seed(
        True,
        frame(1, "2026-01-02T03:04:05+01:00 offset\n"),
        frame(1, "2026-01-02 03:04:05Z space\n"),
        frame(1, "2024-02-29T23:59:59.999999999Z leap\n"),
        frame(1, "1970-01-01T00:00:00Z epoch\n"),
        frame(1, "no timestamp here\n"),
        frame(1, "2026-13-02T03:04:05Z bad month\n"),
    ),
    "tty-console.bin": frames_seed(False, b"plain tty output\nmore\r\nno end"),
    "zero-and-stdin.bin": frames_seed(False, frame(1, b""), frame(0, "stdin?\n"), frame(2, b"")),
    "truncated-payload.bin": frames_seed(False, frame(1, "ok\n"), struct.pack(">BxxxI", 1, 0xFFFFFFFF) + b"short"),
    "header-only.bin": frames_seed(True, struct.pack(">BxxxI", 2, 12)),
    "long-line.bin": frames_seed(
        True, *[frame(1, T1 + "x" * 2000) for _ in range(4)], frame(1, T2 + "end\n")
    ),
    "many-empty-lines.bin": frames_seed(False, frame(1, "\n" * 200), frame(2, "\n\n")),
}

# --- cp_untar -----------------------------------------------------------------------------------


def tar_bytes(entries):
    """entries: (kind, name, arg) with kind file (arg = bytes), dir, symlink/hardlink (arg = target)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for kind, name, arg in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 1700000000
            if kind == "file":
                info.size = len(arg)
                info.mode = 0o644
                t.addfile(info, io.BytesIO(arg))
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
                info.mode = arg if isinstance(arg, int) else 0o755
                t.addfile(info)
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = arg
                t.addfile(info)
            elif kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = arg
                t.addfile(info)
    return trim(buf.getvalue())


def trim(data):
    """Drops the record padding after the end-of-archive blocks (tarfile pads to 10 KiB)."""
    data = data.rstrip(b"\0")
    data += b"\0" * (-len(data) % 512)
    return data + b"\0" * 1024


def untar_seed(dest_is_dir, entries):
    return bytes([1 if dest_is_dir else 0]) + tar_bytes(entries)


APP = [
    ("dir", "app", None),
    ("file", "app/main.py", b"print('hello')\n"),
    ("dir", "app/conf", None),
    ("file", "app/conf/nginx.conf", b"server {}\n"),
    ("symlink", "app/current", "main.py"),
    ("symlink", "app/abs-link", "/usr/share/zoneinfo/UTC"),
]
CP = {
    "app-into-dir.tar": untar_seed(True, APP),
    "app-as-dest.tar": untar_seed(False, APP),
    "single-file.tar": untar_seed(False, [("file", "main.py", b"x = 1\n")]),
    "dot-names.tar": untar_seed(True, [("dir", "./", None), ("file", "./a/./b", b"b\n")]),
    "dotdot-name.tar": untar_seed(True, [("file", "../escape.txt", b"escaped\n")]),
    "dotdot-inner.tar": untar_seed(True, [("dir", "app", None), ("file", "app/../../escape.txt", b"x\n")]),
    "absolute-name.tar": untar_seed(True, [("file", "/tmp/stackctl-fuzz-absolute.txt", b"x\n")]),
    "symlink-up.tar": untar_seed(True, [("dir", "app", None), ("symlink", "app/up", "..")]),
    "symlink-outside.tar": untar_seed(True, [("symlink", "evil", "../outside")]),
    "symlink-absolute.tar": untar_seed(True, [("symlink", "evil", "/nonexistent-stackctl-fuzz")]),
    "symlink-then-file-inside.tar": untar_seed(
        True, [("dir", "real", None), ("symlink", "link", "real"), ("file", "link/f", b"inside\n")]
    ),
    "top-symlink-as-dest.tar": untar_seed(False, [("symlink", "app", "../outside-not-there")]),
    "hardlink-inside.tar": untar_seed(
        True, [("dir", "app", None), ("file", "app/a", b"same\n"), ("hardlink", "app/b", "app/a")]
    ),
    "hardlink-dotdot.tar": untar_seed(True, [("hardlink", "h", "../outside/secret")]),
    "dir-mode-000.tar": untar_seed(True, [("dir", "locked", 0o000), ("file", "locked/f", b"x\n")]),
    "replace-dir-with-file.tar": untar_seed(True, [("dir", "x", None), ("file", "x", b"x\n")]),
    "long-name.tar": untar_seed(True, [("file", "d/" * 60 + "leaf", b"gnu long name\n")]),
}


def pax_tar():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        info = tarfile.TarInfo("p" * 120)
        info.pax_headers = {"comment": "pax", "path": "pax/" + "q" * 110}
        data = b"pax entry\n"
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("pax-link")
        link.type = tarfile.SYMTYPE
        link.linkname = "l" * 150
        t.addfile(link)
    return bytes([1]) + trim(buf.getvalue())


CP["pax-long.tar"] = pax_tar()

# --- progress_json ------------------------------------------------------------------------------


def varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, value):
    """A protobuf field: bytes/str/message are length-delimited, int/bool varint."""
    if isinstance(value, bool):
        return varint(num << 3) + varint(int(value))
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    if isinstance(value, str):
        value = value.encode()
    return varint((num << 3) | 2) + varint(len(value)) + value


def timestamp(seconds, nanos):
    return field(1, seconds) + field(2, nanos)


def vertex(digest, name, started=None, completed=None, cached=False, error=""):
    out = field(1, digest) + field(3, name)
    if cached:
        out += field(4, True)
    if started:
        out += field(5, timestamp(*started))
    if completed:
        out += field(6, timestamp(*completed))
    if error:
        out += field(7, error)
    return out


def vlog(digest, msg, stream=1):
    return field(1, digest) + field(2, timestamp(1700000001, 5)) + field(3, stream) + field(4, msg)


def status(vertexes=(), logs=(), statuses=(), warnings=()):
    out = b""
    for v in vertexes:
        out += field(1, v)
    for s in statuses:
        out += field(2, s)
    for l in logs:
        out += field(3, l)
    for w in warnings:
        out += field(4, w)
    return out


D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
BK_START = status(vertexes=[vertex(D1, "[internal] load build definition from Dockerfile", started=(1700000000, 1))])
BK_DONE = status(
    vertexes=[
        vertex(D1, "[internal] load build definition from Dockerfile", (1700000000, 1), (1700000000, 500000000)),
        vertex(D2, "[2/3] RUN make", (1700000001, 0)),
    ],
    logs=[vlog(D2, b"compiling...\nstill"), vlog(D2, b" going\r\n\x1b[31mred\x1b[0m\n")],
    statuses=[field(1, "layer") + field(2, D2) + field(4, 10) + field(5, 100)],
)
BK_FAIL = status(
    vertexes=[vertex(D2, "[2/3] RUN make", (1700000001, 0), (1700000002, 0), error="process \"/bin/sh -c make\" did not complete successfully: exit code: 2")],
    logs=[vlog(D2, b"make: *** [all] Error 2\n", 2), vlog(D2, b"no newline at the end")],
    warnings=[field(1, D2) + field(2, 1) + field(3, b"short") + field(4, b"detail") + field(5, "https://x")],
)
BK_CACHED = status(vertexes=[vertex(D1, "[1/3] FROM docker.io/library/alpine", cached=True)])


def lines(*values):
    return "".join(json.dumps(v, separators=(",", ":")) + "\n" for v in values).encode()


def trace(msg):
    return {"id": "moby.buildkit.trace", "aux": base64.b64encode(msg).decode()}


LAYER = "a1b2c3d4e5f6"
PROGRESS = {
    "pull.bin": b"\x00"
    + lines(
        {"status": "Pulling from library/redis", "id": "7-alpine"},
        {"status": "Pulling fs layer", "progressDetail": {}, "id": LAYER},
        {"status": "Downloading", "progressDetail": {"current": 1024, "total": 4096}, "progress": "[==>   ]", "id": LAYER},
        {"status": "Download complete", "progressDetail": {}, "id": LAYER},
        {"status": "Extracting", "progressDetail": {"current": 4096, "total": 4096}, "id": LAYER},
        {"status": "Pull complete", "progressDetail": {}, "id": LAYER},
        {"status": "Already exists", "progressDetail": {}, "id": "ffffffffffff"},
        {"status": "Digest: sha256:" + "e" * 64},
        {"status": "Status: Downloaded newer image for redis:7-alpine"},
    ),
    "pull-error.bin": b"\x00"
    + lines(
        {"status": "Pulling from library/nope", "id": "latest"},
        {"errorDetail": {"message": "manifest unknown: manifest unknown"}, "error": "manifest unknown: manifest unknown"},
    ),
    "pull-huge-numbers.bin": b"\x00"
    + lines(
        {"status": "Downloading", "progressDetail": {"current": 9223372036854775807, "total": 9223372036854775807}, "id": LAYER},
        {"status": "Downloading", "progressDetail": {"current": -1, "total": 1e300}, "id": "bbbbbbbbbbbb"},
    ),
    "pull-partial-line.bin": b'\x00{"status":"Pulling fs layer","id":"a1b2c3d4e5f6"}\n{"status":"Downl',
    "pull-newline-inside.bin": b'\x00{"status":\n"split across lines","id":"x"}\n{"status":"next"}\n',
    "pull-concatenated.bin": b'\x00{"status":"a"}{"status":"b"}\n',
    "push.bin": b"\x01"
    + lines(
        {"status": "The push refers to repository [localhost:5000/app]"},
        {"status": "Preparing", "progressDetail": {}, "id": LAYER},
        {"status": "Pushing", "progressDetail": {"current": 512, "total": 2048}, "progress": "[=>  ]", "id": LAYER},
        {"status": "Pushed", "progressDetail": {}, "id": LAYER},
        {"status": "latest: digest: sha256:" + "d" * 64 + " size: 528"},
        {"progressDetail": {}, "aux": {"Tag": "latest", "Digest": "sha256:" + "d" * 64, "Size": 528}},
    ),
    "push-denied.bin": b"\x01"
    + lines(
        {"errorDetail": {"message": "denied: requested access to the resource is denied"}, "error": "denied: requested access to the resource is denied"},
    ),
    "build-legacy.bin": b"\x02"
    + lines(
        {"stream": "Step 1/3 : FROM alpine\n"},
        {"stream": " ---> 0123456789ab\n"},
        {"stream": "Step 2/3 : RUN false\n"},
        {"stream": " ---> Running in abcdef\n\n"},
        {"aux": {"ID": "sha256:" + "c" * 64}},
        {"errorDetail": {"code": 1, "message": "The command '/bin/sh -c false' returned a non-zero code: 1"}, "error": "The command '/bin/sh -c false' returned a non-zero code: 1"},
    ),
    "build-buildkit.bin": b"\x02" + lines(trace(BK_CACHED), trace(BK_START), trace(BK_DONE), {"aux": {"ID": "sha256:" + "c" * 64}}),
    "build-buildkit-fails.bin": b"\x02" + lines(trace(BK_START), trace(BK_DONE), trace(BK_FAIL)),
    "build-bad-base64.bin": b"\x02" + lines({"id": "moby.buildkit.trace", "aux": "!!!not base64"}),
    "buildkit-raw-done.bin": b"\x03" + BK_DONE,
    "buildkit-raw-fail.bin": b"\x03" + BK_FAIL,
    "buildkit-raw-cached.bin": b"\x03" + BK_CACHED,
}

# --- events_json --------------------------------------------------------------------------------


def event(action, name, extra=None, time=1700000000):
    attrs = {
        "com.docker.compose.project": "stack",
        "com.docker.compose.service": name.split("-")[1] if "-" in name else name,
        "com.docker.compose.container-number": "1",
        "com.docker.compose.oneoff": "False",
        "image": "redis:7-alpine",
        "name": name,
    }
    attrs.update(extra or {})
    cid = "f" * 64
    return {
        "status": action,
        "id": cid,
        "from": "redis:7-alpine",
        "Type": "container",
        "Action": action,
        "Actor": {"ID": cid, "Attributes": attrs},
        "scope": "local",
        "time": time,
        "timeNano": time * 1000000000 + 123456789,
    }


EVENTS = {
    "lifecycle.json": lines(
        event("create", "stack-web-1"),
        event("start", "stack-web-1"),
        event("health_status: starting", "stack-web-1"),
        event("health_status: healthy", "stack-web-1"),
        event("exec_create: /bin/sh -c true", "stack-web-1", {"execID": "e" * 64}),
        event("die", "stack-web-1", {"exitCode": "137"}),
        event("destroy", "stack-web-1"),
    ),
    "odd-attributes.json": lines(
        event("die", "stack-web-1", {"exitCode": "not a number", "com.docker.compose.container-number": "-1"}),
        event("die", "stack-web-2", {"exitCode": "99999999999999999999999", "com.docker.compose.oneoff": "TRUE"}),
        event("start", "x", {"name": "\u2713 \u00e9 \u0000 \"quoted\""}),
    ),
    "missing-fields.json": lines({"Type": "container"}, {"Action": "start"}, {"Action": "start", "Actor": {}}, {}),
    "wrong-types.json": b'{"Action":1,"Actor":{"ID":[]}}\n{"time":"now"}\n',
    "network-event.json": lines(
        {"Type": "network", "Action": "connect", "Actor": {"ID": "n" * 64, "Attributes": {"container": "c" * 64, "name": "stack_default", "type": "bridge"}}, "scope": "local", "time": 1700000000, "timeNano": 1700000000000000000}
    ),
    "split-and-partial.json": b'{"Action":"start","Actor":{"ID":"x",\n"Attributes":{"name":"a"}}}\n{"Action":"die"',
    "huge-times.json": lines({"Action": "die", "Actor": {"ID": "x"}, "time": -9223372036854775808, "timeNano": 9223372036854775807}),
}


# --- format_template ----------------------------------------------------------------------------

ROW = {
    "Name": "stack-web-1",
    "Service": "web",
    "State": "RUNNING",
    "Labels": {"com.docker.compose.project": "stack", "a.b": "c"},
    "Publishers": [{"URL": "0.0.0.0", "TargetPort": 80, "PublishedPort": 8080, "Protocol": "tcp"}],
    "Number": 1,
    "Health": None,
}
ROW_JSON = json.dumps(ROW)
TEMPLATES = {
    "name.txt": "{{.Name}}",
    "name-json.txt": "{{.Name}} {{json .}}",
    "table.txt": "table {{.Name}}\\t{{.Service}}\\t{{lower .State}}\\n",
    "nested-json.txt": "{{json .Labels}}|{{.Publishers}}|{{upper .Service}}|{{.Missing.Deeper}}\0" + ROW_JSON,
    "spaces.txt": "{{ .Name }} {{  json   .Labels  }} {{.}}",
    "row-given.txt": "{{.Name}}\\t{{.Number}}\\t{{.Health}}\0" + ROW_JSON,
    "row-not-object.txt": "{{.Name}} {{json .}}\0[1, \"two\", null]",
    "unsupported.txt": "{{range .Labels}}x{{end}}",
    "unclosed.txt": "{{.Name",
    "no-dot.txt": "{{Name}}",
    "only-text.txt": "plain text \\t with escapes \\n and }} braces",
    "table-only.txt": "table",
    "tablex.txt": "tablex {{.Name}}",
    "unicode.txt": "\u2713 {{lower .State}} \u00e9{{upper .Name}}\0{\"State\": \"\u0130STANBUL\", \"Name\": \"stra\u00dfe\"}",
    "many-actions.txt": "{{.Name}}" * 50,
}


def main():
    for name, data in DOTENV.items():
        write("dotenv", name, data)
    for name, data in INTERPOLATE.items():
        write("interpolate", name, data)
    for name, data in LOGS.items():
        write("log_frames", name, data)
    for name, data in CP.items():
        write("cp_untar", name, data)
    for name, data in PROGRESS.items():
        write("progress_json", name, data)
    for name, data in EVENTS.items():
        write("events_json", name, data)
    for name, data in TEMPLATES.items():
        write("format_template", name, data)


if __name__ == "__main__":
    main()
