#!/usr/bin/python3
"""Expected logits of the tiny ViT for the backend tests (backend-onnx, backend-djl).

Runs testkit/fixtures/tiny-vit/model.pt (TorchScript) with PyTorch on a batch of
inputs that Java rebuilds exactly (small integers divided by 8 are exact in float32):

    x[n, c, h, w] = ((n*7 + c*13 + h*3 + w*5) % 17 - 8) / 8

and writes testkit/fixtures/backend/expected-logits.json.

Run with Debian's Python, which has torch:  /usr/bin/python3 testkit/tools/backend-expected.py
"""
import json
import re
import pathlib

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parents[1] / "fixtures"
MODEL = ROOT / "tiny-vit" / "model.pt"
CONFIG = ROOT / "tiny-vit" / "config.json"
OUT = ROOT / "backend" / "expected-logits.json"
BATCH = 3


def pixels(batch, channels, height, width):
    n, c, h, w = np.meshgrid(np.arange(batch), np.arange(channels), np.arange(height),
                             np.arange(width), indexing="ij")
    return (((n * 7 + c * 13 + h * 3 + w * 5) % 17 - 8) / 8.0).astype(np.float32)


def main():
    config = json.loads(CONFIG.read_text())
    size, channels = config["image_size"], config["num_channels"]
    x = torch.from_numpy(pixels(BATCH, channels, size, size))
    model = torch.jit.load(str(MODEL), map_location="cpu").eval()
    with torch.no_grad():
        logits = model(x)
    if isinstance(logits, (tuple, list)):
        logits = logits[0]
    result = {
        "model": "tiny-vit/model.pt",
        "torch": torch.__version__,
        "formula": "x[n,c,h,w] = ((n*7 + c*13 + h*3 + w*5) % 17 - 8) / 8",
        "shape": [BATCH, channels, size, size],
        "logits": [[round(float(v), 7) for v in row] for row in logits],
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=1)
    # one line per shape and per row of logits, for readable diffs
    text = re.sub(r"\[\s+([^\[\]]*?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text)
    OUT.write_text(text + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
