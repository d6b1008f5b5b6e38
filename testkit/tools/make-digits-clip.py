#!/usr/bin/python3
"""Train a small, real CLIP (Hugging Face CLIPModel layout) on the 1200 training digits of
make-digits-vit.py's split, with captions such as "a photo of the digit seven", and write it with
its tokenizer and the port's zero-shot answers on the 300 validation digits.

Reuses, by import (their names have dashes): clip-fixture.py (this folder) for the network (its
PyTorch port of CLIP's forward pass is the training model itself, on HF's parameter names), the
byte-level BPE trainer (fed this script's caption corpus), the tokenizer.json writer, the
safetensors writer and the CLIPImageProcessor preprocessing; make-digits-vit.py (given by
--digits-vit, needed only here, at generation time) for the digit rendering, the augmentation and
the seeded split.

Training: symmetric contrastive loss (image-to-text and text-to-image cross-entropy over
exp(logit_scale) * cos) on batches of 64 images, each with a caption of its digit from one of
several templates; digits repeat in a batch, so a row's target is spread over the captions (or
images) of the same digit. AdamW, cosine decay, one thread, fixed seeds, deterministic algorithms.

Writes into --out: config.json, model.safetensors, preprocessor_config.json, tokenizer.json,
tokenizer_config.json, special_tokens_map.json, reference-zero-shot.json (the port's predictions
and probabilities for every validation image, labels "zero".."nine", template
"a photo of the digit {}.", and the accuracy). The validation images are --val-images (default
testkit/fixtures/digits-vit/val-images, the same split: checked against a fresh rendering).

    /usr/bin/python3 make-digits-clip.py --digits-vit /work/shared/tools/make-digits-vit.py \
        --out ../fixtures/digits-clip
"""
import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import importlib.util
import json
import math
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
ZERO_SHOT_TEMPLATE = "a photo of the digit {}."
TEMPLATES = [ZERO_SHOT_TEMPLATE, "a photo of the digit {}", "the number {}", "{}", "the digit {}",
             "a picture of a {}", "a handwritten {}", "this is a photo of {}.", "a photo of the number {}."]
SIZE = 32


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def config(vocab_size, max_length):
    tower = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
             "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5, "projection_dim": 64}
    return {
        "architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": 64,
        "logit_scale_init_value": 2.6592, "initializer_factor": 1.0, "torch_dtype": "float32",
        "text_config": dict(tower, model_type="clip_text_model", vocab_size=vocab_size,
                            max_position_embeddings=max_length, bos_token_id=vocab_size - 2,
                            eos_token_id=vocab_size - 1, pad_token_id=vocab_size - 1),
        "vision_config": dict(tower, model_type="clip_vision_model", num_channels=3, image_size=SIZE,
                              patch_size=8),
    }


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--out", required=True)
    a.add_argument("--digits-vit", required=True, help="path of make-digits-vit.py")
    a.add_argument("--val-images", default=os.path.join(HERE, "..", "fixtures", "digits-vit", "val-images"))
    a.add_argument("--seed", type=int, default=0, help="the split's seed (make-digits-vit.py's)")
    a.add_argument("--epochs", type=int, default=60)
    a.add_argument("--views", type=int, default=8)
    a.add_argument("--lr", type=float, default=2e-3)
    a.add_argument("--merges", type=int, default=200)
    a.add_argument("--min-accuracy", type=float, default=0.90)
    args = a.parse_args()
    clip = load(os.path.join(HERE, "clip-fixture.py"), "clip_fixture")
    dv = load(args.digits_vit, "make_digits_vit")
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(args.seed)

    # data: the same split and rendering as make-digits-vit.py
    from sklearn.datasets import load_digits
    ds = load_digits()
    digits, y = ds.images.astype(np.float64), ds.target.astype(np.int64)
    perm = np.random.RandomState(args.seed).permutation(len(y))
    train_idx, val_idx = np.sort(perm[:dv.N_TRAIN]), np.sort(perm[dv.N_TRAIN:dv.N_TRAIN + dv.N_VAL])
    names = sorted(n for n in os.listdir(args.val_images) if n.endswith(".png"))
    expected = [f"{i:04d}_{y[i]}.png" for i in val_idx]
    assert names == expected, "val-images is not make-digits-vit.py's validation split"
    first = np.asarray(dv.render(digits[val_idx[0]], dv.image_rng(args.seed, 1, int(val_idx[0])), False, 0.0))
    from PIL import Image
    assert (np.asarray(Image.open(os.path.join(args.val_images, names[0])).convert("RGB")) == first).all(), \
        "val-images differ from a fresh rendering"

    # tokenizer: BPE merges learnt from the caption corpus
    captions = [t.format(w) for t in TEMPLATES for w in WORDS]
    clip.CORPUS = captions
    vocab, merges = clip.train_bpe(args.merges)
    max_length = 16
    bpe = clip.Bpe(vocab, merges)
    pad = vocab[clip.EOS]
    cfg = config(len(vocab), max_length)
    assert vocab[clip.BOS] == len(vocab) - 2 and vocab[clip.EOS] == len(vocab) - 1
    caption_ids = torch.tensor(clip.padded([bpe.encode(c, max_length) for c in captions], pad))  # (T*10, L)

    p = clip.random_params(cfg, args.seed)
    for t in p.values():
        t.requires_grad_(True)
    opt = torch.optim.AdamW(list(p.values()), lr=args.lr, weight_decay=0.05)
    views = []
    t0 = time.time()
    for v in range(args.views):
        views.append(torch.from_numpy(dv.train_images(digits, train_idx, args.seed, v, SIZE,
                                                      clip.CLIP_MEAN, clip.CLIP_STD, 0.0)))
    print(f"rendered {args.views} views in {time.time() - t0:.0f}s")
    train_y = torch.tensor(y[train_idx])
    batch = 64
    steps = args.epochs * math.ceil(len(train_idx) / batch)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 100) * 0.5 * (1 + math.cos(math.pi * s / steps)))
    g = torch.Generator().manual_seed(args.seed + 1)
    t0 = time.time()
    for epoch in range(args.epochs):
        x_all = views[epoch % args.views]
        order = torch.randperm(len(train_idx), generator=g)
        total = 0.0
        for s in range(0, len(order), batch):
            at = order[s:s + batch]
            labels = train_y[at]
            tmpl = torch.randint(len(TEMPLATES), (len(at),), generator=g)
            ids = caption_ids[tmpl * 10 + labels]
            img = clip.unit(clip.image_features(p, cfg, x_all[at]))
            txt = clip.unit(clip.text_features(p, cfg, ids.tolist()))
            logits = p["logit_scale"].clamp(max=math.log(100)).exp() * img @ txt.t()
            same = (labels[:, None] == labels[None, :]).float()
            target = same / same.sum(1, keepdim=True)
            loss = 0.5 * (torch.sum(-target * logits.log_softmax(1), 1).mean()
                          + torch.sum(-target * logits.t().log_softmax(1), 1).mean())
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss) * len(at)
        print(f"epoch {epoch + 1}: loss {total / len(order):.4f}  ({time.time() - t0:.0f}s)")
    train_s = time.time() - t0
    with torch.no_grad():
        p["logit_scale"].clamp_(max=math.log(100))
    p = {k: t.detach() for k, t in p.items()}

    os.makedirs(args.out, exist_ok=True)
    clip.write_safetensors(os.path.join(args.out, "model.safetensors"), p)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(args.out, "preprocessor_config.json"), "w") as f:
        json.dump({"image_processor_type": "CLIPImageProcessor", "processor_class": "CLIPProcessor",
                   "do_resize": True, "size": {"height": SIZE, "width": SIZE}, "resample": 2,
                   "do_center_crop": False, "crop_size": {"height": SIZE, "width": SIZE},
                   "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
                   "image_mean": clip.CLIP_MEAN, "image_std": clip.CLIP_STD, "do_convert_rgb": True}, f, indent=2)
    with open(os.path.join(args.out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(clip.tokenizer_json(vocab, merges, max_length), f, ensure_ascii=False, indent=1)
    with open(os.path.join(args.out, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "CLIPTokenizer", "model_max_length": max_length, "bos_token": clip.BOS,
                   "eos_token": clip.EOS, "unk_token": clip.EOS, "pad_token": clip.EOS, "do_lower_case": True,
                   "clean_up_tokenization_spaces": False}, f, indent=2)
    with open(os.path.join(args.out, "special_tokens_map.json"), "w") as f:
        json.dump({"bos_token": clip.BOS, "eos_token": clip.EOS, "unk_token": clip.EOS, "pad_token": clip.EOS},
                  f, indent=2)

    # reference: the port's zero-shot answers on the validation PNGs, read back as the server reads them
    with torch.no_grad():
        pixels = torch.stack([clip.pixels_of(os.path.join(args.val_images, n), SIZE) for n in names])
        img = clip.unit(clip.image_features(p, cfg, pixels))
        texts = [ZERO_SHOT_TEMPLATE.format(w) for w in WORDS]
        ids = clip.padded([bpe.encode(t, max_length) for t in texts], pad)
        txt = clip.unit(clip.text_features(p, cfg, ids))
        probs = (p["logit_scale"].exp() * img @ txt.t()).softmax(-1)
    pred = probs.argmax(-1).tolist()
    truth = [int(n.split("_")[1][0]) for n in names]
    acc = sum(int(a == b) for a, b in zip(pred, truth)) / len(truth)
    reference = {
        "note": "made by testkit/tools/make-digits-clip.py; probabilities: softmax over logits_per_image",
        "labels": WORDS, "template": ZERO_SHOT_TEMPLATE, "input_ids": ids, "accuracy": acc,
        "training_seconds": round(train_s), "images": [
            {"image": n, "label": WORDS[t], "prediction": WORDS[k], "scores": [round(s, 7) for s in pr]}
            for n, t, k, pr in zip(names, truth, pred, probs.tolist())],
    }
    with open(os.path.join(args.out, "reference-zero-shot.json"), "w") as f:
        json.dump(reference, f, indent=1)
    print(f"zero-shot accuracy on {len(names)} validation digits: {acc:.4f}; vocab {len(vocab)}, "
          f"params {sum(t.numel() for t in p.values())}, training {train_s:.0f}s")
    if acc < args.min_accuracy:
        raise SystemExit(f"accuracy {acc:.4f} below {args.min_accuracy}")


if __name__ == "__main__":
    main()
