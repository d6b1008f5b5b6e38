"""Calls vitserve's gRPC ModelInfer with Python grpcio's own message compression (gzip, deflate).

Usage: python3 oip_grpc_compression.py HOST:PORT MODEL IMAGE
Prints one JSON object: per compression the image's logits (or the status), a compressed bomb's status and
message (64 MB of zeros that compress to about 64 KB), and the logits of a plain call after the bomb.
"""
import json
import struct
import sys

import grpc
import numpy as np

import grpc_service_pb2 as pb
import grpc_service_pb2_grpc as pb_grpc

address, model, image = sys.argv[1:]
data = open(image, "rb").read()


def request(payload):
    message = pb.ModelInferRequest(model_name=model)
    message.inputs.add(name="image", datatype="BYTES", shape=[1])
    message.raw_input_contents.append(struct.pack("<I", len(payload)) + payload)
    return message


def infer(stub, message, compression):
    try:
        answer = stub.ModelInfer(message, timeout=60, compression=compression)
        return {"logits": np.frombuffer(answer.raw_output_contents[0], dtype="<f4").tolist()}
    except grpc.RpcError as e:
        return {"status": e.code().name, "message": e.details()}


result = {}
with grpc.insecure_channel(address) as channel:
    stub = pb_grpc.GRPCInferenceServiceStub(channel)
    result["gzip"] = infer(stub, request(data), grpc.Compression.Gzip)
    result["deflate"] = infer(stub, request(data), grpc.Compression.Deflate)
    result["bomb_gzip"] = infer(stub, request(bytes(64 * 1024 * 1024)), grpc.Compression.Gzip)
    result["bomb_deflate"] = infer(stub, request(bytes(64 * 1024 * 1024)), grpc.Compression.Deflate)
    result["after"] = infer(stub, request(data), grpc.Compression.NoCompression)
# a channel whose every call is compressed, as tritonclient's InferenceServerClient(compression=...) is not:
# tritonclient passes compression per call, which the calls above do
with grpc.insecure_channel(address, compression=grpc.Compression.Deflate) as channel:
    result["channel_deflate"] = infer(pb_grpc.GRPCInferenceServiceStub(channel), request(data), None)
print(json.dumps(result))
