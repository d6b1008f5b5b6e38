#!/usr/bin/python3
"""Make a CLIP model (Hugging Face CLIPModel layout) with random weights, a small
byte-level BPE tokenizer in Hugging Face's tokenizer.json format, and reference outputs.

The network is this file's own PyTorch port of the forward pass of transformers'
modeling_clip.py (CLIPTextTransformer, CLIPVisionTransformer, CLIPModel), written from its
semantics: pre-LN encoder layers (layer_norm1, self-attention with q/k/v/out projections and
bias, layer_norm2, fc1, activation, fc2), causal self-attention in the text tower, the text
pooled at the end-of-text token (with the legacy rule of configs whose eos_token_id is 2: the
position of the largest input id), a class embedding and pre_layrnorm in the vision tower,
post_layernorm on the class token, bias-free projections, logits = exp(logit_scale) * cos.

The tokenizer is a port of what Hugging Face's fast CLIP tokenizer does with such a
tokenizer.json (the pipeline CLIPConverter writes): NFC, runs of whitespace to one space,
lower case; the split regex keeping letters runs, single digits, contractions and runs of other
characters; GPT-2's byte-level pre-tokenizer (its own regex, then bytes to printable chars);
BPE with end-of-word suffix "</w>"; <|startoftext|> ... <|endoftext|> around it; truncation to
model_max_length keeping both; padding to the longest with the pad token. Debian has no
python3-tokenizers, so the expected ids the Java tests check come from this port (the Java side
runs Hugging Face's own Rust tokenizers through DJL: the two agreeing is the check).

Preprocessing is Pillow's, as CLIPImageProcessor does it for a {"height", "width"} size and no
center crop: RGB, BILINEAR resize, rescale, normalize with CLIP's mean and std.

Needs Debian's python3-torch, python3-numpy, python3-pil, python3-regex; run with /usr/bin/python3:
    clip-fixture.py --out ../fixtures/tiny-clip --images ../fixtures/images
"""
import argparse
import json
import math
import os
import struct
import unicodedata
from collections import Counter

import numpy as np
import regex
import torch
from PIL import Image, ImageOps

BOS = "<|startoftext|>"
EOS = "<|endoftext|>"
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
DEFAULT_TEMPLATE = "This is a photo of {}."

CLIP_SPLIT = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""")
GPT2_SPLIT = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")

CORPUS = [
    "This is a photo of {}.", "a photo of the {}", "a picture of a {}",
    "cat", "cats", "tabby cat", "dog", "golden retriever", "tiger", "teapot", "palace", "espresso",
    "coffee", "coffee mug", "a cup of coffee", "rocket", "rocket launch", "astronaut", "an astronaut in space",
    "lighthouse", "the camera man", "a green logo", "grey photograph", "red", "green", "blue", "zero", "one",
    "two", "three", "seven", "nine", "digit", "the digit seven", "photo", "picture", "space", "launch",
]

# strings whose ids the Java tokenizer must reproduce: case, punctuation, unicode, emoji, spaces, long
TRICKY = [
    "a photo of a cat", "A PHOTO OF A CAT", "Rocket-launch!!! (at night)", "it's the astronaut's",
    "don't   stop\tbelieving\n", "café crème brûlée", "Café", "cafe\u0301 (decomposed)", "naïve Ångström",
    "日本語のテキスト", "emoji 🐱🚀 and ☕", "👩‍🚀", "digits 0123 and 3.14", "", "   ",
    "ΑΒΓ straße İstanbul", "x" * 40,
    "a very long label that goes on and on with many many words so that it must be truncated",
]


def bytes_to_unicode():
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) \
        + list(range(ord("\xae"), ord("\xff") + 1))
    chars = keep[:]
    n = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + n)
            n += 1
    return dict(zip(keep, [chr(c) for c in chars]))


BYTE_CHARS = bytes_to_unicode()


def normalize(text):
    text = unicodedata.normalize("NFC", text)
    text = regex.sub(r"\s+", " ", text)
    return text.lower()


def pre_tokenize(text):
    """Normalized text to byte-level words, as the Split + ByteLevel pre-tokenizers do."""
    words = []
    for piece in CLIP_SPLIT.findall(normalize(text)):
        for sub in GPT2_SPLIT.findall(piece):
            words.append("".join(BYTE_CHARS[b] for b in sub.encode("utf-8")))
    return words


class Bpe:
    def __init__(self, vocab, merges):
        self.vocab = vocab
        self.ranks = {tuple(m.split(" ")): i for i, m in enumerate(merges)}

    def word(self, word):
        symbols = list(word[:-1]) + [word[-1] + "</w>"]
        while len(symbols) > 1:
            best, at = None, -1
            for i in range(len(symbols) - 1):
                rank = self.ranks.get((symbols[i], symbols[i + 1]))
                if rank is not None and (best is None or rank < best):
                    best, at = rank, i
            if best is None:
                break
            symbols[at:at + 2] = [symbols[at] + symbols[at + 1]]
        return [self.vocab.get(s, self.vocab[EOS]) for s in symbols]

    def encode(self, text, max_length):
        ids = [i for w in pre_tokenize(text) for i in self.word(w)]
        ids = ids[:max_length - 2]
        return [self.vocab[BOS]] + ids + [self.vocab[EOS]]


def train_bpe(merges_wanted):
    """A byte-level BPE vocabulary in CLIP's order: bytes, bytes + </w>, merges, then BOS and EOS."""
    words = Counter()
    for line in CORPUS:
        for w in pre_tokenize(line.replace("{}", "")):
            words[tuple(w[:-1]) + (w[-1] + "</w>",)] += 1
    base = [BYTE_CHARS[b] for b in range(256)]
    base.sort(key=lambda c: ord(c))
    vocab_list = base + [c + "</w>" for c in base]
    merges = []
    for _ in range(merges_wanted):
        pairs = Counter()
        for w, n in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += n
        if not pairs:
            break
        (a, b), _ = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
        merges.append(a + " " + b)
        if a + b not in vocab_list:
            vocab_list.append(a + b)
        merged = Counter()
        for w, n in words.items():
            out, i = [], 0
            while i < len(w):
                if i < len(w) - 1 and w[i] == a and w[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            merged[tuple(out)] += n
        words = merged
    vocab_list += [BOS, EOS]
    return {t: i for i, t in enumerate(vocab_list)}, merges


def tokenizer_json(vocab, merges, max_length):
    special = lambda token: {"id": vocab[token], "content": token, "single_word": False, "lstrip": False,
                             "rstrip": False, "normalized": False, "special": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [special(BOS), special(EOS)],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "NFC"},
            {"type": "Replace", "pattern": {"Regex": r"\s+"}, "content": " "},
            {"type": "Lowercase"}]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": CLIP_SPLIT.pattern}, "behavior": "Removed", "invert": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]},
        "post_processor": {"type": "RobertaProcessing", "sep": [EOS, vocab[EOS]], "cls": [BOS, vocab[BOS]],
                           "trim_offsets": False, "add_prefix_space": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": EOS, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "</w>", "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": vocab, "merges": merges},
    }


# ---------------------------------------------------------------- the network

def act(name, x):
    if name == "quick_gelu":
        return x * torch.sigmoid(1.702 * x)
    if name == "gelu":
        return torch.nn.functional.gelu(x)
    if name == "gelu_pytorch_tanh":
        return torch.nn.functional.gelu(x, approximate="tanh")
    raise ValueError(name)


def layer_norm(p, name, x, eps):
    return torch.nn.functional.layer_norm(x, x.shape[-1:], p[name + ".weight"], p[name + ".bias"], eps)


def linear(p, name, x, bias=True):
    y = x @ p[name + ".weight"].t()
    return y + p[name + ".bias"] if bias else y


def encoder(p, prefix, h, cfg, causal):
    heads = cfg["num_attention_heads"]
    b, s, d = h.shape
    hd = d // heads
    mask = None
    if causal:
        mask = torch.full((s, s), float("-inf")).triu(1)
    for i in range(cfg["num_hidden_layers"]):
        l = f"{prefix}encoder.layers.{i}."
        x = layer_norm(p, l + "layer_norm1", h, cfg["layer_norm_eps"])
        q, k, v = (linear(p, l + f"self_attn.{n}_proj", x).view(b, s, heads, hd).transpose(1, 2) for n in "qkv")
        w = (q @ k.transpose(-1, -2)) * hd ** -0.5
        if mask is not None:
            w = w + mask
        ctx = (w.softmax(-1) @ v).transpose(1, 2).reshape(b, s, d)
        h = h + linear(p, l + "self_attn.out_proj", ctx)
        x = layer_norm(p, l + "layer_norm2", h, cfg["layer_norm_eps"])
        h = h + linear(p, l + "mlp.fc2", act(cfg["hidden_act"], linear(p, l + "mlp.fc1", x)))
    return h


def text_features(p, cfg, ids):
    t = cfg["text_config"]
    ids = torch.tensor(ids, dtype=torch.long)
    s = ids.shape[1]
    h = p["text_model.embeddings.token_embedding.weight"][ids] \
        + p["text_model.embeddings.position_embedding.weight"][:s]
    h = encoder(p, "text_model.", h, t, causal=True)
    h = layer_norm(p, "text_model.final_layer_norm", h, t["layer_norm_eps"])
    if t["eos_token_id"] == 2:
        at = ids.argmax(-1)
    else:
        at = (ids == t["eos_token_id"]).int().argmax(-1)
    pooled = h[torch.arange(h.shape[0]), at]
    return linear(p, "text_projection", pooled, bias=False)


def image_features(p, cfg, pixels):
    v = cfg["vision_config"]
    patch = v["patch_size"]
    x = torch.nn.functional.conv2d(pixels, p["vision_model.embeddings.patch_embedding.weight"], stride=patch)
    x = x.flatten(2).transpose(1, 2)
    cls = p["vision_model.embeddings.class_embedding"].expand(x.shape[0], 1, -1)
    h = torch.cat([cls, x], 1) + p["vision_model.embeddings.position_embedding.weight"]
    h = layer_norm(p, "vision_model.pre_layrnorm", h, v["layer_norm_eps"])
    h = encoder(p, "vision_model.", h, v, causal=False)
    pooled = layer_norm(p, "vision_model.post_layernorm", h[:, 0], v["layer_norm_eps"])
    return linear(p, "visual_projection", pooled, bias=False)


def unit(x):
    return x / x.norm(dim=-1, keepdim=True)


def random_params(cfg, seed):
    g = torch.Generator().manual_seed(seed)
    t, v = cfg["text_config"], cfg["vision_config"]
    p = {}

    def rnd(name, *shape, scale=None, around=0.0):
        fan = shape[-1] if len(shape) > 1 else 1
        s = scale if scale is not None else fan ** -0.5
        p[name] = (around + s * torch.randn(*shape, generator=g)).float()

    def tower(prefix, c):
        d, m = c["hidden_size"], c["intermediate_size"]
        for i in range(c["num_hidden_layers"]):
            l = f"{prefix}encoder.layers.{i}."
            for n in "qkvo":
                name = l + f"self_attn.{'out' if n == 'o' else n}_proj"
                rnd(name + ".weight", d, d)
                rnd(name + ".bias", d, scale=0.05)
            for ln in ("layer_norm1", "layer_norm2"):
                rnd(l + ln + ".weight", d, scale=0.1, around=1.0)
                rnd(l + ln + ".bias", d, scale=0.1)
            rnd(l + "mlp.fc1.weight", m, d)
            rnd(l + "mlp.fc1.bias", m, scale=0.05)
            rnd(l + "mlp.fc2.weight", d, m)
            rnd(l + "mlp.fc2.bias", d, scale=0.05)

    rnd("text_model.embeddings.token_embedding.weight", t["vocab_size"], t["hidden_size"], scale=0.5)
    rnd("text_model.embeddings.position_embedding.weight", t["max_position_embeddings"], t["hidden_size"], scale=0.2)
    tower("text_model.", t)
    rnd("text_model.final_layer_norm.weight", t["hidden_size"], scale=0.1, around=1.0)
    rnd("text_model.final_layer_norm.bias", t["hidden_size"], scale=0.1)
    patches = (v["image_size"] // v["patch_size"]) ** 2
    rnd("vision_model.embeddings.class_embedding", v["hidden_size"], scale=0.5)
    rnd("vision_model.embeddings.patch_embedding.weight", v["hidden_size"], 3, v["patch_size"], v["patch_size"],
        scale=(3 * v["patch_size"] ** 2) ** -0.5)
    rnd("vision_model.embeddings.position_embedding.weight", patches + 1, v["hidden_size"], scale=0.2)
    for ln in ("pre_layrnorm", "post_layernorm"):
        rnd(f"vision_model.{ln}.weight", v["hidden_size"], scale=0.1, around=1.0)
        rnd(f"vision_model.{ln}.bias", v["hidden_size"], scale=0.1)
    tower("vision_model.", v)
    rnd("visual_projection.weight", cfg["projection_dim"], v["hidden_size"])
    rnd("text_projection.weight", cfg["projection_dim"], t["hidden_size"])
    p["logit_scale"] = torch.tensor(cfg["logit_scale_init_value"], dtype=torch.float32)
    return p


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        data = tensors[name].contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    header["__metadata__"] = {"format": "pt"}
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for blob in blobs:
            f.write(blob)


def pixels_of(path, size):
    image = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    image = image.resize((size, size), Image.BILINEAR)
    x = (np.asarray(image).astype(np.float64) * (1 / 255)).astype(np.float32)
    x = (x - np.array(CLIP_MEAN, dtype=np.float32)) / np.array(CLIP_STD, dtype=np.float32)
    return torch.from_numpy(x.transpose(2, 0, 1).copy()).float()


def padded(rows, pad):
    longest = max(len(r) for r in rows)
    return [r + [pad] * (longest - len(r)) for r in rows]


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--out", required=True)
    a.add_argument("--images", required=True)
    a.add_argument("--seed", type=int, default=7)
    a.add_argument("--merges", type=int, default=120)
    args = a.parse_args()
    os.makedirs(args.out, exist_ok=True)

    vocab, merges = train_bpe(args.merges)
    max_length = 16
    cfg = {
        "architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": 12,
        "logit_scale_init_value": 2.3, "initializer_factor": 1.0, "torch_dtype": "float32",
        "text_config": {"model_type": "clip_text_model", "vocab_size": len(vocab), "hidden_size": 20,
                        "intermediate_size": 36, "num_hidden_layers": 2, "num_attention_heads": 4,
                        "max_position_embeddings": max_length, "hidden_act": "gelu", "layer_norm_eps": 1e-5,
                        "bos_token_id": 0, "eos_token_id": 2, "pad_token_id": 1, "projection_dim": 12},
        "vision_config": {"model_type": "clip_vision_model", "hidden_size": 24, "intermediate_size": 40,
                          "num_hidden_layers": 2, "num_attention_heads": 3, "num_channels": 3, "image_size": 30,
                          "patch_size": 6, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5, "projection_dim": 12},
    }
    p = random_params(cfg, args.seed)
    write_safetensors(os.path.join(args.out, "model.safetensors"), p)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(args.out, "preprocessor_config.json"), "w") as f:
        json.dump({"image_processor_type": "CLIPImageProcessor", "processor_class": "CLIPProcessor",
                   "do_resize": True, "size": {"height": 30, "width": 30}, "resample": 2,
                   "do_center_crop": False, "crop_size": {"height": 30, "width": 30},
                   "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
                   "image_mean": CLIP_MEAN, "image_std": CLIP_STD, "do_convert_rgb": True}, f, indent=2)
    with open(os.path.join(args.out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(vocab, merges, max_length), f, ensure_ascii=False, indent=1)
    with open(os.path.join(args.out, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "CLIPTokenizer", "model_max_length": max_length, "bos_token": BOS,
                   "eos_token": EOS, "unk_token": EOS, "pad_token": EOS, "do_lower_case": True,
                   "clean_up_tokenization_spaces": False}, f, indent=2)
    with open(os.path.join(args.out, "special_tokens_map.json"), "w") as f:
        json.dump({"bos_token": BOS, "eos_token": EOS, "unk_token": EOS, "pad_token": EOS}, f, indent=2)

    bpe = Bpe(vocab, merges)
    pad = vocab[EOS]
    tokens = [{"text": s, "ids": bpe.encode(s, max_length)} for s in TRICKY]

    images = sorted(n for n in os.listdir(args.images) if n.endswith((".png", ".jpg")))
    label_sets = [
        {"labels": ["cat", "dog", "rocket"], "template": DEFAULT_TEMPLATE},
        {"labels": ["a tabby cat", "Coffee ☕", "astronaut", "Rocket launch!", "grey photograph", "café"],
         "template": DEFAULT_TEMPLATE},
        {"labels": ["zero", "seven", "a very long label that goes on and on with many words"],
         "template": "a photo of the digit {}."},
    ]
    with torch.no_grad():
        pixels = torch.stack([pixels_of(os.path.join(args.images, n), 30) for n in images])
        img = image_features(p, cfg, pixels)
        scale = p["logit_scale"].exp()
        sets = []
        for s in label_sets:
            texts = [s["template"].format(label) for label in s["labels"]]
            ids = padded([bpe.encode(t, max_length) for t in texts], pad)
            txt = text_features(p, cfg, ids)
            logits = scale * unit(img) @ unit(txt).t()
            sets.append({"labels": s["labels"], "template": s["template"], "texts": texts, "input_ids": ids,
                         "text_embeds": txt.tolist(), "logits_per_image": logits.tolist(),
                         "scores": logits.softmax(-1).tolist()})
        # hand-made rows on which the two pooling rules differ (no end-of-text in the first: the largest id is
        # at 1, the first end-of-text "at" 0), and agree (the second)
        rows = [[5, 600, 12, 40, 7], [vocab[BOS], 40, vocab[EOS], 41, 42]]
        legacy = text_features(p, cfg, rows)
        current = dict(cfg, text_config=dict(cfg["text_config"], eos_token_id=vocab[EOS]))
        by_eos = text_features(p, current, rows)
    reference = {
        "note": "made by testkit/tools/clip-fixture.py; embeds are the projections before normalization",
        "images": images, "image_embeds": img.tolist(), "logit_scale": float(p["logit_scale"]),
        "pixel_values_of_first_two": [round(v, 6) for v in pixels[:2].flatten().tolist()],
        "label_sets": sets, "tokenizer": {"max_length": max_length, "cases": tokens},
        "pooling": {"input_ids": rows, "legacy_eos_2": legacy.tolist(), "eos_token_id": vocab[EOS],
                    "by_eos_token": by_eos.tolist()},
    }
    with open(os.path.join(args.out, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(reference, f, ensure_ascii=False, indent=1)
    print("vocab", len(vocab), "merges", len(merges), "params", sum(t.numel() for t in p.values()))


if __name__ == "__main__":
    main()
