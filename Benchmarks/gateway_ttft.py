"""Time to first token through a streaming chat completion, N times in sequence.

Usage: gateway_ttft.py URL KEY MODEL N   — prints "p50_ms p99_ms" of the time from sending the
request to the first `data:` frame carrying content.
"""
import http.client
import json
import sys
import time
from urllib.parse import urlparse

url, key, model, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
parts = urlparse(url)
body = json.dumps({"model": model, "stream": True, "max_tokens": 16,
                   "messages": [{"role": "user", "content": "Say something."}]})
samples = []
connection = http.client.HTTPConnection(parts.hostname, parts.port)
for _ in range(count):
    start = time.perf_counter()
    connection.request("POST", parts.path, body=body,
                       headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    response = connection.getresponse()
    first = None
    while True:
        line = response.readline()
        if not line:
            break
        if first is None and line.startswith(b"data:") and b"content" in line:
            first = time.perf_counter() - start
        if line.strip() == b"data: [DONE]":
            break
    response.read()
    if first is None:
        sys.exit(f"no content frame from {url}")
    samples.append(first * 1000)
samples.sort()
print(f"{samples[len(samples) // 2]:.3f} {samples[min(len(samples) - 1, int(len(samples) * 0.99))]:.3f}")
