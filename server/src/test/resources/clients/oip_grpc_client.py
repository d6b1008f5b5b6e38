"""Calls vitserve's inference.GRPCInferenceService with Python's grpcio, through stubs that
grpc_tools generated from vitserve's grpc_service.proto, as a Triton or KServe user would.

Usage: python3 oip_grpc_client.py HOST:PORT MODEL TOKEN|- PREPROCESSOR_CONFIG IMAGE...
Prints one JSON object: health and metadata, per image the logits and the classification from
raw image bytes, the logits from FP32 tensors this script preprocessed itself (Pillow + numpy,
as transformers' ViTImageProcessor does) sent as raw contents and as typed contents, and the
status code and message of each kind of bad request.
"""
import json
import struct
import sys

import grpc
import numpy as np
from PIL import Image, ImageOps

import grpc_service_pb2 as pb
import grpc_service_pb2_grpc as pb_grpc

address, model, token, preprocessor_config, *images = sys.argv[1:]
metadata = [] if token == "-" else [("authorization", "Bearer " + token)]
channel = grpc.insecure_channel(
    address, options=[("grpc.max_receive_message_length", 64 << 20), ("grpc.max_send_message_length", 64 << 20)])
stub = pb_grpc.GRPCInferenceServiceStub(channel)


def call(method, request):
    return getattr(stub, method)(request, metadata=metadata, timeout=60)


def length_prefixed(elements):
    return b"".join(struct.pack("<I", len(e)) + e for e in elements)


def elements(raw):
    out, at = [], 0
    while at < len(raw):
        (n,) = struct.unpack_from("<I", raw, at)
        out.append(raw[at + 4:at + 4 + n].decode())
        at += 4 + n
    return out


def pixel_values(path, config):
    image = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    size = config.get("size", {"height": 224, "width": 224})
    image = image.resize((size["width"], size["height"]), resample=config.get("resample", 2))
    array = np.asarray(image).astype(np.float32) * np.float32(config.get("rescale_factor", 1 / 255))
    mean = np.array(config.get("image_mean", [0.5, 0.5, 0.5]), dtype=np.float32)
    std = np.array(config.get("image_std", [0.5, 0.5, 0.5]), dtype=np.float32)
    return ((array - mean) / std).transpose(2, 0, 1).astype(np.float32)


def infer_bytes(data, shape, datatype="BYTES", name="image", outputs=None, raw=None, model_name=model):
    request = pb.ModelInferRequest(model_name=model_name, id="py")
    request.inputs.add(name=name, datatype=datatype, shape=shape)
    for output in outputs or []:
        request.outputs.add().CopyFrom(output)
    request.raw_input_contents.append(raw if raw is not None else length_prefixed(data))
    return call("ModelInfer", request)


def classification(name, k):
    output = pb.ModelInferRequest.InferRequestedOutputTensor(name=name)
    output.parameters["classification"].int64_param = k
    return output


result = {
    "live": call("ServerLive", pb.ServerLiveRequest()).live,
    "ready": call("ServerReady", pb.ServerReadyRequest()).ready,
    "model_ready": call("ModelReady", pb.ModelReadyRequest(name=model, version="1")).ready}
server = call("ServerMetadata", pb.ServerMetadataRequest())
result["server"] = {"name": server.name, "extensions": list(server.extensions)}
meta = call("ModelMetadata", pb.ModelMetadataRequest(name=model))
result["metadata"] = {"name": meta.name, "versions": list(meta.versions), "platform": meta.platform,
                      "inputs": [[t.name, t.datatype, list(t.shape)] for t in meta.inputs],
                      "outputs": [[t.name, t.datatype, list(t.shape)] for t in meta.outputs]}

# encoded images, one request each, BYTES [1, 1] in raw_input_contents (as tritonclient sends them)
result["bytes"] = []
for path in images:
    answer = infer_bytes([open(path, "rb").read()], [1, 1],
                         outputs=[pb.ModelInferRequest.InferRequestedOutputTensor(name="logits"), classification("probabilities", 5)])
    assert [o.name for o in answer.outputs] == ["logits", "probabilities"], answer.outputs
    result["bytes"].append({"logits": np.frombuffer(answer.raw_output_contents[0], dtype="<f4").tolist(),
                            "top": elements(answer.raw_output_contents[1]),
                            "shapes": [list(o.shape) for o in answer.outputs], "id": answer.id,
                            "model_version": answer.model_version})

# preprocessed FP32 tensors: all images as one batch in raw contents, then one by one as typed contents
config = json.load(open(preprocessor_config))
batch = np.stack([pixel_values(path, config) for path in images])
request = pb.ModelInferRequest(model_name=model, model_version="1")
request.inputs.add(name="pixel_values", datatype="FP32", shape=list(batch.shape))
request.outputs.add(name="logits")
request.raw_input_contents.append(batch.astype("<f4").tobytes())
answer = call("ModelInfer", request)
result["tensors_raw"] = {"shape": list(answer.outputs[0].shape),
                         "logits": np.frombuffer(answer.raw_output_contents[0], dtype="<f4").tolist()}
result["tensors_typed"] = []
for tensor in batch:
    request = pb.ModelInferRequest(model_name=model)
    contents = pb.InferTensorContents(fp32_contents=tensor.ravel().tolist())
    request.inputs.add(name="pixel_values", datatype="FP32", shape=[1, *tensor.shape], contents=contents)
    answer = call("ModelInfer", request)
    result["tensors_typed"].append(np.frombuffer(answer.raw_output_contents[0], dtype="<f4").tolist())

# bad requests: each must be refused with a clear status, and the server must go on serving
image = open(images[0], "rb").read()
bad = {
    "wrong_datatype": lambda: infer_bytes([image], [1], datatype="INT32"),
    "wrong_shape": lambda: infer_bytes([image], [1, 2]),
    "product_mismatch": lambda: infer_bytes([image], [3]),
    "unknown_model": lambda: infer_bytes([image], [1], model_name="no/such-model"),
    "not_an_image": lambda: infer_bytes([b"this is not an image"], [1]),
    "length_past_data": lambda: infer_bytes(None, [1], raw=struct.pack("<I", len(image) + 50) + image),
    "unknown_input": lambda: infer_bytes([image], [1], name="INPUT0"),
    "bad_classification": lambda: infer_bytes([image], [1], outputs=[classification("logits", 0)]),
    "tensor_wrong_size": lambda: call("ModelInfer", pb.ModelInferRequest(model_name=model, inputs=[
        pb.ModelInferRequest.InferInputTensor(name="pixel_values", datatype="FP32", shape=[1, 3, 8, 8],
                                              contents=pb.InferTensorContents(fp32_contents=[0.0] * 192))])),
}
# not a ModelInferRequest at all: bytes that are no protobuf message
bad["not_a_message"] = lambda: channel.unary_unary("/inference.GRPCInferenceService/ModelInfer")(
    b"\xff\xff\xff", metadata=metadata, timeout=60)
# the repository calls manage models: off unless the server has an --admin-api-key
bad["repository_off"] = lambda: call("RepositoryIndex", pb.RepositoryIndexRequest())
result["errors"] = {}
for case, send in bad.items():
    try:
        send()
        result["errors"][case] = ["OK", ""]
    except grpc.RpcError as e:
        result["errors"][case] = [e.code().name, e.details()]
if metadata:
    try:
        stub.ServerMetadata(pb.ServerMetadataRequest(), timeout=60)
        result["errors"]["no_key"] = ["OK", ""]
    except grpc.RpcError as e:
        result["errors"]["no_key"] = [e.code().name, e.details()]
result["after_errors"] = np.frombuffer(infer_bytes([image], [1]).raw_output_contents[0], dtype="<f4").tolist()
print(json.dumps(result))
