#!/usr/bin/python3
"""Reference explanations (attention rollout and occlusion) of a fixture model, computed in PyTorch.

The network is Hugging Face's, as testkit/tools/hf-vision-port.py ports it (DeiT, DINOv2, BEiT), plus a ViT
(modeling_vit.py: the DeiT port's layers with one class token), loaded from the fixture's own model.safetensors under
Hugging Face's parameter names. Attention probabilities are recorded where the port's eager attention computes them
(its torch.softmax calls).

Attention rollout (Abnar and Zuidema 2020): per layer A = the attention probabilities averaged over the heads;
A' = A + I with each row renormalized to sum 1; the rollout is A'_L ... A'_1; the answer is the class token's row over
the patch tokens (class, distillation and register tokens dropped), in the patch grid's row-major order. "scaled" is
that row divided by its largest value.

Occlusion: for a grid of rows x cols cells over the model's input (cell (i, j) covers tensor rows
[floor(i*H/rows), floor((i+1)*H/rows)) and columns likewise), the cell set to the processor's mean (0 after
normalization), and the drop of the target's softmax probability from the unmasked image's; the target is the
unmasked top-1. "scaled" clamps negative drops to 0 and divides by the largest.

Writes OUT/explain-reference.json (default: the fixture folder): per photo of --images the rollout, the occlusion
on the patch grid, and the top-1; under "pixels", the rollout of the synthetic batch the backend tests build.

    /usr/bin/python3 testkit/tools/explain-reference.py testkit/fixtures/deit-shape --images testkit/fixtures/images
"""
import argparse
import importlib.util
import json
import os
import struct

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("hf_vision_port", os.path.join(HERE, "hf-vision-port.py"))
port = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(port)


class ViTEmbeddings(nn.Module):
    """cls token, patches, plus the learned position embeddings (num_patches + 1)."""

    def __init__(self, config):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, config.hidden_size))
        self.patch_embeddings = port.PatchEmbeddings(config)
        self.position_embeddings = nn.Parameter(
            torch.zeros(1, self.patch_embeddings.num_patches + 1, config.hidden_size))

    def forward(self, pixel_values):
        x = self.patch_embeddings(pixel_values)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        return x + self.position_embeddings


class ViTModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embeddings = ViTEmbeddings(config)
        self.encoder = port.Encoder(config, port.DeiTLayer)
        self.layernorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, pixel_values):
        return self.layernorm(self.encoder(self.embeddings(pixel_values)))


class ViTForImageClassification(nn.Module):
    """modeling_vit.py: the classifier on the final-layernormed class token."""

    def __init__(self, config):
        super().__init__()
        self.vit = ViTModel(config)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, pixel_values):
        embedding = self.vit(pixel_values)[:, 0, :]
        return self.classifier(embedding), embedding


CLASSES = dict(port.CLASSES, ViTForImageClassification=ViTForImageClassification)


def read_safetensors(path):
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = {"F32": "<f4", "I64": "<i8"}[info["dtype"]]
        tensors[name] = torch.from_numpy(np.frombuffer(data[start:end], dtype=dtype).reshape(info["shape"]).copy())
    return tensors


def load(folder):
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(folder, "preprocessor_config.json")) as f:
        pre = json.load(f)
    kw = dict(config)
    kw["architecture"] = config["architectures"][0]
    kw["num_labels"] = len(config["id2label"])
    kw.setdefault("num_channels", 3)
    kw.setdefault("qkv_bias", True)
    kw["size"] = (pre["size"]["height"], pre["size"]["width"])
    c = port.Config(**kw)
    model = CLASSES[c.architecture](c).eval()
    tensors = read_safetensors(os.path.join(folder, "model.safetensors"))
    model.load_state_dict(tensors, strict=True)
    labels = [config["id2label"][str(i)] for i in range(c.num_labels)]
    return c, pre, model, labels


class Recorder:
    """Records every attention softmax of a forward pass (the port's attention is its only torch.softmax call)."""

    def __init__(self):
        self.weights = []
        self.original = torch.softmax

    def __enter__(self):
        def recording(*args, **kwargs):
            result = self.original(*args, **kwargs)
            self.weights.append(result)
            return result
        torch.softmax = recording
        return self

    def __exit__(self, *exc):
        torch.softmax = self.original


def rollout(model, x, patches):
    """Per image, the class token's row of the rollout over the last `patches` tokens; and the logits."""
    with Recorder() as recorder:
        logits, _ = model(x)
    result = None
    for weights in recorder.weights:
        a = weights.double().mean(dim=1)
        a = a + torch.eye(a.shape[-1], dtype=a.dtype)
        a = a / a.sum(dim=-1, keepdim=True)
        result = a if result is None else torch.matmul(a, result)
    return result[:, 0, -patches:], logits


def occlusion(model, x, rows, cols, target):
    """The drop of the target's probability when each cell is set to 0 (the processor's mean after normalization)."""
    _, _, h, w = x.shape
    masked = []
    for i in range(rows):
        for j in range(cols):
            m = x.clone()
            m[:, :, (i * h) // rows:((i + 1) * h) // rows, (j * w) // cols:((j + 1) * w) // cols] = 0.0
            masked.append(m)
    logits, _ = model(x)
    base = torch.softmax(logits.double(), -1)[0, target]
    masked_logits, _ = model(torch.cat(masked))
    return base - torch.softmax(masked_logits.double(), -1)[:, target]


def scaled(values, clamp):
    v = np.maximum(values, 0.0) if clamp else np.asarray(values)
    top = v.max()
    return (v / top if top > 0 else np.zeros_like(v)).tolist()


def rounded(values):
    return [round(float(v), 7) for v in values]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder")
    p.add_argument("--images", required=True)
    p.add_argument("--out")
    p.add_argument("--occlusion-photos", type=int, default=3, help="how many photos (in name order) get occlusion")
    args = p.parse_args()
    c, pre, model, labels = load(args.folder)
    assert pre.get("do_normalize", True), "occlusion here sets cells to 0, the mean after normalization"
    rows, cols = c.size[0] // c.patch_size, c.size[1] // c.patch_size
    patches = rows * cols
    ref = {"method": __doc__.split("\n\n")[1:3], "grid": [rows, cols], "images": {}}
    with torch.no_grad():
        x = port.pixels(3, c.num_channels, c.size[0], c.size[1])
        values, _ = rollout(model, x, patches)
        ref["pixels"] = {"formula": "((n*7 + c*13 + h*3 + w*5) % 17 - 8) / 8", "images": 3,
                         "rollout": [rounded(row) for row in values.tolist()]}
        names = [n for n in sorted(os.listdir(args.images)) if not os.path.isdir(os.path.join(args.images, n))]
        for k, name in enumerate(names):
            x = port.preprocess(os.path.join(args.images, name), c.size, pre["image_mean"], pre["image_std"])
            values, logits = rollout(model, x, patches)
            probs = torch.softmax(logits[0].double(), -1)
            top = int(torch.argmax(probs))
            entry = {"top": {"label": labels[top], "index": top, "score": round(float(probs[top]), 7)},
                     "logits": rounded(logits[0].tolist()),
                     "rollout": {"values": rounded(values[0].tolist()), "scaled": rounded(scaled(values[0].numpy(), False))}}
            if k < args.occlusion_photos:
                drops = occlusion(model, x, rows, cols, top).numpy()
                entry["occlusion"] = {"target": top, "values": rounded(drops), "scaled": rounded(scaled(drops, True))}
            ref["images"][name] = entry
    out = args.out or args.folder
    with open(os.path.join(out, "explain-reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
    old = os.path.join(args.folder, "reference.json")
    if os.path.exists(old):
        with open(old) as f:
            known = json.load(f)["images"]
        worst = max(abs(a - b) for name, e in ref["images"].items() if name in known
                    for a, b in zip(e["logits"], known[name]["logits"]))
        print(f"{args.folder}: logits within {worst:.2e} of reference.json")
    print(f"wrote {out}/explain-reference.json: {c.architecture}, grid {rows}x{cols}, {len(ref['images'])} photos")


if __name__ == "__main__":
    main()
