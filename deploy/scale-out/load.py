#!/usr/bin/env python3
"""Closed-loop load generator for deploy/scale-out/run.sh: N clients POST one image to /v1/classify over
keep-alive connections to 127.0.0.1 only, until a stop file appears or a time limit passes; then prints one
JSON line: answers by status, and failures (a non-200 answer, or a connection that broke) by kind."""
import http.client
import json
import os
import sys
import threading
import time
from collections import Counter

port, clients, image_path, stop_file, limit_s = (int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4],
                                                  float(sys.argv[5]))
body = open(image_path, "rb").read()
statuses = Counter()
failures = Counter()
lock = threading.Lock()
deadline = time.monotonic() + limit_s


def client():
    conn = None
    while time.monotonic() < deadline and not os.path.exists(stop_file):
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("POST", "/v1/classify?top_k=1", body=body, headers={"Content-Type": "image/png"})
            response = conn.getresponse()
            response.read()
            with lock:
                statuses[response.status] += 1
                if response.status != 200:
                    failures["http %d" % response.status] += 1
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException) as e:
            with lock:
                failures[type(e).__name__] += 1
            if conn is not None:
                conn.close()
            conn = None
            time.sleep(0.01)


threads = [threading.Thread(target=client) for _ in range(clients)]
start = time.monotonic()
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps({"seconds": round(time.monotonic() - start, 1), "requests": sum(statuses.values()) + sum(
    v for k, v in failures.items() if not k.startswith("http")), "statuses": dict(statuses),
                  "failed": sum(failures.values()), "failures": dict(failures)}))
