#!/usr/bin/python3
"""Makes the reference tensors for vitserve's image-processor tests (ProcessorParityTest).

Run from the repository root with Debian's Python (Pillow 9.4, numpy):

    /usr/bin/python3 testkit/tools/make-processor-references.py

The reference is Hugging Face's *slow* image processors, whose resizing is Pillow's. transformers is
not installed here, so this tool carries its own transcription of the steps those processors run
(read from transformers' image_processing_*.py, image_transforms.py and image_processing_utils.py):
the size rules of get_size_dict and get_resize_output_image_size, Pillow's resize of the uint8 HWC
array, center_crop with its zero padding, rescale in float64 stored as float32, normalize in float32,
the channel flip, EfficientNet's offset and include_top, each class's defaults and order of steps.

It writes into core/src/test/resources/dev/vitserve/core/image/processors/:
  *.png            small lossless test images of odd sizes (made here; one is a crop of
                   testkit/fixtures/images/chelsea.png)
  reference.json   for every case (a preprocessor_config.json, an image): the tensor's shape and the
                   SHA-256 of its float32 little-endian bytes, the SHA-256 of the uint8 pixels after
                   the geometric steps (resize, crop: HWC, before any rescale), and a few sample values
"""

import hashlib
import json
import math
import os

import numpy as np
import PIL
from PIL import Image

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "core", "src", "test", "resources", "dev", "vitserve", "core", "image", "processors")
CHELSEA = os.path.join(ROOT, "testkit", "fixtures", "images", "chelsea.png")

IMAGENET_DEFAULT_MEAN = [0.485, 0.456, 0.406]
IMAGENET_DEFAULT_STD = [0.229, 0.224, 0.225]
IMAGENET_STANDARD = [0.5, 0.5, 0.5]
OPENAI_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
OPENAI_CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


# ---------------------------------------------------------------- images

def pattern(width, height, seed):
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:height, 0:width]
    r = (x * 255 // max(1, width - 1))
    g = (y * 255 // max(1, height - 1))
    b = (x * 11 + y * 5) % 256
    img = np.stack([r, g, b], axis=-1).astype(np.int32)
    img[: height // 3, : width // 4] = [240, 20, 40]
    img[height // 2:, width - width // 5:] = [10, 200, 30]
    img = img + rng.randint(-40, 41, size=img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def make_images():
    images = {
        "wide-61x43.png": Image.fromarray(pattern(61, 43, 1)),
        "tall-43x67.png": Image.fromarray(pattern(43, 67, 2)),
        "tiny-19x15.png": Image.fromarray(pattern(19, 15, 3)),
        "chelsea-151x101.png": Image.open(CHELSEA).convert("RGB").crop((150, 60, 301, 161)),
    }
    for name, image in images.items():
        image.save(os.path.join(OUT, name))
    return sorted(images)


# ---------------------------------------------------------------- Hugging Face's steps, transcribed

def size_dict(size, default_to_square):
    """get_size_dict: an int is a square or a shortest edge; a list is (height, width); a dict is kept."""
    if isinstance(size, dict):
        return size
    if isinstance(size, int):
        return {"height": size, "width": size} if default_to_square else {"shortest_edge": size}
    if isinstance(size, (list, tuple)):
        return {"height": size[0], "width": size[1]}
    raise ValueError(size)


def shortest_edge_size(height, width, edge):
    """get_resize_output_image_size(default_to_square=False): (height, width), the long side truncated."""
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = edge, int(edge * long / short)
    return (new_long, new_short) if width <= height else (new_short, new_long)


def pil_resize(array, height, width, resample):
    """image_transforms.resize on a uint8 HWC array: through a PIL image and back."""
    return np.array(Image.fromarray(array).resize((width, height), resample=resample))


def center_crop(array, crop_height, crop_width):
    """image_transforms.center_crop on an HWC array, with its zero padding for a crop larger than the image."""
    orig_height, orig_width = array.shape[:2]
    top = (orig_height - crop_height) // 2
    bottom = top + crop_height
    left = (orig_width - crop_width) // 2
    right = left + crop_width
    if top >= 0 and bottom <= orig_height and left >= 0 and right <= orig_width:
        return array[top:bottom, left:right]
    new_height = max(crop_height, orig_height)
    new_width = max(crop_width, orig_width)
    padded = np.zeros((new_height, new_width) + array.shape[2:], dtype=array.dtype)
    top_pad = math.ceil((new_height - orig_height) / 2)
    left_pad = math.ceil((new_width - orig_width) / 2)
    padded[top_pad:top_pad + orig_height, left_pad:left_pad + orig_width] = array
    top += top_pad
    bottom += top_pad
    left += left_pad
    right += left_pad
    return padded[max(0, top):min(new_height, bottom), max(0, left):min(new_width, right)]


def rescale(array, factor):
    return (array.astype(np.float64) * factor).astype(np.float32)


def normalize(array, mean, std):
    if not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float32)
    mean = np.array(mean if isinstance(mean, (list, tuple)) else [mean] * 3, dtype=array.dtype)
    std = np.array(std if isinstance(std, (list, tuple)) else [std] * 3, dtype=array.dtype)
    return (array - mean) / std


def get(config, key, default):
    return config[key] if key in config and config[key] is not None else default


def flag(config, key, default):
    return bool(config[key]) if key in config else default


def class_of(config):
    if "image_processor_type" in config:
        return config["image_processor_type"]
    if "feature_extractor_type" in config:
        return config["feature_extractor_type"].replace("FeatureExtractor", "ImageProcessor")
    return "ViTImageProcessor"


def preprocess(config, image):
    """The processor's preprocess on one RGB PIL image: (CHW float32 tensor, HWC uint8 after the geometry)."""
    kind = class_of(config)
    square = kind in ("ViTImageProcessor", "DeiTImageProcessor", "BeitImageProcessor", "EfficientNetImageProcessor")
    defaults = {
        "ViTImageProcessor": ({"height": 224, "width": 224}, 2, IMAGENET_STANDARD, IMAGENET_STANDARD, None),
        "DeiTImageProcessor": ({"height": 256, "width": 256}, 3, IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD, 224),
        "BeitImageProcessor": ({"height": 256, "width": 256}, 3, IMAGENET_STANDARD, IMAGENET_STANDARD, 224),
        "ConvNextImageProcessor": ({"shortest_edge": 384}, 3, IMAGENET_STANDARD, IMAGENET_STANDARD, None),
        "BitImageProcessor": ({"shortest_edge": 224}, 3, OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, 224),
        "CLIPImageProcessor": ({"shortest_edge": 224}, 3, OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, 224),
        "MobileViTImageProcessor": ({"shortest_edge": 224}, 2, None, None, 256),
        "EfficientNetImageProcessor": ({"height": 346, "width": 346}, 0, IMAGENET_STANDARD, IMAGENET_STANDARD, 289),
    }[kind]
    size = size_dict(get(config, "size", defaults[0]), square)
    resample = get(config, "resample", defaults[1])
    mean = get(config, "image_mean", defaults[2])
    std = get(config, "image_std", defaults[3])
    crop = size_dict(get(config, "crop_size", defaults[4]), True) if defaults[4] is not None else None
    do_resize = flag(config, "do_resize", True)
    do_crop = flag(config, "do_center_crop", kind != "EfficientNetImageProcessor") and crop is not None
    do_rescale = flag(config, "do_rescale", True)
    factor = get(config, "rescale_factor", 1 / 255)
    do_normalize = flag(config, "do_normalize", True) and kind != "MobileViTImageProcessor"

    array = np.array(image)  # to_numpy_array: uint8 HWC
    height, width = array.shape[:2]

    def resize_by_rule(a):
        h, w = a.shape[:2]
        if kind in ("ViTImageProcessor", "DeiTImageProcessor", "BeitImageProcessor", "EfficientNetImageProcessor"):
            return pil_resize(a, size["height"], size["width"], resample)
        if "shortest_edge" in size:
            return pil_resize(a, *shortest_edge_size(h, w, size["shortest_edge"]), resample)
        return pil_resize(a, size["height"], size["width"], resample)

    if kind == "ConvNextImageProcessor":
        if do_resize:
            edge = size["shortest_edge"]
            crop_pct = get(config, "crop_pct", 224 / 256)
            if edge < 384:
                array = pil_resize(array, *shortest_edge_size(height, width, int(edge / crop_pct)), resample)
                array = center_crop(array, edge, edge)
            else:
                array = pil_resize(array, edge, edge, resample)
        geometry = array
        if do_rescale:
            array = rescale(array, factor)
        if do_normalize:
            array = normalize(array, mean, std)
    elif kind == "MobileViTImageProcessor":
        if do_resize:
            array = resize_by_rule(array)
        if do_rescale:
            array = rescale(array, factor)
        if do_crop:
            array = center_crop(array, crop["height"], crop["width"])
        geometry = None
        if flag(config, "do_flip_channel_order", True):
            array = array[..., ::-1]
    else:
        if do_resize:
            array = resize_by_rule(array)
        if do_crop:
            array = center_crop(array, crop["height"], crop["width"])
        geometry = array
        if do_rescale:
            array = rescale(array, factor)
            if kind == "EfficientNetImageProcessor" and flag(config, "rescale_offset", False):
                array = array - 1
        if do_normalize:
            array = normalize(array, mean, std)
        if kind == "EfficientNetImageProcessor" and flag(config, "include_top", True):
            array = normalize(array, 0, std)
    tensor = np.ascontiguousarray(np.asarray(array).transpose(2, 0, 1)).astype(np.float32)
    return tensor, geometry


# ---------------------------------------------------------------- cases

FILTERS = [0, 1, 2, 3, 4, 5]


def configs():
    """(name, preprocessor_config.json) for each class, each filter and each crop setting, and odd settings."""
    out = []
    for r in FILTERS:
        out.append(("vit", {"image_processor_type": "ViTImageProcessor", "size": {"height": 37, "width": 50}, "resample": r}))
        out.append(("deit", {"image_processor_type": "DeiTImageProcessor", "size": {"height": 40, "width": 44},
                             "crop_size": {"height": 30, "width": 35}, "resample": r}))
        out.append(("deit-nocrop", {"image_processor_type": "DeiTImageProcessor", "size": {"height": 40, "width": 44},
                                    "do_center_crop": False, "resample": r}))
        out.append(("beit", {"image_processor_type": "BeitImageProcessor", "size": 41, "crop_size": 33, "resample": r,
                             "do_reduce_labels": True}))
        out.append(("beit-nocrop", {"image_processor_type": "BeitImageProcessor", "size": 41, "do_center_crop": False,
                                    "resample": r}))
        out.append(("convnext", {"image_processor_type": "ConvNextImageProcessor", "size": {"shortest_edge": 32},
                                 "crop_pct": 0.875, "resample": r}))
        out.append(("convnext-warp", {"image_processor_type": "ConvNextImageProcessor", "size": 384, "resample": r}))
        out.append(("bit", {"image_processor_type": "BitImageProcessor", "size": {"shortest_edge": 36},
                            "crop_size": {"height": 30, "width": 31}, "resample": r, "do_convert_rgb": True}))
        out.append(("bit-nocrop", {"image_processor_type": "BitImageProcessor", "size": {"shortest_edge": 36},
                                   "do_center_crop": False, "resample": r}))
        out.append(("clip", {"image_processor_type": "CLIPImageProcessor", "size": 33, "crop_size": 31, "resample": r}))
        out.append(("clip-nocrop", {"image_processor_type": "CLIPImageProcessor", "size": {"shortest_edge": 33,
                                    "longest_edge": 500}, "do_center_crop": False, "resample": r}))
        out.append(("mobilevit", {"image_processor_type": "MobileViTImageProcessor", "size": {"shortest_edge": 40},
                                  "crop_size": {"height": 36, "width": 34}, "resample": r}))
        out.append(("mobilevit-nocrop", {"image_processor_type": "MobileViTImageProcessor", "size": {"shortest_edge": 40},
                                         "do_center_crop": False, "resample": r}))
        out.append(("efficientnet", {"image_processor_type": "EfficientNetImageProcessor", "size": {"height": 41, "width": 39},
                                     "resample": r, "rescale_factor": 1 / 127.5, "rescale_offset": True,
                                     "do_center_crop": True, "crop_size": {"height": 31, "width": 32}}))
        out.append(("efficientnet-nocrop", {"image_processor_type": "EfficientNetImageProcessor",
                                            "size": {"height": 41, "width": 39}, "resample": r}))
    # crops larger than the resized image: zero padding, on one axis or both
    out.append(("deit-pad", {"image_processor_type": "DeiTImageProcessor", "size": {"height": 24, "width": 28},
                             "crop_size": {"height": 31, "width": 26}, "resample": 3}))
    out.append(("clip-pad", {"image_processor_type": "CLIPImageProcessor", "size": 20, "crop_size": {"height": 27, "width": 25}}))
    out.append(("mobilevit-pad", {"image_processor_type": "MobileViTImageProcessor", "size": 20,
                                  "crop_size": {"height": 29, "width": 23}}))
    out.append(("efficientnet-pad", {"image_processor_type": "EfficientNetImageProcessor", "size": {"height": 20, "width": 21},
                                     "do_center_crop": True, "crop_size": 25, "include_top": False}))
    # the flags
    out.append(("vit-noresize", {"image_processor_type": "ViTImageProcessor", "do_resize": False, "size": {"height": 43, "width": 61}}))
    out.append(("deit-noresize-crop", {"image_processor_type": "DeiTImageProcessor", "do_resize": False,
                                       "crop_size": {"height": 17, "width": 21}}))
    out.append(("vit-norescale", {"image_processor_type": "ViTImageProcessor", "size": 30, "do_rescale": False}))
    out.append(("vit-nonormalize", {"image_processor_type": "ViTImageProcessor", "size": 30, "do_normalize": False}))
    out.append(("vit-raw", {"image_processor_type": "ViTImageProcessor", "size": 30, "do_rescale": False,
                            "do_normalize": False}))
    out.append(("mobilevit-noflip", {"image_processor_type": "MobileViTImageProcessor", "size": 30, "crop_size": 28,
                                     "do_flip_channel_order": False}))
    out.append(("efficientnet-top-only", {"image_processor_type": "EfficientNetImageProcessor", "size": 30,
                                          "do_normalize": False}))
    out.append(("convnext-defaultpct", {"image_processor_type": "ConvNextImageProcessor", "size": {"shortest_edge": 29},
                                        "crop_pct": None, "resample": 2}))
    out.append(("clip-exact", {"image_processor_type": "CLIPImageProcessor", "size": {"height": 26, "width": 33}}))
    out.append(("legacy-deit", {"feature_extractor_type": "DeiTFeatureExtractor", "size": 40, "crop_size": 32, "resample": 3}))
    out.append(("legacy-vit-default", {"size": 45, "resample": 1}))
    out.append(("vit-listsize", {"image_processor_type": "ViTImageProcessor", "size": [23, 57], "image_mean": 0.3,
                                 "image_std": [0.2, 0.25, 0.3]}))
    return out


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def main():
    os.makedirs(OUT, exist_ok=True)
    images = make_images()
    cases = []
    for name, config in configs():
        for file in images:
            image = Image.open(os.path.join(OUT, file)).convert("RGB")
            if name in ("vit-noresize",) and image.size != (61, 43):
                continue
            if name == "deit-noresize-crop" and file not in ("wide-61x43.png", "tiny-19x15.png"):
                continue
            tensor, geometry = preprocess(config, image)
            flat = tensor.astype("<f4")
            samples = []
            rng = np.random.RandomState(len(cases))
            for _ in range(4):
                c, y, x = (rng.randint(0, n) for n in tensor.shape)
                samples.append([int(c), int(y), int(x), float(tensor[c, y, x])])
            case = {"name": name, "image": file, "config": config, "shape": list(tensor.shape),
                    "sha256_float32_le": sha256(flat.tobytes()), "samples": samples}
            if geometry is not None:
                case["sha256_geometry_uint8_hwc"] = sha256(np.ascontiguousarray(geometry).tobytes())
            cases.append(case)
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        # one case a line: small, and a diff shows which cases changed
        f.write('{"pillow": %s, "numpy": %s, "cases": [\n' % (json.dumps(PIL.__version__), json.dumps(np.__version__)))
        f.write(",\n".join(json.dumps(case, separators=(",", ":")) for case in cases))
        f.write("\n]}\n")
    print(len(cases), "cases,", len(images), "images into", OUT)


if __name__ == "__main__":
    main()
