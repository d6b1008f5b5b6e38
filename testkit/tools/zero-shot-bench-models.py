#!/usr/bin/python3
"""Make the two models the benchmark's zero-shot part compares, with random weights:

  <out>/clip  a CLIPModel whose vision tower has ViT-B/32's shape at reduced depth
              (224 px, patch 32, hidden 768, 12 heads, MLP 3072, --layers layers, quick_gelu),
              a text tower of hidden 512, 8 heads, MLP 2048, --text-layers layers, projection 512;
              tokenizer files copied from ../fixtures/tiny-clip (its small BPE vocabulary,
              model_max_length 16)
  <out>/vit   a ViTForImageClassification of the same image network (224 px, patch 32,
              hidden 768, 12 heads, MLP 3072, --layers layers, qkv bias), 1000 labels

Both as model.safetensors (Hugging Face names), built by clip-fixture.py's and vit-fixture.py's
own code. Needs Debian's python3-torch, python3-numpy, python3-pil, python3-regex:
    /usr/bin/python3 zero-shot-bench-models.py --out /tmp/zsb --layers 4
"""
import argparse
import importlib.util
import json
import os
import shutil
import types

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name):
    spec = importlib.util.spec_from_file_location(name.replace("-", "_"), os.path.join(HERE, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    a = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("--out", required=True)
    a.add_argument("--layers", type=int, default=4)
    a.add_argument("--text-layers", type=int, default=4)
    a.add_argument("--seed", type=int, default=7)
    args = a.parse_args()
    clip, vit = load("clip-fixture"), load("vit-fixture")
    tiny = os.path.join(HERE, "..", "fixtures", "tiny-clip")
    with open(os.path.join(tiny, "config.json")) as f:
        tiny_cfg = json.load(f)

    out = os.path.join(args.out, "clip")
    os.makedirs(out, exist_ok=True)
    cfg = {
        "architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": 512,
        "logit_scale_init_value": 2.6592, "initializer_factor": 1.0, "torch_dtype": "float32",
        "text_config": dict(tiny_cfg["text_config"], hidden_size=512, intermediate_size=2048,
                            num_hidden_layers=args.text_layers, num_attention_heads=8, projection_dim=512),
        "vision_config": {"model_type": "clip_vision_model", "hidden_size": 768, "intermediate_size": 3072,
                          "num_hidden_layers": args.layers, "num_attention_heads": 12, "num_channels": 3,
                          "image_size": 224, "patch_size": 32, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5,
                          "projection_dim": 512},
    }
    clip.write_safetensors(os.path.join(out, "model.safetensors"), clip.random_params(cfg, args.seed))
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(os.path.join(tiny, name), os.path.join(out, name))
    with open(os.path.join(tiny, "preprocessor_config.json")) as f:
        pre = json.load(f)
    pre["size"] = pre["crop_size"] = {"height": 224, "width": 224}
    with open(os.path.join(out, "preprocessor_config.json"), "w") as f:
        json.dump(pre, f, indent=2)

    out = os.path.join(args.out, "vit")
    os.makedirs(out, exist_ok=True)
    v = types.SimpleNamespace(image_size=224, patch_size=32, hidden=768, layers=args.layers, heads=12, mlp=3072,
                              labels=1000, eps=1e-12, seed=args.seed, qkv_bias=True, logit_scale=4.0,
                              mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5])
    model = vit.build(v)
    vit.write_configs(out, v)
    vit.write_safetensors(os.path.join(out, "model.safetensors"), vit.hf_state_dict(model, v))


if __name__ == "__main__":
    main()
