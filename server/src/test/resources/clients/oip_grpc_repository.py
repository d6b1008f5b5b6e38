"""Manages vitserve's models over gRPC with Python's grpcio, as a Triton user would: the model
repository calls of inference.GRPCInferenceService (RepositoryIndex, RepositoryModelLoad,
RepositoryModelUnload), through stubs grpc_tools generated from vitserve's grpc_service.proto.

Usage: python3 oip_grpc_repository.py HOST:PORT API_KEY ADMIN_KEY REPOSITORY_NAME IMAGE
The server serves the default model tiny-vit and the repository's folders shape-a and shape-b.
Prints one JSON object: the index at each step, the logits of shape-b after it is loaded again,
how many requests to shape-a failed while it was reloaded, and the status and message of each kind
of refused call.
"""
import json
import struct
import sys
import threading

import grpc
import numpy as np

import grpc_service_pb2 as pb
import grpc_service_pb2_grpc as pb_grpc

address, api_key, admin_key, repository, image_path = sys.argv[1:]
channel = grpc.insecure_channel(address, options=[("grpc.max_receive_message_length", 64 << 20)])
stub = pb_grpc.GRPCInferenceServiceStub(channel)
api = [("authorization", "Bearer " + api_key)]
admin = [("authorization", "Bearer " + admin_key)]
image = open(image_path, "rb").read()


def index(ready=False, name=""):
    answer = stub.RepositoryIndex(pb.RepositoryIndexRequest(repository_name=name, ready=ready), metadata=admin, timeout=60)
    return {m.name: [m.version, m.state, m.reason] for m in answer.models}


def load(model, config=None, metadata=admin, name="", parameters=None):
    request = pb.RepositoryModelLoadRequest(repository_name=name, model_name=model)
    if config is not None:
        request.parameters["config"].string_param = config
    for key, value in (parameters or {}).items():
        request.parameters[key].CopyFrom(value)
    return stub.RepositoryModelLoad(request, metadata=metadata, timeout=120)


def unload(model, metadata=admin):
    return stub.RepositoryModelUnload(pb.RepositoryModelUnloadRequest(model_name=model), metadata=metadata, timeout=120)


def logits(model):
    request = pb.ModelInferRequest(model_name=model)
    request.inputs.add(name="image", datatype="BYTES", shape=[1])
    request.outputs.add(name="logits")
    request.raw_input_contents.append(struct.pack("<I", len(image)) + image)
    answer = stub.ModelInfer(request, metadata=api, timeout=60)
    return np.frombuffer(answer.raw_output_contents[0], dtype="<f4").tolist()


def status(call):
    try:
        call()
        return ["OK", ""]
    except grpc.RpcError as e:
        return [e.code().name, e.details()]


result = {"extensions": list(stub.ServerMetadata(pb.ServerMetadataRequest(), metadata=api, timeout=60).extensions),
          "index_at_start": index(), "index_by_repository_name": index(name=repository)}

unload("shape-b")
result["index_after_unload"] = index()
result["ready_index_after_unload"] = index(ready=True)
result["infer_after_unload"] = status(lambda: logits("shape-b"))

load("shape-b", config=json.dumps({"threads": 1, "max-batch": 2}))
result["index_after_load"] = index()
result["shape_b_logits"] = logits("shape-b")

# a load of a model loaded is a reload: requests to it go on being answered while it runs
failures, answered, stop = [], [0], threading.Event()


def keep_asking():
    while not stop.is_set():
        try:
            logits("shape-a")
            answered[0] += 1
        except grpc.RpcError as e:
            failures.append(e.code().name)


clients = [threading.Thread(target=keep_asking) for _ in range(2)]
for client in clients:
    client.start()
load("shape-a")
stop.set()
for client in clients:
    client.join()
result["reload"] = {"answered": answered[0], "failed": failures, "state": index()["shape-a"][1]}

file_parameter = pb.ModelRepositoryParameter(bytes_param=b"onnx bytes")
refusals = {
    "no_key": lambda: stub.RepositoryIndex(pb.RepositoryIndexRequest(), timeout=60),
    "api_key_only": lambda: stub.RepositoryIndex(pb.RepositoryIndexRequest(), metadata=api, timeout=60),
    "wrong_key": lambda: unload("shape-a", metadata=[("authorization", "Bearer not-the-admin-key-at-all")]),
    "unknown_folder": lambda: load("nope"),
    "traversal": lambda: load("../" + repository + "/shape-a"),
    "unknown_repository": lambda: load("shape-a", name="other-repository"),
    "empty_name": lambda: load(""),
    "config_not_json": lambda: load("shape-a", config="{threads: 2"),
    "config_sets_model": lambda: load("shape-a", config=json.dumps({"model": "/etc"})),
    "config_bad_value": lambda: load("shape-a", config=json.dumps({"threads": -3})),
    "config_too_long": lambda: load("shape-a", config=json.dumps({"revision": "x" * 100_000})),
    "config_not_a_string": lambda: load("shape-a", parameters={"config": pb.ModelRepositoryParameter(int64_param=2)}),
    "file_parameter": lambda: load("shape-a", parameters={"file:1/model.onnx": file_parameter}),
    "unload_unknown": lambda: unload("nope"),
    "unload_default": lambda: unload("tiny-vit"),
}
result["errors"] = {case: status(call) for case, call in refusals.items()}
result["index_at_end"] = index()
result["tiny_vit_logits"] = logits("tiny-vit")
print(json.dumps(result))
