#!/usr/bin/python3
"""Times Pillow's decode + resize + normalize, for vitserve's DecodeBenchmark to compare against.

Run with Debian's Python (it has Pillow 9.4 with libjpeg-turbo 2.1.5, and numpy):

    /usr/bin/python3 testkit/tools/pillow-preprocess-timer.py make DIR
        writes the benchmark images into DIR (made from the fixture photos, not committed):
        photo-600x400.jpg, photo-12mp.jpg (4000x3000) and photo-600x400.png

    /usr/bin/python3 testkit/tools/pillow-preprocess-timer.py serve
        reads lines "FILE N" on standard input; for each, times N rounds of what Hugging Face's
        ViTImageProcessor does to an upload (ImageOps.exif_transpose(Image.open(f)).convert("RGB"),
        resize((224, 224), BILINEAR), rescale in float64, normalize in float32, HWC to CHW)
        and answers one line with N "wall:cpu" pairs of milliseconds (cpu: this thread's CPU
        time, which other processes on a busy machine disturb less); "quit" ends it.
        A line "FILE N CONFIG" times instead the slow image processor a preprocessor_config.json
        names (any class make-processor-references.py transcribes: ViT, DeiT, BEiT, ConvNeXt, BiT,
        CLIP, MobileViT, EfficientNet), on the same opened, transposed, RGB image.

The file's bytes are read once, outside the timing (vitserve also gets them in memory).
"""

import importlib.util
import io
import json
import os
import sys
import time

import numpy as np
from PIL import Image, ImageOps

FIXTURES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
MEAN = np.array([0.5, 0.5, 0.5], dtype=np.float32)
STD = np.array([0.5, 0.5, 0.5], dtype=np.float32)


def make(folder):
    os.makedirs(folder, exist_ok=True)
    coffee = Image.open(os.path.join(FIXTURES, "images", "coffee.jpg")).convert("RGB")  # 600x400
    coffee.save(os.path.join(folder, "photo-600x400.jpg"), quality=90)
    coffee.save(os.path.join(folder, "photo-600x400.png"))
    # a camera-sized photo: upscaled, with sensor-like noise so it does not compress unrealistically well
    big = np.asarray(coffee.resize((4000, 3000), Image.BICUBIC), dtype=np.int16)
    noise = np.random.RandomState(12).normal(0, 6, big.shape).astype(np.int16)
    big = Image.fromarray(np.clip(big + noise, 0, 255).astype(np.uint8))
    big.save(os.path.join(folder, "photo-12mp.jpg"), quality=90)
    for name in sorted(os.listdir(folder)):
        print(name, os.path.getsize(os.path.join(folder, name)), "bytes")


def preprocess(data):
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    resized = image.resize((224, 224), Image.BILINEAR)
    rescaled = (np.asarray(resized).astype(np.float64) * (1 / 255)).astype(np.float32)
    normalized = (rescaled - MEAN) / STD
    return normalized.transpose(2, 0, 1)


def processors():
    """The transcription of Hugging Face's slow processors in make-processor-references.py."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "make-processor-references.py")
    spec = importlib.util.spec_from_file_location("processor_references", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def preprocess_with(module, config, data):
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    return module.preprocess(config, image)[0]


def serve():
    cache = {}
    module = None
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        path, rounds = words[0], int(words[1])
        if path not in cache:
            with open(path, "rb") as f:
                cache[path] = f.read()
        data = cache[path]
        work = preprocess
        if len(words) > 2:
            module = module or processors()
            with open(words[2]) as f:
                config = json.load(f)
            work = lambda d: preprocess_with(module, config, d)  # noqa: E731
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            c0 = time.thread_time()
            work(data)
            times.append("%.4f:%.4f" % ((time.perf_counter() - t0) * 1000, (time.thread_time() - c0) * 1000))
        print(" ".join(times), flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "make":
        make(sys.argv[2])
    elif len(sys.argv) == 2 and sys.argv[1] == "serve":
        serve()
    else:
        sys.exit(__doc__)
