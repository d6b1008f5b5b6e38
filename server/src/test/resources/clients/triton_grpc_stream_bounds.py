"""The bounds of vitserve's ModelStreamInfer, with stubs generated from Triton's own protos: a stream sending
10 000 requests without reading its answers (how many the server let it send), another client's ModelInfer
meanwhile, the stream cancelled, a message past the size bound inside a stream, and a stream left idle.

Usage: python3 triton_grpc_stream_bounds.py HOST:PORT MODEL MAX_BODY_BYTES IDLE_MS
Prints one JSON object.
"""
import io
import json
import struct
import sys
import threading
import time

import grpc
import numpy as np
from PIL import Image

import grpc_service_pb2 as pb
import grpc_service_pb2_grpc as pb_grpc

address, model, max_body, idle_ms = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
# the flooding client's receive window stays at HTTP/2's 64 KB (no BDP probing), so its unread answers fill it soon
stub = pb_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(address, options=[("grpc.http2.bdp_probe", 0)]))
other = pb_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(address))
png = io.BytesIO()
Image.new("RGB", (16, 16), (200, 30, 90)).save(png, format="PNG")
small = png.getvalue()


def image_request(request_id, data=small):
    request = pb.ModelInferRequest(model_name=model, id=request_id)
    request.inputs.add(name="image", datatype="BYTES", shape=[1, 1])
    request.outputs.add(name="logits")
    request.raw_input_contents.append(struct.pack("<I", len(data)) + data)
    return request


result = {}

# 1. 10 000 requests, and the answers not read
sent = [0]


def flood():
    for i in range(10000):
        sent[0] = i + 1
        yield image_request("f%d" % i)


flooding = stub.ModelStreamInfer(flood(), timeout=300)
# wait until the client can send no more: its count unchanged for 3 s (at most a minute)
last, still_since, started = -1, time.time(), time.time()
while time.time() - started < 60 and (sent[0] != last or time.time() - still_since < 3):
    if sent[0] != last:
        last, still_since = sent[0], time.time()
    time.sleep(0.2)
result["flood_stalled"] = sent[0] < 10000 and time.time() - still_since >= 3
result["flood_sent_while_unread"] = sent[0]
# another client meanwhile
answer = other.ModelInfer(image_request("other"), timeout=60)
result["other_client"] = np.frombuffer(answer.raw_output_contents[0], dtype="<f4").tolist()
time.sleep(1)
result["flood_sent_later"] = sent[0]
# a few answers read: in order, one per request
result["flood_first_ids"] = [next(flooding).infer_response.id for _ in range(5)]
flooding.cancel()
time.sleep(1)
answer = other.ModelInfer(image_request("after"), timeout=60)
result["after_cancel"] = np.frombuffer(answer.raw_output_contents[0], dtype="<f4").tolist()

# 2. a message past --max-body-size inside a stream, then a good one
big = image_request("big", b"\0" * (max_body + 1000))
answers = []
try:
    for response in stub.ModelStreamInfer(iter([big, image_request("good")]), timeout=60):
        answers.append({"id": response.infer_response.id, "error": response.error_message})
except grpc.RpcError as e:
    answers.append({"rpc_error": e.code().name, "details": e.details()})
result["oversized"] = answers

# 3. a stream that sends one request, reads its answer, then sends nothing
hold = threading.Event()


def one_then_idle():
    yield image_request("before-idle")
    hold.wait(idle_ms / 1000 * 3 + 5)


idle = []
started = time.time()
try:
    for response in stub.ModelStreamInfer(one_then_idle(), timeout=120):
        idle.append({"id": response.infer_response.id, "error": response.error_message})
except grpc.RpcError as e:
    idle.append({"rpc_error": e.code().name, "details": e.details()})
hold.set()
result["idle"] = idle
result["idle_closed_after_ms"] = int((time.time() - started) * 1000)
print(json.dumps(result))
