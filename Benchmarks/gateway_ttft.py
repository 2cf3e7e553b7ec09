"""Time to first token through a streaming chat completion, N times in sequence.

Usage: gateway_ttft.py URL KEY MODEL N   — prints "p50_ms p99_ms" of the time from sending the
request to the arrival of the first `data:` frame carrying content.

The arrival is the kernel's receive timestamp of the frame's last byte (SO_TIMESTAMPNS), not
the moment this client gets to read it: on a small machine the client shares a core with the
mock (which is busy streaming the rest of the answer) or with the gateway, and its own
scheduling delay would otherwise count as the server's latency. To know which segment a byte
came in, the response is read a byte at a time up to the first content frame (a read returns
the timestamp of the segment its first byte came in), and in bulk after it.
"""
import socket
import struct
import sys
import time
from urllib.parse import urlparse

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux: SO_TIMESTAMPNS_OLD
url, key, model, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
parts = urlparse(url)
body = ('{"model": "%s", "stream": true, "max_tokens": 16, '
        '"messages": [{"role": "user", "content": "Say something."}]}' % model).encode()
request = (f"POST {parts.path} HTTP/1.1\r\nHost: {parts.hostname}\r\nAuthorization: Bearer {key}\r\n"
           f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body

connection = socket.create_connection((parts.hostname, parts.port))
connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
connection.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)


def read_byte():
    """One byte and the kernel's receive time of its segment (ns, CLOCK_REALTIME)."""
    data, ancillary, _, _ = connection.recvmsg(1, socket.CMSG_SPACE(16))
    if not data:
        sys.exit(f"{url} closed the connection")
    for level, kind, value in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            seconds, nanoseconds = struct.unpack("qq", value[:16])
            return data, seconds * 1_000_000_000 + nanoseconds
    sys.exit("no receive timestamp (SO_TIMESTAMPNS) on this system")


samples = []
for _ in range(count):
    start = time.time_ns()
    connection.sendall(request)
    received = b""
    line = b""
    first = None
    while first is None:
        byte, at = read_byte()
        received += byte
        line += byte
        if byte == b"\n":
            if line.startswith(b"data:") and b'"content"' in line:
                first = at - start
            line = b""
    head, _, rest = received.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        sys.exit(f"{url} answered {head.splitlines()[0].decode()}")
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
