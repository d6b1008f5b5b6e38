#!/usr/bin/python3
"""Make a SigLIP model (Hugging Face SiglipModel layout) with random weights, a small Unigram
tokenizer in Hugging Face's tokenizer.json format, and reference outputs.

The network is this file's own PyTorch port of the forward pass of transformers'
modeling_siglip.py (SiglipTextTransformer, SiglipVisionTransformer, SiglipModel), written from
its semantics; the encoder layers are the same pre-LN layers as CLIP's, so they come from
clip-fixture.py's port. What differs from CLIP:
  - vision: a patch convolution with bias, position embeddings, no class token and no
    pre-layernorm; post_layernorm on every token; then the multihead attention pooling head
    `head` (a learned probe attends over the tokens through torch's nn.MultiheadAttention with
    its packed in_proj weight, then a residual MLP after `head.layernorm`); the probe's output
    is the image embedding (no projection);
  - text: no causal mask and no attention mask (SigLIP's tokenizer gives input_ids only),
    final_layer_norm, the hidden state at the last position (`pooler_output`), then the linear
    `head` (with bias) to the image tower's width;
  - logits_per_image = exp(logit_scale) * cos(image, text) + logit_bias; the zero-shot
    pipeline's scores are their sigmoid, texts padded to max_length 64 with truncation.

The tokenizer is a port of what Hugging Face's tokenizers library does with this
tokenizer.json (a Unigram model behind a Metaspace pre-tokenizer, as a SentencePiece tokenizer
is serialized in its fast form): normalization as SiglipTokenizer canonicalizes a text (lower
case, ASCII punctuation removed, runs of whitespace to one space, stripped); Metaspace
replaces spaces with U+2581, prepends one to a non-empty text and splits before each;
Unigram's Viterbi over the pieces' scores, a character no piece starts with being unknown
(score min - 10), consecutive unknowns fused into one <unk>; </s> appended; truncation to
max_length keeping </s>; padding to max_length with the pad token </s>. Debian has no
python3-tokenizers, so the expected ids the Java tests check come from this port (the Java side
runs Hugging Face's own Rust tokenizers through DJL: the two agreeing is the check).

Preprocessing is Pillow's, as SiglipImageProcessor does it: RGB, BICUBIC resize to
{"height", "width"}, rescale 1/255, normalize with mean 0.5 and std 0.5.

Needs Debian's python3-torch, python3-numpy, python3-pil; run with /usr/bin/python3:
    siglip-fixture.py --out ../fixtures/tiny-siglip --images ../fixtures/images
"""
import argparse
import importlib.util
import json
import math
import os
import re
import string
from collections import Counter

import numpy as np
import torch
from PIL import Image, ImageOps

_spec = importlib.util.spec_from_file_location("clip_fixture", os.path.join(os.path.dirname(__file__), "clip-fixture.py"))
clip = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(clip)

PAD, EOS, UNK = "<pad>", "</s>", "<unk>"
SPACE = "\u2581"
MAX_LENGTH = 64
DEFAULT_TEMPLATE = "This is a photo of {}."
PUNCTUATION = "[" + re.escape(string.punctuation) + "]"

CORPUS = [
    "This is a photo of {}.", "a photo of the {}", "a picture of a {}", "the digit {}",
    "cat", "cats", "tabby cat", "dog", "golden retriever", "tiger", "teapot", "palace", "espresso",
    "coffee", "coffee mug", "a cup of coffee", "rocket", "rocket launch", "astronaut", "an astronaut in space",
    "lighthouse", "the camera man", "a green logo", "grey photograph", "red", "green", "blue", "zero", "one",
    "two", "three", "seven", "nine", "photo", "picture", "space", "launch", "café crème", "naïve straße",
    "don't stop", "it's", "0123456789", "quick brown fox jumps over the lazy dog",
]

# strings whose ids the Java tokenizer must reproduce: case, punctuation, unicode, emoji, spaces, long
TRICKY = [
    "a photo of a cat", "A PHOTO OF A CAT", "Rocket-launch!!! (at night)", "it's the astronaut's",
    "don't   stop\tbelieving\n", "café crème brûlée", "Café", "naïve Ångström", "日本語のテキスト",
    "emoji 🐱🚀 and ☕", "👩‍🚀", "digits 0123 and 3.14", "", "   ", "...!!!", "ΑΒΓ straße İstanbul",
    "x" * 40, "zzzz qqq", "  leading and trailing  ",
    "a very long label that goes on and on with many many words so that it must be truncated at sixty four"
    " tokens by the tokenizer exactly as hugging face truncates a text keeping the end of text token at the end"
    " of the row",
]


def normalize(text):
    text = text.lower()
    text = re.sub(PUNCTUATION, "", text)
    text = re.sub(r"\s+", " ", text)
    return text.strip()


def pre_tokenize(text):
    """Metaspace: spaces to U+2581, one prepended (to a non-empty text), split before each."""
    text = normalize(text).replace(" ", SPACE)
    if not text:
        return []
    if not text.startswith(SPACE):
        text = SPACE + text
    return [SPACE + w for w in text.split(SPACE)[1:]]


class Unigram:
    def __init__(self, vocab, unk_id):
        self.vocab = vocab
        self.ids = {piece: i for i, (piece, _) in enumerate(vocab)}
        self.unk_id = unk_id
        self.unk_score = min(score for _, score in vocab) - 10.0
        self.longest = max(len(piece) for piece, _ in vocab)

    def word(self, word):
        n = len(word)
        best = [None] * (n + 1)  # (score, start, id)
        best[0] = (0.0, None, None)
        for begin in range(n):
            if best[begin] is None:
                continue
            base = best[begin][0]
            single = False
            for length in range(1, min(self.longest, n - begin) + 1):
                piece = word[begin:begin + length]
                if piece in self.ids:
                    i = self.ids[piece]
                    if length == 1:
                        single = True
                    self._offer(best, begin, begin + length, base + self.vocab[i][1], i)
            if not single:
                self._offer(best, begin, begin + 1, base + self.unk_score, self.unk_id)
        out, end, unknown = [], n, False
        while end > 0:
            _, start, i = best[end]
            if i == self.unk_id:
                if not unknown:
                    out.append(self.unk_id)
                unknown = True
            else:
                out.append(i)
                unknown = False
            end = start
        return out[::-1]

    @staticmethod
    def _offer(best, begin, end, score, i):
        if best[end] is None or score > best[end][0]:
            best[end] = (score, begin, i)

    def encode(self, text, max_length):
        ids = [i for w in pre_tokenize(text) for i in self.word(w)]
        return ids[:max_length - 1] + [self.ids[EOS]]


def train_vocab(words_wanted, subwords_wanted):
    """Specials, U+2581, every character of the normalized corpus, frequent words and subwords, with scores."""
    words = Counter()
    for line in CORPUS:
        for w in pre_tokenize(line.replace("{}", "")):
            words[w] += 1
    chars = Counter(c for w, n in words.items() for c in w for _ in range(n))
    subs = Counter()
    for w, n in words.items():
        for a in range(len(w)):
            for b in range(a + 2, min(len(w), a + 5) + 1):
                if w[a:b] != w:
                    subs[w[a:b]] += n
    pieces = [(PAD, 0.0), (EOS, 0.0), (UNK, 0.0)]
    taken = {p for p, _ in pieces}

    def add(piece, score):
        if piece not in taken:
            taken.add(piece)
            pieces.append((piece, round(score - 1e-3 * len(pieces), 6)))

    add(SPACE, -2.0)
    for c, n in sorted(chars.items(), key=lambda kv: (-kv[1], kv[0])):
        add(c, -6.0 - 1.0 / n)
    for w, n in sorted(words.items(), key=lambda kv: (-kv[1] * len(kv[0]), kv[0]))[:words_wanted]:
        add(w, -4.0 - 2.0 / (n * len(w)))
    for s, n in sorted(subs.items(), key=lambda kv: (-kv[1] * len(kv[0]), kv[0]))[:subwords_wanted]:
        add(s, -5.0 - 1.0 / (n * len(s)))
    return pieces


def tokenizer_json(vocab):
    special = lambda i: {"id": i, "content": vocab[i][0], "single_word": False, "lstrip": True,
                         "rstrip": True, "normalized": False, "special": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [special(0), special(1), special(2)],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Lowercase"},
            {"type": "Replace", "pattern": {"Regex": PUNCTUATION}, "content": ""},
            {"type": "Replace", "pattern": {"Regex": r"\s+"}, "content": " "},
            {"type": "Strip", "strip_left": True, "strip_right": True}]},
        "pre_tokenizer": {"type": "Metaspace", "replacement": SPACE, "prepend_scheme": "always", "split": True},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"Sequence": {"id": "A", "type_id": 0}},
                                      {"SpecialToken": {"id": EOS, "type_id": 0}}],
                           "pair": [{"Sequence": {"id": "A", "type_id": 0}},
                                    {"SpecialToken": {"id": EOS, "type_id": 0}},
                                    {"Sequence": {"id": "B", "type_id": 0}},
                                    {"SpecialToken": {"id": EOS, "type_id": 0}}],
                           "special_tokens": {EOS: {"id": EOS, "ids": [1], "tokens": [EOS]}}},
        "decoder": {"type": "Metaspace", "replacement": SPACE, "prepend_scheme": "always", "split": True},
        "model": {"type": "Unigram", "unk_id": 2, "vocab": [[p, s] for p, s in vocab], "byte_fallback": False},
    }


# ---------------------------------------------------------------- the network

def attention_pool(p, prefix, h, cfg):
    """nn.MultiheadAttention(batch_first=True) of the probe over the tokens, then the residual MLP."""
    d = cfg["hidden_size"]
    heads = cfg["num_attention_heads"]
    b, s, _ = h.shape
    hd = d // heads
    probe = p[prefix + "probe"].expand(b, 1, d)
    w, bias = p[prefix + "attention.in_proj_weight"], p[prefix + "attention.in_proj_bias"]
    q = (probe @ w[:d].t() + bias[:d]).view(b, 1, heads, hd).transpose(1, 2)
    k = (h @ w[d:2 * d].t() + bias[d:2 * d]).view(b, s, heads, hd).transpose(1, 2)
    v = (h @ w[2 * d:].t() + bias[2 * d:]).view(b, s, heads, hd).transpose(1, 2)
    ctx = ((q @ k.transpose(-1, -2)) * hd ** -0.5).softmax(-1) @ v
    x = clip.linear(p, prefix + "attention.out_proj", ctx.transpose(1, 2).reshape(b, 1, d))
    y = clip.layer_norm(p, prefix + "layernorm", x, cfg["layer_norm_eps"])
    x = x + clip.linear(p, prefix + "mlp.fc2", clip.act(cfg["hidden_act"], clip.linear(p, prefix + "mlp.fc1", y)))
    return x[:, 0]


def text_features(p, cfg, ids):
    t = cfg["text_config"]
    ids = torch.tensor(ids, dtype=torch.long)
    s = ids.shape[1]
    h = p["text_model.embeddings.token_embedding.weight"][ids] \
        + p["text_model.embeddings.position_embedding.weight"][:s]
    h = clip.encoder(p, "text_model.", h, t, causal=False)
    h = clip.layer_norm(p, "text_model.final_layer_norm", h, t["layer_norm_eps"])
    return clip.linear(p, "text_model.head", h[:, -1])


def image_features(p, cfg, pixels):
    v = cfg["vision_config"]
    patch = v["patch_size"]
    x = torch.nn.functional.conv2d(pixels, p["vision_model.embeddings.patch_embedding.weight"],
                                   p["vision_model.embeddings.patch_embedding.bias"], stride=patch)
    h = x.flatten(2).transpose(1, 2) + p["vision_model.embeddings.position_embedding.weight"]
    h = clip.encoder(p, "vision_model.", h, v, causal=False)
    h = clip.layer_norm(p, "vision_model.post_layernorm", h, v["layer_norm_eps"])
    return attention_pool(p, "vision_model.head.", h, v)


def random_params(cfg, seed):
    g = torch.Generator().manual_seed(seed)
    t, v = cfg["text_config"], cfg["vision_config"]
    p = {}

    def rnd(name, *shape, scale=None, around=0.0):
        fan = shape[-1] if len(shape) > 1 else 1
        s = scale if scale is not None else fan ** -0.5
        p[name] = (around + s * torch.randn(*shape, generator=g)).float()

    def layers(prefix, c):
        d, m = c["hidden_size"], c["intermediate_size"]
        for i in range(c["num_hidden_layers"]):
            l = f"{prefix}encoder.layers.{i}."
            for n in ("q", "k", "v", "out"):
                rnd(l + f"self_attn.{n}_proj.weight", d, d)
                rnd(l + f"self_attn.{n}_proj.bias", d, scale=0.05)
            for ln in ("layer_norm1", "layer_norm2"):
                rnd(l + ln + ".weight", d, scale=0.1, around=1.0)
                rnd(l + ln + ".bias", d, scale=0.1)
            mlp(l + "mlp.", d, m)

    def mlp(prefix, d, m):
        rnd(prefix + "fc1.weight", m, d)
        rnd(prefix + "fc1.bias", m, scale=0.05)
        rnd(prefix + "fc2.weight", d, m)
        rnd(prefix + "fc2.bias", d, scale=0.05)

    td, vd = t["hidden_size"], v["hidden_size"]
    rnd("text_model.embeddings.token_embedding.weight", t["vocab_size"], td, scale=0.5)
    rnd("text_model.embeddings.position_embedding.weight", t["max_position_embeddings"], td, scale=0.2)
    layers("text_model.", t)
    rnd("text_model.final_layer_norm.weight", td, scale=0.1, around=1.0)
    rnd("text_model.final_layer_norm.bias", td, scale=0.1)
    rnd("text_model.head.weight", t["projection_size"], td)
    rnd("text_model.head.bias", t["projection_size"], scale=0.05)
    patches = (v["image_size"] // v["patch_size"]) ** 2
    rnd("vision_model.embeddings.patch_embedding.weight", vd, 3, v["patch_size"], v["patch_size"],
        scale=(3 * v["patch_size"] ** 2) ** -0.5)
    rnd("vision_model.embeddings.patch_embedding.bias", vd, scale=0.05)
    rnd("vision_model.embeddings.position_embedding.weight", patches, vd, scale=0.2)
    layers("vision_model.", v)
    rnd("vision_model.post_layernorm.weight", vd, scale=0.1, around=1.0)
    rnd("vision_model.post_layernorm.bias", vd, scale=0.1)
    rnd("vision_model.head.probe", 1, 1, vd, scale=1.0)
    rnd("vision_model.head.attention.in_proj_weight", 3 * vd, vd)
    rnd("vision_model.head.attention.in_proj_bias", 3 * vd, scale=0.05)
    rnd("vision_model.head.attention.out_proj.weight", vd, vd)
    rnd("vision_model.head.attention.out_proj.bias", vd, scale=0.05)
    rnd("vision_model.head.layernorm.weight", vd, scale=0.1, around=1.0)
    rnd("vision_model.head.layernorm.bias", vd, scale=0.1)
    mlp("vision_model.head.mlp.", vd, v["intermediate_size"])
    p["logit_scale"] = torch.tensor([1.9], dtype=torch.float32)
    p["logit_bias"] = torch.tensor([-0.7], dtype=torch.float32)
    return p


def pixels_of(path, size):
    image = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    image = image.resize((size, size), Image.BICUBIC)
    x = (np.asarray(image).astype(np.float64) * (1 / 255)).astype(np.float32)
    x = (x - np.float32(0.5)) / np.float32(0.5)
    return torch.from_numpy(x.transpose(2, 0, 1).copy()).float()


def padded(rows, pad, length):
    return [r + [pad] * (length - len(r)) for r in rows]


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--out", required=True)
    a.add_argument("--images", required=True)
    a.add_argument("--seed", type=int, default=11)
    args = a.parse_args()
    os.makedirs(args.out, exist_ok=True)

    vocab = train_vocab(60, 90)
    image_size = 30
    cfg = {
        "architectures": ["SiglipModel"], "model_type": "siglip", "initializer_factor": 1.0,
        "torch_dtype": "float32",
        "text_config": {"model_type": "siglip_text_model", "vocab_size": len(vocab), "hidden_size": 24,
                        "intermediate_size": 30, "num_hidden_layers": 2, "num_attention_heads": 3,
                        "max_position_embeddings": MAX_LENGTH, "hidden_act": "gelu_pytorch_tanh",
                        "layer_norm_eps": 1e-6, "pad_token_id": 1, "bos_token_id": 49406, "eos_token_id": 1,
                        "projection_size": 20},
        "vision_config": {"model_type": "siglip_vision_model", "hidden_size": 20, "intermediate_size": 34,
                          "num_hidden_layers": 2, "num_attention_heads": 5, "num_channels": 3,
                          "image_size": image_size, "patch_size": 6, "hidden_act": "gelu_pytorch_tanh",
                          "layer_norm_eps": 1e-6},
    }
    p = random_params(cfg, args.seed)
    clip.write_safetensors(os.path.join(args.out, "model.safetensors"), p)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(args.out, "preprocessor_config.json"), "w") as f:
        json.dump({"image_processor_type": "SiglipImageProcessor", "processor_class": "SiglipProcessor",
                   "do_resize": True, "size": {"height": image_size, "width": image_size}, "resample": 3,
                   "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
                   "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}, f, indent=2)
    with open(os.path.join(args.out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(vocab), f, ensure_ascii=False, indent=1)
    with open(os.path.join(args.out, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "SiglipTokenizer", "model_max_length": MAX_LENGTH, "eos_token": EOS,
                   "unk_token": UNK, "pad_token": EOS, "do_lower_case": True,
                   "model_input_names": ["input_ids"], "clean_up_tokenization_spaces": True}, f, indent=2)
    with open(os.path.join(args.out, "special_tokens_map.json"), "w") as f:
        json.dump({"eos_token": EOS, "unk_token": UNK, "pad_token": EOS}, f, indent=2)

    tok = Unigram(vocab, 2)
    pad = 1
    tokens = [{"text": s, "ids": tok.encode(s, MAX_LENGTH)} for s in TRICKY]

    images = sorted(n for n in os.listdir(args.images) if n.endswith((".png", ".jpg")))
    label_sets = [
        {"labels": ["cat", "dog", "rocket"], "template": DEFAULT_TEMPLATE},
        {"labels": ["a tabby cat", "Coffee ☕", "astronaut", "Rocket launch!", "grey photograph", "café"],
         "template": DEFAULT_TEMPLATE},
        {"labels": ["zero", "seven", TRICKY[-1]], "template": "a photo of the digit {}."},
    ]
    with torch.no_grad():
        pixels = torch.stack([pixels_of(os.path.join(args.images, n), image_size) for n in images])
        img = image_features(p, cfg, pixels)
        scale = p["logit_scale"].exp()
        sets = []
        for s in label_sets:
            texts = [s["template"].format(label) for label in s["labels"]]
            ids = padded([tok.encode(t, MAX_LENGTH) for t in texts], pad, MAX_LENGTH)
            txt = text_features(p, cfg, ids)
            logits = scale * clip.unit(img) @ clip.unit(txt).t() + p["logit_bias"]
            sets.append({"labels": s["labels"], "template": s["template"], "texts": texts, "input_ids": ids,
                         "text_embeds": txt.tolist(), "logits_per_image": logits.tolist(),
                         "scores": torch.sigmoid(logits).tolist()})
    reference = {
        "note": "made by testkit/tools/siglip-fixture.py; embeds are the pooled outputs before normalization",
        "images": images, "image_embeds": img.tolist(), "logit_scale": float(p["logit_scale"][0]),
        "logit_bias": float(p["logit_bias"][0]),
        "pixel_values_of_first_two": [round(x, 6) for x in pixels[:2].flatten().tolist()],
        "label_sets": sets, "tokenizer": {"max_length": MAX_LENGTH, "pad_id": pad, "cases": tokens},
    }
    with open(os.path.join(args.out, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(reference, f, ensure_ascii=False, indent=1)
    print("vocab", len(vocab), "params", sum(t.numel() for t in p.values()))
    for c in tokens:
        print(len(c["ids"]), repr(c["text"][:40]), [vocab[i][0] for i in c["ids"]][:12])


if __name__ == "__main__":
    main()
