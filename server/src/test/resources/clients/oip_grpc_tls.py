"""Calls vitserve's gRPC service over TLS with Python's grpcio, trusting the given certificate.

Usage: python3 oip_grpc_tls.py HOST:PORT CERTIFICATE_PEM MODEL IMAGE
Prints one JSON object: whether the server is live, and the image's logits from ModelInfer.
"""
import json
import struct
import sys

import grpc
import numpy as np

import grpc_service_pb2 as pb
import grpc_service_pb2_grpc as pb_grpc

address, certificate, model, image = sys.argv[1:]
credentials = grpc.ssl_channel_credentials(root_certificates=open(certificate, "rb").read())
channel = grpc.secure_channel(address, credentials, options=[("grpc.ssl_target_name_override", "localhost")])
stub = pb_grpc.GRPCInferenceServiceStub(channel)
data = open(image, "rb").read()
request = pb.ModelInferRequest(model_name=model)
request.inputs.add(name="image", datatype="BYTES", shape=[1])
request.raw_input_contents.append(struct.pack("<I", len(data)) + data)
answer = stub.ModelInfer(request, timeout=60)
print(json.dumps({"live": stub.ServerLive(pb.ServerLiveRequest(), timeout=60).live,
                  "logits": np.frombuffer(answer.raw_output_contents[0], dtype="<f4").tolist()}))
