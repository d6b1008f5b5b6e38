#!/usr/bin/env python3
"""The user's alternative to vitserve, for the benchmark: ViT-B/16 in plain PyTorch (Debian's python3-torch,
torchvision's VisionTransformer, the network vit-fixture.py makes) in fp32, in bf16 (the network cast with
.to(torch.bfloat16), as Hugging Face's torch_dtype=torch.bfloat16 loads it; torch.autocast("cpu", bfloat16)
fails in torch 1.13's fused multi-head attention, "expected scalar type BFloat16 but found Float", unless
autograd is left on), and dynamically quantized to int8 (torch.ao.quantization.quantize_dynamic on its
nn.Linear layers).

Driven over stdin/stdout by dev.vitserve.server.bench.HardwarePrecisionBenchmark so that its rounds alternate
with vitserve's in one run: prints "ready" once the three networks are built, then for each line
"<fp32|bf16|int8> <batch> <seconds>" runs that network on random batches for that long (at least twice) and
prints the images per second. --threads sets torch's intra-op threads.
"""
import argparse
import sys
import time

import torch
import torchvision


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--image-size", type=int, default=224)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    fp32 = torchvision.models.vit_b_16().eval()
    int8 = torch.ao.quantization.quantize_dynamic(torchvision.models.vit_b_16().eval(), {torch.nn.Linear},
                                                  dtype=torch.qint8)
    bf16 = torchvision.models.vit_b_16().eval().to(torch.bfloat16)
    networks = {"fp32": (fp32, torch.float32), "bf16": (bf16, torch.bfloat16), "int8": (int8, torch.float32)}
    print("ready torch %s, %d threads" % (torch.__version__, torch.get_num_threads()), flush=True)
    for line in sys.stdin:
        mode, batch, seconds = line.split()
        network, dtype = networks[mode]
        x = torch.randn(int(batch), 3, args.image_size, args.image_size).to(dtype)
        runs = 0
        with torch.inference_mode():
            network(x)  # warm
            start = time.perf_counter()
            while time.perf_counter() - start < float(seconds) or runs < 1:
                network(x)
                runs += 1
        print("%.4f" % (runs * int(batch) / (time.perf_counter() - start)), flush=True)


if __name__ == "__main__":
    main()
