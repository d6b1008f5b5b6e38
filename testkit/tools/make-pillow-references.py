#!/usr/bin/python3
"""Makes the Pillow reference data for vitserve's image decoding and preprocessing tests.

Run from the repository root with Debian's Python (it has Pillow, numpy):

    /usr/bin/python3 testkit/tools/make-pillow-references.py

It also needs cjpeg from libjpeg-turbo (apt-get install libjpeg-turbo-progs) for JPEG variants
Pillow cannot write (4:4:0, 4:1:1 and 3x1 chroma, arithmetic coding, RGB JPEG, restart markers).

It writes
  testkit/fixtures/images-extra/   small synthetic images made with Pillow (and a few PNG/GIF
                                   files written byte by byte for what Pillow cannot save)
  testkit/fixtures/pillow/reference.json
                                   for every photo in images/ and every file in images-extra/:
                                   size and SHA-256 of ImageOps.exif_transpose(open(f)).convert("RGB"),
                                   and of its 224x224 BILINEAR resize; digests of awkward resizes;
                                   SHA-256 of whole CHW float32 tensors made the way Hugging Face's
                                   ViTImageProcessor makes them
  testkit/fixtures/pillow/expected/ Pillow's RGB result of each synthetic image as a PNG, so a
                                   failing test can say how many bytes differ (and to measure the
                                   lossy WebP tolerance)

The references hold for Pillow 9.4 with libjpeg-turbo 2.1 and libwebp 1.2 (Debian 12).
"""

import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import zlib

import numpy as np
import PIL
from PIL import Image, ImageOps, PngImagePlugin, features

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
PHOTOS = os.path.join(ROOT, "images")
EXTRA = os.path.join(ROOT, "images-extra")
OUT = os.path.join(ROOT, "pillow")
EXPECTED = os.path.join(OUT, "expected")


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- synthetic images

def pattern(width, height, seed):
    """A non-symmetric RGB test picture: gradients, a bright corner block and a little noise."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:height, 0:width]
    r = (x * 255 // max(1, width - 1)).astype(np.int32)
    g = (y * 255 // max(1, height - 1)).astype(np.int32)
    b = ((x * 7 + y * 13) % 256).astype(np.int32)
    img = np.stack([r, g, b], axis=-1)
    img[: height // 4, : width // 3] = [250, 30, 30]  # red block in the top-left corner only
    img[height - 3 :, width // 2 :] = [20, 20, 220]  # blue band at the bottom right
    img = img + rng.randint(-12, 13, size=img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def write_png(path, samples, color_type, bit_depth):
    """Writes a PNG byte by byte (Pillow cannot save 16-bit RGB): samples is HxWxC uint8 or uint16."""
    height, width = samples.shape[:2]
    dtype = ">u2" if bit_depth == 16 else "u1"
    rows = samples.astype(dtype).reshape(height, -1)
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def write_bmp16(path, rgb, five_six_five):
    """Writes a 16-bit BMP byte by byte (Pillow cannot save one): 5-6-5 with BI_BITFIELDS, or 5-5-5 with BI_RGB."""
    height, width = rgb.shape[:2]
    r, g, b = (rgb[..., i].astype(np.uint16) for i in range(3))
    if five_six_five:
        pixels = ((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3)
    else:
        pixels = ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3)
    row_bytes = (width * 2 + 3) & ~3
    rows = b"".join(pixels[y].astype("<u2").tobytes().ljust(row_bytes, b"\0") for y in range(height - 1, -1, -1))
    masks = struct.pack("<III", 0xF800, 0x07E0, 0x001F) if five_six_five else b""
    offset = 14 + 40 + len(masks)
    header = struct.pack("<2sIHHI", b"BM", offset + len(rows), 0, 0, offset)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 16, 3 if five_six_five else 0, len(rows), 2835, 2835, 0, 0)
    with open(path, "wb") as f:
        f.write(header + info + masks + rows)


def exif_orientation(value):
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


def make_extra_images():
    os.makedirs(EXTRA, exist_ok=True)
    rgb = pattern(64, 48, 1)
    base = Image.fromarray(rgb, "RGB")
    made = {}

    def save(name, image, **options):
        path = os.path.join(EXTRA, name)
        image.save(path, **options)
        made[name] = path

    # 16-bit PNGs, written by hand
    rng = np.random.RandomState(2)
    rgb16 = (rgb.astype(np.uint16) << 8) | rng.randint(0, 256, size=rgb.shape).astype(np.uint16)
    write_png(os.path.join(EXTRA, "rgb16.png"), rgb16, 2, 16)
    alpha16 = (np.arange(64 * 48).reshape(48, 64, 1) * 21).astype(np.uint16)
    write_png(os.path.join(EXTRA, "rgba16.png"), np.concatenate([rgb16, alpha16], axis=2), 6, 16)
    gray16 = (np.mgrid[0:48, 0:64][1] * 1030 + np.mgrid[0:48, 0:64][0] * 7).astype(np.uint16)[..., None]
    write_png(os.path.join(EXTRA, "gray16.png"), gray16, 0, 16)
    write_png(os.path.join(EXTRA, "gray-alpha16.png"), np.concatenate([gray16, alpha16], axis=2), 4, 16)
    made.update({n: os.path.join(EXTRA, n) for n in ("rgb16.png", "rgba16.png", "gray16.png", "gray-alpha16.png")})

    gray = base.convert("L")
    alpha = Image.fromarray((np.arange(64 * 48).reshape(48, 64) * 5 % 256).astype(np.uint8), "L")
    la = Image.merge("LA", (gray, alpha))
    save("gray-alpha.png", la)
    save("gray.png", gray)
    save("gray-trns.png", gray, transparency=int(np.asarray(gray)[10, 10]))
    save("rgb-trns.png", base, transparency=tuple(int(v) for v in rgb[10, 10]))
    save("gray-1bit.png", gray.point(lambda v: 255 if v > 120 else 0).convert("1"))

    # RGBA whose fully transparent pixels still carry colour (alpha must be dropped, not composited)
    rgba_alpha = np.full((48, 64), 255, np.uint8)
    rgba_alpha[:, :20] = 0
    rgba_alpha[30:, 40:] = 77
    save("rgba-transparent.png", Image.fromarray(np.dstack([rgb, rgba_alpha]), "RGBA"))

    palette = base.quantize(colors=24, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    save("palette-trns.png", palette, transparency=3)
    save("palette-4bit.png", base.quantize(colors=12, dither=Image.Dither.NONE), bits=4)

    # animated GIF: only the first frame counts
    frame2 = Image.fromarray(255 - rgb, "RGB").quantize(colors=32, dither=Image.Dither.NONE)
    frame3 = Image.fromarray(np.roll(rgb, 9, axis=1), "RGB").quantize(colors=32, dither=Image.Dither.NONE)
    first = base.quantize(colors=32, dither=Image.Dither.NONE)
    save("animated.gif", first, save_all=True, append_images=[frame2, frame3], duration=100, loop=0)

    # GIF whose first frame is smaller than the logical screen and placed at an offset
    small = Image.fromarray(rgb[:30, :40], "RGB").quantize(colors=16, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    small.save(buf, "GIF")
    gif = bytearray(buf.getvalue())
    gif[6:10] = struct.pack("<HH", 48, 40)  # logical screen 48x40
    gif[11] = 5  # background colour index (Pillow does not paint it)
    descriptor = gif.index(0x2C, 13 + 3 * (2 << (gif[10] & 7)))
    gif[descriptor + 1 : descriptor + 5] = struct.pack("<HH", 5, 6)  # frame at (5, 6)
    with open(os.path.join(EXTRA, "gif-offset-frame.gif"), "wb") as f:
        f.write(gif)
    made["gif-offset-frame.gif"] = os.path.join(EXTRA, "gif-offset-frame.gif")

    save("rgb24.bmp", base)
    save("rgba32.bmp", Image.fromarray(np.dstack([rgb, rgba_alpha]), "RGBA"))
    save("palette8.bmp", palette)
    write_bmp16(os.path.join(EXTRA, "rgb565.bmp"), rgb, True)
    write_bmp16(os.path.join(EXTRA, "rgb555.bmp"), rgb, False)
    made.update({n: os.path.join(EXTRA, n) for n in ("rgb565.bmp", "rgb555.bmp")})

    save("lossless.webp", base, lossless=True)
    save("lossless-alpha.webp", Image.fromarray(np.dstack([rgb, rgba_alpha]), "RGBA"), lossless=True, exact=True)
    save("lossy.webp", base, quality=80)
    with Image.open(os.path.join(PHOTOS, "coffee.jpg")) as coffee:
        save("lossy-photo.webp", coffee.convert("RGB").resize((240, 160), Image.BILINEAR), quality=80)
    save("lossy-alpha.webp", Image.fromarray(np.dstack([rgb, rgba_alpha]), "RGBA"), quality=80)
    save("animated.webp", base, save_all=True, append_images=[Image.fromarray(255 - rgb, "RGB"),
         Image.fromarray(np.roll(rgb, 9, axis=1), "RGB")], duration=100, loop=0, lossless=True)
    save("orientation-6.webp", base, lossless=True, exif=exif_orientation(6))
    # 36 megapixels in 12 KB: flat 60x60 tiles, so that libwebp's large-image paths are checked
    y, x = np.mgrid[0:6000, 0:6000]
    tiles = np.stack([(x // 60) * 255 // 99, (y // 60) * 255 // 99, ((x // 600 + y // 600) % 2) * 200 + 20], axis=-1)
    save("lossless-6000x6000.webp", Image.fromarray(tiles.astype(np.uint8), "RGB"), lossless=True, method=1, quality=50)

    save("cmyk.jpg", base.convert("CMYK"), quality=90)
    save("gray.jpg", gray, quality=90)
    save("rgb-422.jpg", base, quality=90, subsampling=1)
    save("progressive-444.jpg", base, quality=90, subsampling=0, progressive=True)
    for n in range(1, 9):
        save(f"orientation-{n}.jpg", base, quality=95, subsampling=0, exif=exif_orientation(n))
    save("orientation-3.png", base, exif=exif_orientation(3))
    xmp = PngImagePlugin.PngInfo()
    xmp.add_itxt("XML:com.adobe.xmp", '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
                 '<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"/></rdf:RDF></x:xmpmeta>', zip=True)
    save("orientation-6-xmp.png", base, pnginfo=xmp)
    raw = PngImagePlugin.PngInfo()
    hexed = exif_orientation(8).hex()
    lines = "\n".join(hexed[i : i + 72] for i in range(0, len(hexed), 72))
    raw.add_text("Raw profile type exif", "\nexif\n%8d\n%s\n" % (len(hexed) // 2, lines), zip=True)
    save("orientation-8-raw-profile.png", base, pnginfo=raw)
    # camera-style JPEG: Exif APP1 but no JFIF APP0, 4:4:4 (libjpeg guesses YCbCr from the component ids)
    buf = io.BytesIO()
    base.save(buf, "JPEG", quality=90, subsampling=0, exif=exif_orientation(1))
    jpeg = buf.getvalue()
    assert jpeg[2:4] == b"\xff\xe0" and jpeg[6:11] == b"JFIF\0"
    app0_length = struct.unpack(">H", jpeg[4:6])[0]
    with open(os.path.join(EXTRA, "no-jfif-444.jpg"), "wb") as f:
        f.write(jpeg[:2] + jpeg[4 + app0_length :])
    made["no-jfif-444.jpg"] = os.path.join(EXTRA, "no-jfif-444.jpg")

    with Image.open(os.path.join(PHOTOS, "coffee.jpg")) as coffee:
        crop = coffee.convert("RGB").crop((100, 100, 260, 220))
    ppm = os.path.join(EXTRA, "cjpeg-source.ppm")
    crop.save(ppm)
    for name, options in [("cjpeg-440.jpg", ["-sample", "1x2"]), ("cjpeg-411.jpg", ["-sample", "4x1"]),
                          ("cjpeg-arithmetic.jpg", ["-arithmetic"]), ("cjpeg-rgb.jpg", ["-rgb"]),
                          ("cjpeg-restart.jpg", ["-restart", "2", "-progressive"]),
                          # sampling factors TurboJPEG has no TJSAMP name for; libjpeg decodes them
                          ("cjpeg-sample-3x1.jpg", ["-sample", "3x1"])]:
        path = os.path.join(EXTRA, name)
        subprocess.run(["cjpeg", "-quality", "90", *options, "-outfile", path, ppm], check=True)
        made[name] = path
    os.remove(ppm)

    with Image.open(os.path.join(PHOTOS, "rocket.jpg")) as rocket:
        icc = rocket.info["icc_profile"]
    save("icc-profile.jpg", base, quality=90, icc_profile=icc)
    return made


# ---------------------------------------------------------------- references

def upright_rgb(path):
    with Image.open(path) as im:
        return ImageOps.exif_transpose(im).convert("RGB")


def tensor(image, cfg):
    """ViTImageProcessor.preprocess for one image, following transformers' numpy code."""
    if cfg.get("do_resize", True):
        size = cfg.get("size", {"height": 224, "width": 224})
        if isinstance(size, int):
            size = {"height": size, "width": size}
        image = image.resize((size["width"], size["height"]), resample=cfg.get("resample", 2), reducing_gap=None)
    array = np.array(image)  # HWC uint8
    if cfg.get("do_rescale", True):
        array = (array.astype(np.float64) * cfg.get("rescale_factor", 1 / 255)).astype(np.float32)
    if cfg.get("do_normalize", True):
        if not np.issubdtype(array.dtype, np.floating):
            array = array.astype(np.float32)
        mean = np.array(cfg.get("image_mean", [0.5, 0.5, 0.5]), dtype=array.dtype)
        std = np.array(cfg.get("image_std", [0.5, 0.5, 0.5]), dtype=array.dtype)
        array = (array - mean) / std
    chw = np.ascontiguousarray(array.astype(np.float32).transpose(2, 0, 1))
    return chw


RESIZE_CASES = [
    ("images/chelsea.png", 224, 224),
    ("images/chelsea.png", 100, 67),  # non-integer downscale
    ("images/chelsea.png", 1000, 700),  # upscale
    ("images/chelsea.png", 451, 150),  # width unchanged: horizontal pass skipped
    ("images/chelsea.png", 200, 300),  # height unchanged: vertical pass skipped
    ("images/chelsea.png", 451, 300),  # same size: both passes skipped
    ("images/chelsea.png", 300, 451),  # swapped
    ("images/chelsea.png", 450, 299),  # by a hair smaller
    ("images/chelsea.png", 452, 301),  # by a hair larger
    ("images/chelsea.png", 1, 1),
    ("images/chelsea.png", 3, 7),
    ("images/chelsea.png", 7, 3),
    ("images/coffee.jpg", 384, 384),
    ("images/rocket.jpg", 97, 211),
    ("images/logo-rgba.png", 224, 160),
    ("images-extra/rgb-trns.png", 5, 3),  # tiny output from a small source
    ("images-extra/rgb-trns.png", 641, 13),  # strong upscale across, downscale down
    ("images-extra/gray.png", 2, 500),
]

TENSOR_CASES = [
    ("images/coffee.jpg", {}),
    ("images/chelsea.png", {}),
    ("images/logo-rgba.png", {
        "size": {"height": 160, "width": 200},
        "rescale_factor": 0.00390625,
        "image_mean": [0.485, 0.456, 0.406],
        "image_std": [0.229, 0.224, 0.225],
    }),
    ("images/chelsea-exif6.jpg", {"size": 96, "do_rescale": False, "image_mean": [127.5, 127.5, 127.5], "image_std": [127.5, 127.5, 127.5]}),
    ("images-extra/orientation-1.jpg", {"do_resize": False, "size": {"height": 48, "width": 64}, "do_normalize": False}),
]


# Damaged JPEGs and what Pillow makes of them: libjpeg warns about some and decodes through them
# (Pillow accepts), errs on others, and runs out of data on cut files (Pillow: "truncated").
# Each case is a fixture and the edits applied to its bytes, in order: ["cut", length],
# ["fill", start, end, value], ["set", offset, value], ["insert", offset, [bytes]].
# Most were found by damaging the fixtures at random and keeping the instructive cases.
DAMAGED_CASES = [
    ("images/coffee.jpg", [["insert", -2, [1, 2, 3]]]),  # junk before EOI: a warning only
    ("images/coffee.jpg", [["insert", 609, [7, 7]], ["cut", 60000]]),  # junk before the scan, then cut
    ("images/coffee.jpg", [["cut", 79973]]),  # only the EOI marker missing
    ("images/coffee.jpg", [["fill", 29729, 29774, 255]]),  # a bogus marker inside the scan
    ("images/rocket.jpg", [["fill", 112246, 112269, 255]]),
    ("images/astronaut-progressive.jpg", [["fill", 24515, 24565, 255]]),  # a warning, then an error
    ("images/astronaut-progressive.jpg", [["set", 156, 77], ["set", 249, 69], ["set", 298, 202]]),
    ("images/astronaut-progressive.jpg", [["cut", 47041]]),
    ("images/astronaut-progressive.jpg", [["set", 24885, 0x5F], ["insert", 235, [7, 7]]]),  # junk, bogus DHT index
    ("images-extra/cjpeg-arithmetic.jpg", [["fill", 4139, 4145, 255]]),  # libjpeg reads past EOI; Pillow accepts
    ("images-extra/gray.jpg", [["fill", 1093, 1136, 255]]),
    ("images-extra/gray.jpg", [["fill", 136, 176, 255]]),  # a damaged header segment
    ("images-extra/cmyk.jpg", [["set", 30, 113], ["set", 110, 26], ["set", 376, 60]]),
    ("images-extra/cjpeg-restart.jpg", [["set", 244, 132], ["set", 251, 225], ["set", 254, 179], ["set", 322, 161]]),
]


def damage(data, edits):
    data = bytearray(data)
    for edit in edits:
        kind = edit[0]
        if kind == "cut":
            del data[edit[1]:]
        elif kind == "fill":
            data[edit[1]:edit[2]] = bytes([edit[3]]) * (edit[2] - edit[1])
        elif kind == "set":
            data[edit[1]] = edit[2]
        elif kind == "insert":
            at = edit[1] if edit[1] >= 0 else len(data) + edit[1]
            data[at:at] = bytes(edit[2])
    return bytes(data)


def damaged_references():
    cases = []
    for rel, edits in DAMAGED_CASES:
        with open(os.path.join(ROOT, rel), "rb") as f:
            data = damage(f.read(), edits)
        entry = {"image": rel, "edits": edits}
        try:
            image = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
            entry["sha256"] = sha256(image.tobytes())
        except Exception as e:  # what Pillow refuses, and why
            entry["refused"] = type(e).__name__ + ": " + str(e).split(" <")[0]
        cases.append(entry)
    return cases


def main():
    made = make_extra_images()
    os.makedirs(EXPECTED, exist_ok=True)
    reference = {
        "made_with": {
            "pillow": PIL.__version__,
            "libjpeg_turbo": features.version("libjpeg_turbo"),
            "libwebp": features.version("webp"),
            "numpy": np.__version__,
        },
        "decode": {},
        "resize": [],
        "tensor": [],
        "damaged": damaged_references(),
    }
    files = [("images/" + n) for n in sorted(os.listdir(PHOTOS)) if os.path.isfile(os.path.join(PHOTOS, n))]
    files += [("images-extra/" + n) for n in sorted(made)]
    for rel in files:
        image = upright_rgb(os.path.join(ROOT, rel))
        entry = {
            "width": image.width,
            "height": image.height,
            "sha256": sha256(image.tobytes()),
            "resize224_sha256": sha256(image.resize((224, 224), Image.BILINEAR).tobytes()),
        }
        with Image.open(os.path.join(ROOT, rel)) as original:
            entry["pillow_mode"] = original.mode
        if rel.startswith("images-extra/") and image.width * image.height <= 1_000_000:
            name = os.path.basename(rel)
            image.save(os.path.join(EXPECTED, name + ".png"))
        reference["decode"][rel] = entry

    # 16-bit grey: Pillow saturates at 255 (its "I" mode clipped to 8 bits); vitserve keeps the
    # high byte like Pillow does for 16-bit RGB. Record both.
    for rel in ("images-extra/gray16.png", "images-extra/gray-alpha16.png"):
        with Image.open(os.path.join(ROOT, rel)) as im:
            if rel.endswith("gray16.png"):
                high = (np.array(im, dtype=np.int64) >> 8).astype(np.uint8)
            else:
                high = None
        if high is None:
            continue
        expected = np.repeat(high[..., None], 3, axis=2)
        entry = reference["decode"][rel]
        entry["pillow_sha256"] = entry["sha256"]
        entry["sha256"] = sha256(expected.tobytes())
        entry["resize224_sha256"] = sha256(Image.fromarray(expected, "RGB").resize((224, 224), Image.BILINEAR).tobytes())
        entry["deviation"] = "Pillow saturates 16-bit grey at 255; vitserve takes the high byte"
        Image.fromarray(expected, "RGB").save(os.path.join(EXPECTED, os.path.basename(rel) + ".png"))

    for rel, width, height in RESIZE_CASES:
        image = upright_rgb(os.path.join(ROOT, rel))
        resized = image.resize((width, height), Image.BILINEAR)
        reference["resize"].append({"image": rel, "width": width, "height": height, "sha256": sha256(resized.tobytes())})

    for rel, cfg in TENSOR_CASES:
        chw = tensor(upright_rgb(os.path.join(ROOT, rel)), cfg)
        c, h, w = chw.shape
        samples = []
        for (ci, yi, xi) in [(0, 0, 0), (1, h // 2, w // 3), (2, h - 1, w - 1), (0, h // 3, w - 2)]:
            samples.append([ci, yi, xi, float(chw[ci, yi, xi])])
        reference["tensor"].append({
            "image": rel,
            "config": cfg,
            "shape": [c, h, w],
            "sha256_float32_le": sha256(chw.astype("<f4").tobytes()),
            "samples": samples,
        })

    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(reference, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", os.path.join(OUT, "reference.json"), "for", len(files), "files", file=sys.stderr)


if __name__ == "__main__":
    main()
