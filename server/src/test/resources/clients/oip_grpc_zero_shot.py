"""Calls a zero-shot model (CLIP) through vitserve's inference.GRPCInferenceService with Python's grpcio, through
stubs grpc_tools generated from vitserve's grpc_service.proto, as a Triton or KServe user would.

Usage: python3 oip_grpc_zero_shot.py HOST:PORT MODEL LABELS_JSON TEMPLATE IMAGE...
Prints one JSON object: the model's metadata (inputs, outputs), per image the four outputs of an image + text
request (raw image bytes, the labels as BYTES text typed contents, the template as a request parameter), the
text_embeds of a text-only request (raw contents), and the status of bad requests.
"""
import json
import struct
import sys

import grpc
import numpy as np

import grpc_service_pb2 as pb
import grpc_service_pb2_grpc as pb_grpc

address, model, labels, template, *images = sys.argv[1:]
labels = json.loads(labels)
stub = pb_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(address))


def length_prefixed(elements):
    return b"".join(struct.pack("<I", len(e)) + e for e in elements)


def tensors(response):
    out = {}
    for output, raw in zip(response.outputs, response.raw_output_contents):
        assert output.datatype == "FP32", output.datatype
        out[output.name] = {"shape": list(output.shape),
                            "data": np.frombuffer(raw, dtype="<f4").reshape(list(output.shape)).tolist()}
    return out


def request(image=None, texts=None, outputs=()):
    message = pb.ModelInferRequest(model_name=model, id="zs")
    if template != "-":
        message.parameters["hypothesis_template"].string_param = template
    if image is not None:
        message.inputs.add(name="image", datatype="BYTES", shape=[1]).contents.bytes_contents.append(image)
    if texts is not None:
        tensor = message.inputs.add(name="text", datatype="BYTES", shape=[len(texts)])
        tensor.contents.bytes_contents.extend(t.encode("utf-8") for t in texts)
    for name in outputs:
        message.outputs.add(name=name)
    return message


def status(message):
    try:
        stub.ModelInfer(message, timeout=60)
        return {"code": "OK"}
    except grpc.RpcError as e:
        return {"code": e.code().name, "message": e.details()}


metadata = stub.ModelMetadata(pb.ModelMetadataRequest(name=model), timeout=60)
answer = {
    "inputs": [{"name": t.name, "datatype": t.datatype, "shape": list(t.shape)} for t in metadata.inputs],
    "outputs": [{"name": t.name, "datatype": t.datatype, "shape": list(t.shape)} for t in metadata.outputs],
    "images": [],
}
for path in images:
    with open(path, "rb") as f:
        answer["images"].append(tensors(stub.ModelInfer(request(f.read(), labels), timeout=60)))
# text alone, the labels as raw contents
text_only = pb.ModelInferRequest(model_name=model)
if template != "-":
    text_only.parameters["hypothesis_template"].string_param = template
text_only.inputs.add(name="text", datatype="BYTES", shape=[len(labels), 1])
text_only.raw_input_contents.append(length_prefixed([t.encode("utf-8") for t in labels]))
answer["text_only"] = tensors(stub.ModelInfer(text_only, timeout=60))
answer["bad"] = {
    "too_many_labels": status(request(texts=["x"] * 101)),
    "label_too_long": status(request(texts=["x" * 301])),
    "probabilities_without_an_image": status(request(texts=["cat"], outputs=["probabilities"])),
}
print(json.dumps(answer))
