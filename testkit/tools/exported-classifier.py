#!/usr/bin/python3
"""Random-weight image classifiers of architectures vitserve does not build, exported to ONNX in Optimum's layout.

vitserve serves any other image classifier from its ONNX export: onnx/model.onnx (input pixel_values, output
logits) beside config.json (labels) and preprocessor_config.json. This makes such folders, small enough to commit:

    convnext-exported  torchvision's ConvNeXt structure (stem 4x4/4, CNBlocks: 7x7 depthwise conv, LayerNorm, MLP x4
                       with GELU, layer scale; LayerNorm2d + 2x2/2 downsampling; avgpool, LayerNorm, Linear) at small
                       width; config.json says ConvNextForImageClassification. Exported as Optimum does: every axis of
                       pixel_values dynamic (batch_size, num_channels, height, width).
    resnet-exported    a port of Hugging Face's modeling_resnet.py (ResNetEmbeddings 7x7/2 conv + BN + ReLU + 3x3/2
                       max pool, ResNetBasicLayer stages with ResNetShortCut 1x1 conv + BN, adaptive average pool,
                       Flatten + Linear), module names as Hugging Face's; config.json says ResNetForImageClassification.
                       Exported with only the batch axis dynamic, so its fixed height and width are checked at load.

Writes into OUT: config.json, preprocessor_config.json (a ViTImageProcessor config: resize to size height/width with
resample 2 (BILINEAR), rescale, ImageNet normalize: the processor vitserve supports today), onnx/model.onnx (torch.onnx,
opset 17) and reference.json: per photo of --images the logits and softmax top 5 PyTorch computes on the tensor Pillow
makes as Hugging Face's pipeline does (the preprocessing of hf-vision-port.py).

Run with Debian's Python (python3-torch, python3-torchvision, python3-pil, python3-numpy; python3-onnx not needed):
    for p in convnext-exported resnet-exported; do
      /usr/bin/python3 testkit/tools/exported-classifier.py --preset $p --out testkit/fixtures/$p \
          --images testkit/fixtures/images
    done
"""
import argparse
import importlib.util
import json
import math
import os

import torch
from torch import nn
from torchvision.models.convnext import CNBlockConfig, ConvNeXt

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("hf_vision_port", os.path.join(HERE, "hf-vision-port.py"))
port = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(port)

PRESETS = {
    # 48x40 (not square): 12x10 after the stem, then 6x5 and 3x2; widths 16, 32, 48; depths 1, 2, 1; 7 labels
    "convnext-exported": dict(architecture="ConvNextForImageClassification", model_type="convnext",
                              hidden_sizes=[16, 32, 48], depths=[1, 2, 1], num_labels=7, size=(48, 40), seed=21,
                              dynamic="optimum"),
    # 56x56: 14x14 after the stem; basic layers, widths 8, 16, 24, 32, depths 1, 2, 1, 1; 6 labels
    "resnet-exported": dict(architecture="ResNetForImageClassification", model_type="resnet", embedding_size=8,
                            hidden_sizes=[8, 16, 24, 32], depths=[1, 2, 1, 1], layer_type="basic", num_labels=6,
                            size=(56, 56), seed=22, dynamic="batch"),
}


# ---------------------------------------------------------------- Hugging Face's ResNet (modeling_resnet.py)

class ResNetConvLayer(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, activation=True):
        super().__init__()
        self.convolution = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2,
                                     bias=False)
        self.normalization = nn.BatchNorm2d(out_channels)
        self.activation = nn.ReLU() if activation else nn.Identity()

    def forward(self, x):
        return self.activation(self.normalization(self.convolution(x)))


class ResNetEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embedder = ResNetConvLayer(3, c.embedding_size, kernel_size=7, stride=2)
        self.pooler = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def forward(self, x):
        return self.pooler(self.embedder(x))


class ResNetShortCut(nn.Module):
    def __init__(self, in_channels, out_channels, stride=2):
        super().__init__()
        self.convolution = nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False)
        self.normalization = nn.BatchNorm2d(out_channels)

    def forward(self, x):
        return self.normalization(self.convolution(x))


class ResNetBasicLayer(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        apply = in_channels != out_channels or stride != 1
        self.shortcut = ResNetShortCut(in_channels, out_channels, stride=stride) if apply else nn.Identity()
        self.layer = nn.Sequential(ResNetConvLayer(in_channels, out_channels, stride=stride),
                                   ResNetConvLayer(out_channels, out_channels, activation=False))
        self.activation = nn.ReLU()

    def forward(self, x):
        return self.activation(self.layer(x) + self.shortcut(x))


class ResNetStage(nn.Module):
    def __init__(self, in_channels, out_channels, stride=2, depth=2):
        super().__init__()
        self.layers = nn.Sequential(ResNetBasicLayer(in_channels, out_channels, stride=stride),
                                    *[ResNetBasicLayer(out_channels, out_channels) for _ in range(depth - 1)])

    def forward(self, x):
        return self.layers(x)


class ResNetEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        # downsample_in_first_stage false: the first stage keeps the pooled size
        self.stages = nn.ModuleList([ResNetStage(c.embedding_size, c.hidden_sizes[0], stride=1, depth=c.depths[0])])
        for (i, o), depth in zip(zip(c.hidden_sizes, c.hidden_sizes[1:]), c.depths[1:]):
            self.stages.append(ResNetStage(i, o, depth=depth))

    def forward(self, x):
        for stage in self.stages:
            x = stage(x)
        return x


class ResNetModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embedder = ResNetEmbeddings(c)
        self.encoder = ResNetEncoder(c)
        self.pooler = nn.AdaptiveAvgPool2d((1, 1))

    def forward(self, x):
        return self.pooler(self.encoder(self.embedder(x)))


class ResNetForImageClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.resnet = ResNetModel(c)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(c.hidden_sizes[-1], c.num_labels))

    def forward(self, pixel_values):
        return self.classifier(self.resnet(pixel_values))


def convnext(c):
    widths = c.hidden_sizes
    setting = [CNBlockConfig(w, widths[i + 1] if i + 1 < len(widths) else None, d)
               for i, (w, d) in enumerate(zip(widths, c.depths))]
    return ConvNeXt(setting, stochastic_depth_prob=0.0, layer_scale=1.0, num_classes=c.num_labels)


def randomize(model, logit_scale):
    """Every parameter and BatchNorm statistic random: conv and linear weights ~ N(0, 1/fan_in) (the last Linear
    scaled so logits spread), norm weights around 1, biases small, layer scales in [0.5, 1.5]."""
    with torch.no_grad():
        linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
        head = linears[-1].weight
        for name, p in model.named_parameters():
            if p is head:
                p.copy_(logit_scale * torch.randn_like(p) / math.sqrt(p[0].numel()))
            elif name.endswith("layer_scale"):
                p.copy_(0.5 + torch.rand_like(p))
            elif p.dim() >= 2:
                p.copy_(torch.randn_like(p) / math.sqrt(p[0].numel()))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn_like(p))
            else:
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(0.1 * torch.randn_like(m.running_mean))
                m.running_var.copy_(0.5 + torch.rand_like(m.running_var))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=sorted(PRESETS), required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--images", help="folder of photos to compute reference outputs for")
    p.add_argument("--mean", type=float, nargs=3, default=[0.485, 0.456, 0.406])
    p.add_argument("--std", type=float, nargs=3, default=[0.229, 0.224, 0.225])
    p.add_argument("--logit-scale", type=float, default=3.0)
    p.add_argument("--top-k", type=int, default=5)
    args = p.parse_args()
    c = port.Config(**PRESETS[args.preset])
    torch.manual_seed(c.seed)
    model = (convnext(c) if c.model_type == "convnext" else ResNetForImageClassification(c)).eval()
    randomize(model, args.logit_scale)
    os.makedirs(os.path.join(args.out, "onnx"), exist_ok=True)

    labels = port.DEMO_LABELS[:c.num_labels]
    config = {"architectures": [c.architecture], "model_type": c.model_type, "num_channels": 3,
              "hidden_sizes": c.hidden_sizes, "depths": c.depths, "hidden_act": "gelu" if c.model_type == "convnext"
              else "relu"}
    if c.model_type == "resnet":
        config.update({"embedding_size": c.embedding_size, "layer_type": c.layer_type,
                       "downsample_in_first_stage": False})
    config.update({"id2label": {str(i): l for i, l in enumerate(labels)},
                   "label2id": {l: i for i, l in enumerate(labels)}, "torch_dtype": "float32"})
    pre = {"image_processor_type": "ViTImageProcessor", "do_resize": True,
           "size": {"height": c.size[0], "width": c.size[1]}, "resample": 2, "do_rescale": True,
           "rescale_factor": 1 / 255, "do_normalize": True, "image_mean": args.mean, "image_std": args.std}
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(args.out, "preprocessor_config.json"), "w") as f:
        json.dump(pre, f, indent=2)

    dummy = torch.zeros(2, 3, c.size[0], c.size[1])
    axes = {0: "batch_size", 1: "num_channels", 2: "height", 3: "width"} if c.dynamic == "optimum" else {0: "batch_size"}
    torch.onnx.export(model, dummy, os.path.join(args.out, "onnx", "model.onnx"), opset_version=17,
                      input_names=["pixel_values"], output_names=["logits"],
                      dynamic_axes={"pixel_values": axes, "logits": {0: "batch_size"}}, do_constant_folding=True)

    ref = {"top_k": args.top_k, "images": {}}
    with torch.no_grad():
        for name in sorted(os.listdir(args.images)) if args.images else []:
            path = os.path.join(args.images, name)
            if os.path.isdir(path):
                continue
            logits = model(port.preprocess(path, c.size, args.mean, args.std))[0].double()
            probs = torch.softmax(logits, -1)
            top = torch.topk(probs, min(args.top_k, c.num_labels))
            ref["images"][name] = {
                "logits": port.rounded(logits.tolist()),
                "top": [{"label": labels[i], "index": i, "score": round(s, 7)}
                        for s, i in zip(top.values.tolist(), top.indices.tolist())],
            }
    with open(os.path.join(args.out, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
    params = sum(t.numel() for t in model.parameters())
    print(f"wrote {args.out}: {c.architecture}, {params} parameters, {c.size[0]}x{c.size[1]}, {c.num_labels} labels")


if __name__ == "__main__":
    main()
