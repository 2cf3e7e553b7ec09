"""Time to first token through a streaming chat completion, N times in sequence.

Usage: gateway_ttft.py URL KEY MODEL N [FRAME]   — prints "p50_ms p99_ms" of the time from
sending the request to the arrival of the first `data:` frame carrying content; with FRAME k,
of the k-th such frame, and with FRAME `done`, of the `data: [DONE]` frame (what a held stream
waits for: Benchmarks/stream-commit times the gateway's first frame against the mock's k-th).

The arrival is the kernel's receive timestamp (SO_TIMESTAMPNS) of the segment holding that
frame's last byte, not the moment this client gets to read it: its own scheduling delay must
not count as the server's latency. A TCP read reports the timestamp of the last segment it
takes, so the client looks at what has arrived without taking it (MSG_PEEK) and then reads
exactly up to the end of the first content frame. A few system calls a request: the client
shares a core with the mock (Benchmarks/gateway pins it there, as wrk), and an earlier version,
which read a byte per system call to the same end, kept that core busy between the mock's
head and its first token, which made the direct run slower than the mock is.
"""
import socket
import struct
import sys
import time
from urllib.parse import urlparse

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux: SO_TIMESTAMPNS_OLD
url, key, model, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
frame = sys.argv[5] if len(sys.argv) > 5 else "1"
wanted_frame = 0 if frame == "done" else int(frame)
if wanted_frame < 0 or (wanted_frame == 0 and frame != "done"):
    sys.exit(f"FRAME must be a positive frame number or 'done', not {frame!r}")
parts = urlparse(url)
body = ('{"model": "%s", "stream": true, "max_tokens": 16, '
        '"messages": [{"role": "user", "content": "Say something."}]}' % model).encode()
request = (f"POST {parts.path} HTTP/1.1\r\nHost: {parts.hostname}\r\nAuthorization: Bearer {key}\r\n"
           f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body

connection = socket.create_connection((parts.hostname, parts.port))
connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
connection.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)


def read(size, flags=0):
    """At most `size` bytes, and the kernel's receive time of the last segment they came in
    (ns, CLOCK_REALTIME); with MSG_PEEK, without taking them."""
    data, ancillary, _, _ = connection.recvmsg(size, socket.CMSG_SPACE(16), flags)
    if not data:
        sys.exit(f"{url} closed the connection")
    for level, kind, value in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            seconds, nanoseconds = struct.unpack("qq", value[:16])
            return data, seconds * 1_000_000_000 + nanoseconds
    sys.exit("no receive timestamp (SO_TIMESTAMPNS) on this system")


def first_content_end(received):
    """Where the FRAME-th `data:` line carrying content (or `data: [DONE]`) ends, after its
    newline, or None."""
    head_end = received.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    position, seen = head_end + 4, 0
    while (end := received.find(b"\n", position)) >= 0:
        line = received[position:end]
        if wanted_frame == 0 and line.startswith(b"data: [DONE]"):
            return end + 1
        if wanted_frame > 0 and line.startswith(b"data:") and b'"content"' in line:
            seen += 1
            if seen == wanted_frame:
                return end + 1
        position = end + 1
    return None


samples = []
for _ in range(count):
    start = time.time_ns()
    connection.sendall(request)
    received = b""
    first = None
    while first is None:
        waiting, _ = read(65536, socket.MSG_PEEK)
        if b"\r\n\r\n" in received + waiting and not (received + waiting).startswith(b"HTTP/1.1 200"):
            sys.exit(f"{url} answered {(received + waiting).splitlines()[0].decode()}")
        end = first_content_end(received + waiting)
        # Take what has arrived up to the frame's end: the read's timestamp is then that of
        # the segment the frame ended in.
        wanted = len(waiting) if end is None else end - len(received)
        while wanted > 0:
            data, at = read(wanted)
            received += data
            wanted -= len(data)
        if end is not None:
            first = at - start
    head, _, rest = received.partition(b"\r\n\r\n")
    chunked = b"transfer-encoding: chunked" in head.lower()
    # The rest of the answer: up to [DONE] and, chunked, the last (empty) chunk.
    while b"data: [DONE]" not in rest or (chunked and not rest.endswith(b"0\r\n\r\n")):
        more = connection.recv(65536)
        if not more:
            sys.exit(f"{url} closed the connection mid-answer")
        rest += more
    samples.append(first / 1e6)
samples.sort()
print(f"{samples[len(samples) // 2]:.3f} {samples[min(len(samples) - 1, int(len(samples) * 0.99))]:.3f}")
