"""Triton's own gRPC calls on vitserve, through stubs grpc_tools generated from Triton's grpc_service.proto and
model_config.proto (test resources triton/), sent as tritonclient.grpc sends them: get_model_config
(ModelConfigRequest name, version), get_inference_statistics (ModelStatisticsRequest, empty name for every model),
and start_stream + async_stream_infer + stop_stream (ModelStreamInfer fed from a queue by a request iterator,
the answers read on a thread of their own, the stream closed by ending the iterator).

Usage: python3 triton_grpc_client.py HOST:PORT MODEL IMAGE...
Prints one JSON object.
"""
import json
import queue
import struct
import sys
import threading

import grpc
import numpy as np
from google.protobuf import json_format

import grpc_service_pb2 as pb
import grpc_service_pb2_grpc as pb_grpc

address, model, *images = sys.argv[1:]
channel = grpc.insecure_channel(address)
stub = pb_grpc.GRPCInferenceServiceStub(channel)
photos = [open(path, "rb").read() for path in images]


def as_dict(message):
    # what tritonclient's as_json=True gives
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def image_request(request_id, photos_in_batch, version=""):
    # InferInput("image", [n, 1], "BYTES").set_data_from_numpy(...): raw_input_contents, length-prefixed
    request = pb.ModelInferRequest(model_name=model, model_version=version, id=request_id)
    request.inputs.add(name="image", datatype="BYTES", shape=[len(photos_in_batch), 1])
    request.outputs.add(name="logits")
    request.raw_input_contents.append(b"".join(struct.pack("<I", len(p)) + p for p in photos_in_batch))
    return request


def logits(response):
    return np.frombuffer(response.raw_output_contents[0], dtype="<f4").tolist()


result = {"config": as_dict(stub.ModelConfig(pb.ModelConfigRequest(name=model, version=""), timeout=60).config)}
result["config_v1_same"] = as_dict(stub.ModelConfig(pb.ModelConfigRequest(name=model, version="1"),
                                                    timeout=60).config) == result["config"]
try:
    stub.ModelConfig(pb.ModelConfigRequest(name="no-such-model"), timeout=60)
    result["config_unknown"] = "OK"
except grpc.RpcError as e:
    result["config_unknown"] = e.code().name

result["stats_before"] = as_dict(stub.ModelStatistics(pb.ModelStatisticsRequest(name=model, version=""),
                                                      timeout=60).model_stats[0])

unary = stub.ModelInfer(image_request("u0", photos[:1]), timeout=60)
result["unary"] = logits(unary)

# the stream, as tritonclient's _InferStream runs it
requests = queue.Queue()
answers = []
done = threading.Event()


def request_iterator():
    while True:
        request = requests.get()
        if request is None:
            return
        yield request


def read_answers(responses):
    try:
        for response in responses:
            if response.error_message != "":
                answers.append({"error": response.error_message, "id": response.infer_response.id})
            else:
                answers.append({"id": response.infer_response.id, "logits": logits(response.infer_response),
                                "shape": list(response.infer_response.outputs[0].shape)})
    except grpc.RpcError as e:
        answers.append({"rpc_error": e.code().name, "details": e.details()})
    done.set()


responses = stub.ModelStreamInfer(request_iterator(), timeout=120)
reader = threading.Thread(target=read_answers, args=(responses,))
reader.start()
batches = [[0], [0, 1], [1, 0, 1]]
for i, batch in enumerate(batches):
    requests.put(image_request("s%d" % i, [photos[j % len(photos)] for j in batch]))
requests.put(image_request("bad-version", photos[:1], version="7"))
bad = image_request("bad-datatype", photos[:1])
bad.inputs[0].datatype = "INT32"
requests.put(bad)
requests.put(image_request("s3", photos[1 % len(photos):][:1]))
requests.put(None)
reader.join(120)
result["stream"] = answers
result["stream_batches"] = batches + [[1 % len(photos)]]

after = stub.ModelStatistics(pb.ModelStatisticsRequest(name=model, version="1"), timeout=60).model_stats[0]
result["stats_after"] = as_dict(after)
every = stub.ModelStatistics(pb.ModelStatisticsRequest(), timeout=60)
result["stats_models"] = [s.name for s in every.model_stats]
print(json.dumps(result))
