#!/usr/bin/python3
"""A PyTorch port of Hugging Face's vision classifiers, for random-weight fixtures of odd shapes.

transformers itself is not installable here, so this file re-implements, module by module, what
modeling_deit.py, modeling_dinov2.py, modeling_dinov2_with_registers.py, modeling_beit.py and modeling_swin.py compute at inference (eval
mode: no dropout, no drop path, eager attention). The modules carry Hugging Face's class names and
attribute names, so `state_dict()` has Hugging Face's parameter names and the written model.safetensors
loads into transformers as it is.

Writes into OUT:
    config.json               the architecture's Hugging Face config (architectures, model_type, ...)
    preprocessor_config.json  a ViTImageProcessor config (resize to size, rescale, normalize)
    model.safetensors         the weights under Hugging Face's names
    reference.json            per photo of --images: logits, softmax top-k and the embedding (what the
                              classifier reads), computed on the tensor Pillow makes as the HF pipeline does;
                              and under "pixels", the same for the synthetic batch the backend tests build
                              (x[n,c,h,w] = ((n*7 + c*13 + h*3 + w*5) % 17 - 8) / 8, images 0..2)

Run with Debian's Python (python3-torch, python3-pil, python3-numpy):
    /usr/bin/python3 testkit/tools/hf-vision-port.py --preset dinov2-shape --out testkit/fixtures/dinov2-shape \
        --images testkit/fixtures/images
The presets are the committed fixtures; --seed makes them again byte for byte.
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch
from torch import nn
from PIL import Image, ImageOps

DEMO_LABELS = ["tabby cat", "tiger", "teapot", "palace", "golden retriever",
               "espresso", "rocket", "coffee mug", "astronaut", "lighthouse"]

PRESETS = {
    # DeiT: 40 px, patch 8 (25 patches), hidden 36 (3 heads of 12), MLP 60, 2 layers
    "deit-shape": dict(architecture="DeiTForImageClassification", image_size=40, patch_size=8, hidden_size=36,
                       num_hidden_layers=2, num_attention_heads=3, intermediate_size=60, num_labels=5,
                       layer_norm_eps=1e-12, qkv_bias=True, size=(40, 40), seed=11),
    # DeiT with teacher: 48 px, patch 12 (16 patches), hidden 40, 4 heads, MLP 72, no qkv bias, eps 1e-6
    "deit-teacher-shape": dict(architecture="DeiTForImageClassificationWithTeacher", image_size=48, patch_size=12,
                               hidden_size=40, num_hidden_layers=2, num_attention_heads=4, intermediate_size=72,
                               num_labels=6, layer_norm_eps=1e-6, qkv_bias=False, size=(48, 48), seed=12),
    # DINOv2 trained at 70 px, patch 7 (10x10 positions), served at 56x63 (8x9 patches: shrunk, non-square)
    "dinov2-shape": dict(architecture="Dinov2ForImageClassification", image_size=70, patch_size=7, hidden_size=32,
                         num_hidden_layers=2, num_attention_heads=4, mlp_ratio=3, num_labels=4, layer_norm_eps=1e-6,
                         qkv_bias=True, use_swiglu_ffn=False, size=(56, 63), seed=13),
    # DINOv2 with 3 registers and SwiGLU, trained at 36 px, patch 6 (6x6 positions), served at 54 (9x9: grown)
    "dinov2-registers-shape": dict(architecture="Dinov2WithRegistersForImageClassification", image_size=36,
                                   patch_size=6, hidden_size=24, num_hidden_layers=2, num_attention_heads=3,
                                   mlp_ratio=4, num_labels=3, layer_norm_eps=1e-6, qkv_bias=True,
                                   use_swiglu_ffn=True, num_register_tokens=3, size=(54, 54), seed=14),
    # BEiT: 42 px, patch 6 (7x7 patches), relative position bias in every layer, layer scale, mean pooling
    "beit-shape": dict(architecture="BeitForImageClassification", image_size=42, patch_size=6, hidden_size=32,
                       num_hidden_layers=2, num_attention_heads=4, intermediate_size=56, num_labels=5,
                       layer_norm_eps=1e-12, use_absolute_position_embeddings=False, use_relative_position_bias=True,
                       use_shared_relative_position_bias=False, layer_scale_init_value=0.1, use_mean_pooling=True,
                       size=(42, 42), seed=15),
    # BEiT: 45 px, patch 9 (5x5), one relative position bias shared by the layers, absolute position embeddings,
    # no layer scale, the class token through the final layernorm
    "beit-shared-shape": dict(architecture="BeitForImageClassification", image_size=45, patch_size=9, hidden_size=24,
                              num_hidden_layers=2, num_attention_heads=3, intermediate_size=40, num_labels=4,
                              layer_norm_eps=1e-6, use_absolute_position_embeddings=True,
                              use_relative_position_bias=False, use_shared_relative_position_bias=True,
                              layer_scale_init_value=0.0, use_mean_pooling=False, size=(45, 45), seed=16),
    # Swin: 26 px, patch 4 (padded to 28: 7x7 patches), window 3 (padded to 9x9, shifted by 1 every other block),
    # two stages of 2 blocks, embed_dim 16 (then 32 after the odd 7x7 grid is padded to 8x8 and merged to 4x4)
    "swin-shape": dict(architecture="SwinForImageClassification", image_size=26, patch_size=4, embed_dim=16,
                       depths=[2, 2], num_heads=[2, 4], window_size=3, mlp_ratio=2.5, qkv_bias=True,
                       layer_norm_eps=1e-5, use_absolute_embeddings=False, num_labels=5, size=(26, 26), seed=17),
    # Swin, non-square: 24x40 px, patch 4 (6x10 patches, padded to 6x12 windows of 3), 3 blocks then 2, no qkv bias;
    # merged to 3x5, where the smaller side is the window: one row of windows, never shifted
    "swin-window-shape": dict(architecture="SwinForImageClassification", image_size=[24, 40], patch_size=4,
                              embed_dim=24, depths=[3, 2], num_heads=[3, 6], window_size=3, mlp_ratio=2.0,
                              qkv_bias=False, layer_norm_eps=1e-6, use_absolute_embeddings=False, num_labels=4,
                              size=(24, 40), seed=18),
}

MODEL_TYPES = {
    "DeiTForImageClassification": "deit", "DeiTForImageClassificationWithTeacher": "deit",
    "Dinov2ForImageClassification": "dinov2", "Dinov2WithRegistersForImageClassification": "dinov2_with_registers",
    "BeitForImageClassification": "beit", "SwinForImageClassification": "swin",
}


class Config:
    def __init__(self, **kw):
        self.__dict__.update(kw)


# ---------------------------------------------------------------- shared pieces (ViT-style attention)

class SelfAttention(nn.Module):
    """query, key, value projections; softmax(q k^T * head_size^-0.5) v, heads merged (modeling_vit's eager path)."""

    def __init__(self, config, key_bias=None):
        super().__init__()
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = config.hidden_size // config.num_attention_heads
        self.scaling = self.attention_head_size ** -0.5
        self.query = nn.Linear(config.hidden_size, config.hidden_size, bias=config.qkv_bias)
        self.key = nn.Linear(config.hidden_size, config.hidden_size, bias=config.qkv_bias)
        self.value = nn.Linear(config.hidden_size, config.hidden_size, bias=config.qkv_bias)

    def forward(self, x):
        b, t, _ = x.shape
        shape = (b, t, self.num_attention_heads, self.attention_head_size)
        q = self.query(x).view(shape).transpose(1, 2)
        k = self.key(x).view(shape).transpose(1, 2)
        v = self.value(x).view(shape).transpose(1, 2)
        weights = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * self.scaling, dim=-1, dtype=torch.float32)
        return torch.matmul(weights, v).transpose(1, 2).reshape(b, t, -1)


class SelfOutput(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, x):
        return self.dense(x)


class Attention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.attention = SelfAttention(config)
        self.output = SelfOutput(config)

    def forward(self, x):
        return self.output(self.attention(x))


class PatchEmbeddings(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.num_patches = (config.image_size // config.patch_size) ** 2
        self.projection = nn.Conv2d(config.num_channels, config.hidden_size, kernel_size=config.patch_size,
                                    stride=config.patch_size)

    def forward(self, pixel_values):
        return self.projection(pixel_values).flatten(2).transpose(1, 2)


# ---------------------------------------------------------------- DeiT (modeling_deit.py)

class DeiTEmbeddings(nn.Module):
    """cls token, distillation token, patches, plus the learned position embeddings (num_patches + 2)."""

    def __init__(self, config):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, config.hidden_size))
        self.distillation_token = nn.Parameter(torch.zeros(1, 1, config.hidden_size))
        self.patch_embeddings = PatchEmbeddings(config)
        self.position_embeddings = nn.Parameter(
            torch.zeros(1, self.patch_embeddings.num_patches + 2, config.hidden_size))

    def forward(self, pixel_values):
        x = self.patch_embeddings(pixel_values)
        b = x.shape[0]
        x = torch.cat((self.cls_token.expand(b, -1, -1), self.distillation_token.expand(b, -1, -1), x), dim=1)
        return x + self.position_embeddings


class DeiTIntermediate(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)

    def forward(self, x):
        return nn.functional.gelu(self.dense(x))


class DeiTOutput(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.intermediate_size, config.hidden_size)

    def forward(self, x, residual):
        return self.dense(x) + residual


class DeiTLayer(nn.Module):
    """pre-LN: h += attention(layernorm_before(h)); h = output(intermediate(layernorm_after(h)), h)."""

    def __init__(self, config):
        super().__init__()
        self.attention = Attention(config)
        self.intermediate = DeiTIntermediate(config)
        self.output = DeiTOutput(config)
        self.layernorm_before = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.layernorm_after = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, h):
        h = self.attention(self.layernorm_before(h)) + h
        return self.output(self.intermediate(self.layernorm_after(h)), h)


class Encoder(nn.Module):
    def __init__(self, config, layer_class):
        super().__init__()
        self.layer = nn.ModuleList([layer_class(config) for _ in range(config.num_hidden_layers)])

    def forward(self, h):
        for layer in self.layer:
            h = layer(h)
        return h


class DeiTModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embeddings = DeiTEmbeddings(config)
        self.encoder = Encoder(config, DeiTLayer)
        self.layernorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, pixel_values):
        return self.layernorm(self.encoder(self.embeddings(pixel_values)))


class DeiTForImageClassification(nn.Module):
    """classifier on the class token (index 0) of the final-layernormed sequence."""

    def __init__(self, config):
        super().__init__()
        self.deit = DeiTModel(config)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, pixel_values):
        sequence = self.deit(pixel_values)
        embedding = sequence[:, 0, :]
        return self.classifier(embedding), embedding


class DeiTForImageClassificationWithTeacher(nn.Module):
    """(cls_classifier(token 0) + distillation_classifier(token 1)) / 2."""

    def __init__(self, config):
        super().__init__()
        self.deit = DeiTModel(config)
        self.cls_classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.distillation_classifier = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, pixel_values):
        sequence = self.deit(pixel_values)
        cls_logits = self.cls_classifier(sequence[:, 0, :])
        distillation_logits = self.distillation_classifier(sequence[:, 1, :])
        return (cls_logits + distillation_logits) / 2, torch.cat((sequence[:, 0, :], sequence[:, 1, :]), dim=1)


# ---------------------------------------------------------------- DINOv2 (modeling_dinov2.py, _with_registers.py)

class Dinov2Embeddings(nn.Module):
    """cls token + patches, plus position embeddings resized to the image's patch grid (interpolate_pos_encoding)."""

    antialias = False

    def __init__(self, config):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, config.hidden_size))
        self.mask_token = nn.Parameter(torch.zeros(1, config.hidden_size))
        self.patch_embeddings = PatchEmbeddings(config)
        self.position_embeddings = nn.Parameter(
            torch.zeros(1, self.patch_embeddings.num_patches + 1, config.hidden_size))
        self.patch_size = config.patch_size

    def interpolate_pos_encoding(self, embeddings, height, width):
        num_patches = embeddings.shape[1] - 1
        num_positions = self.position_embeddings.shape[1] - 1
        if num_patches == num_positions and height == width:
            return self.position_embeddings
        class_pos_embed = self.position_embeddings[:, :1]
        patch_pos_embed = self.position_embeddings[:, 1:]
        dim = embeddings.shape[-1]
        side = int(num_positions ** 0.5)
        patch_pos_embed = patch_pos_embed.reshape(1, side, side, dim).permute(0, 3, 1, 2)
        patch_pos_embed = nn.functional.interpolate(
            patch_pos_embed.to(torch.float32), size=(height // self.patch_size, width // self.patch_size),
            mode="bicubic", align_corners=False, antialias=self.antialias)
        patch_pos_embed = patch_pos_embed.permute(0, 2, 3, 1).reshape(1, -1, dim)
        return torch.cat((class_pos_embed, patch_pos_embed), dim=1)

    def forward(self, pixel_values):
        b, _, height, width = pixel_values.shape
        x = self.patch_embeddings(pixel_values)
        x = torch.cat((self.cls_token.expand(b, -1, -1), x), dim=1)
        return x + self.interpolate_pos_encoding(x, height, width)


class Dinov2WithRegistersEmbeddings(Dinov2Embeddings):
    """as Dinov2's, interpolation antialiased, then the register tokens inserted after the cls token."""

    antialias = True

    def __init__(self, config):
        super().__init__(config)
        self.register_tokens = nn.Parameter(torch.zeros(1, config.num_register_tokens, config.hidden_size))

    def forward(self, pixel_values):
        x = super().forward(pixel_values)
        return torch.cat((x[:, :1], self.register_tokens.expand(x.shape[0], -1, -1), x[:, 1:]), dim=1)


class Dinov2LayerScale(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.lambda1 = nn.Parameter(config.layerscale_value * torch.ones(config.hidden_size))

    def forward(self, x):
        return x * self.lambda1


class Dinov2MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        hidden = int(config.hidden_size * config.mlp_ratio)
        self.fc1 = nn.Linear(config.hidden_size, hidden)
        self.fc2 = nn.Linear(hidden, config.hidden_size)

    def forward(self, x):
        return self.fc2(nn.functional.gelu(self.fc1(x)))


class Dinov2SwiGLUFFN(nn.Module):
    def __init__(self, config):
        super().__init__()
        hidden = int(config.hidden_size * config.mlp_ratio)
        hidden = (int(hidden * 2 / 3) + 7) // 8 * 8
        self.weights_in = nn.Linear(config.hidden_size, 2 * hidden)
        self.weights_out = nn.Linear(hidden, config.hidden_size)

    def forward(self, x):
        x1, x2 = self.weights_in(x).chunk(2, dim=-1)
        return self.weights_out(nn.functional.silu(x1) * x2)


class Dinov2Layer(nn.Module):
    """h += layer_scale1(attention(norm1(h))); h += layer_scale2(mlp(norm2(h)))."""

    def __init__(self, config):
        super().__init__()
        self.norm1 = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.attention = Attention(config)
        self.layer_scale1 = Dinov2LayerScale(config)
        self.norm2 = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.mlp = Dinov2SwiGLUFFN(config) if config.use_swiglu_ffn else Dinov2MLP(config)
        self.layer_scale2 = Dinov2LayerScale(config)

    def forward(self, h):
        h = self.layer_scale1(self.attention(self.norm1(h))) + h
        return self.layer_scale2(self.mlp(self.norm2(h))) + h


class Dinov2Model(nn.Module):
    embeddings_class = Dinov2Embeddings

    def __init__(self, config):
        super().__init__()
        self.embeddings = self.embeddings_class(config)
        self.encoder = Encoder(config, Dinov2Layer)
        self.layernorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, pixel_values):
        return self.layernorm(self.encoder(self.embeddings(pixel_values)))


class Dinov2WithRegistersModel(Dinov2Model):
    embeddings_class = Dinov2WithRegistersEmbeddings


class Dinov2ForImageClassification(nn.Module):
    """classifier on cat(cls token, mean of the patch tokens)."""

    base = "dinov2"

    def __init__(self, config):
        super().__init__()
        setattr(self, self.base, (Dinov2WithRegistersModel if self.base != "dinov2" else Dinov2Model)(config))
        self.classifier = nn.Linear(config.hidden_size * 2, config.num_labels)
        self.skip = 1 + getattr(config, "num_register_tokens", 0)

    def forward(self, pixel_values):
        sequence = getattr(self, self.base)(pixel_values)
        embedding = torch.cat([sequence[:, 0], sequence[:, self.skip:].mean(dim=1)], dim=1)
        return self.classifier(embedding), embedding


class Dinov2WithRegistersForImageClassification(Dinov2ForImageClassification):
    base = "dinov2_with_registers"


# ---------------------------------------------------------------- BEiT (modeling_beit.py)

class BeitPatchEmbeddings(PatchEmbeddings):
    """The Conv projection; the absolute position embeddings of the patches (when there are any) are added on the
    [hidden, rows, columns] grid, resized bicubically to the grid of the image (the identity at the trained size)."""

    def __init__(self, config):
        super().__init__(config)
        self.patch_shape = (config.image_size // config.patch_size, config.image_size // config.patch_size)

    def forward(self, pixel_values, position_embedding=None):
        x = self.projection(pixel_values)
        rows, columns = x.shape[2], x.shape[3]
        if position_embedding is not None:
            grid = position_embedding.view(1, self.patch_shape[0], self.patch_shape[1], -1).permute(0, 3, 1, 2)
            x = x + nn.functional.interpolate(grid, size=(rows, columns), mode="bicubic")
        return x.flatten(2).transpose(1, 2)


class BeitEmbeddings(nn.Module):
    """cls token (plus its absolute position embedding) before the patches; no position embeddings at all unless
    use_absolute_position_embeddings."""

    def __init__(self, config):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, config.hidden_size))
        self.patch_embeddings = BeitPatchEmbeddings(config)
        self.position_embeddings = (nn.Parameter(torch.zeros(1, self.patch_embeddings.num_patches + 1,
                                                             config.hidden_size))
                                    if config.use_absolute_position_embeddings else None)

    def forward(self, pixel_values):
        positions = self.position_embeddings
        x = self.patch_embeddings(pixel_values, positions[:, 1:, :] if positions is not None else None)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        if positions is not None:
            cls = cls + positions[:, :1, :]
        return torch.cat((cls, x), dim=1)


class BeitRelativePositionBias(nn.Module):
    """A learned bias per head for every (query, key) pair: patch to patch by their offset on the grid
    ((2 rows - 1) x (2 columns - 1) entries), then three more for cls to patch, patch to cls and cls to cls."""

    def __init__(self, config, window_size):
        super().__init__()
        self.window_size = window_size
        self.num_relative_distance = (2 * window_size[0] - 1) * (2 * window_size[1] - 1) + 3
        self.relative_position_bias_table = nn.Parameter(torch.zeros(self.num_relative_distance,
                                                                     config.num_attention_heads))

    @staticmethod
    def relative_position_index(window_size):
        rows, columns = window_size
        distances = (2 * rows - 1) * (2 * columns - 1) + 3
        coords = torch.stack(torch.meshgrid(torch.arange(rows), torch.arange(columns), indexing="ij")).flatten(1)
        offsets = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0).contiguous()
        offsets[:, :, 0] += rows - 1
        offsets[:, :, 1] += columns - 1
        offsets[:, :, 0] *= 2 * columns - 1
        index = torch.zeros((rows * columns + 1,) * 2, dtype=offsets.dtype)
        index[1:, 1:] = offsets.sum(-1)
        index[0, 0:] = distances - 3
        index[0:, 0] = distances - 2
        index[0, 0] = distances - 1
        return index

    def forward(self, window_size):
        # HF resizes the patch-to-patch part of the table bilinearly to the image's grid first (laid out as
        # [1, heads, 2 columns - 1, 2 rows - 1]); at the trained, square grid that is the identity, done here too
        old_rows, old_columns = 2 * self.window_size[0] - 1, 2 * self.window_size[1] - 1
        new_rows, new_columns = 2 * window_size[0] - 1, 2 * window_size[1] - 1
        table = self.relative_position_bias_table
        old = self.num_relative_distance
        sub = table[:old - 3].reshape(1, old_columns, old_rows, -1).permute(0, 3, 1, 2)
        sub = nn.functional.interpolate(sub, size=(new_rows, new_columns), mode="bilinear")
        sub = sub.permute(0, 2, 3, 1).reshape(new_rows * new_columns, -1)
        table = torch.cat([sub, table[old - 3:]])
        tokens = window_size[0] * window_size[1] + 1
        bias = table[self.relative_position_index(window_size).view(-1)].view(tokens, tokens, -1)
        return bias.permute(2, 0, 1).contiguous().unsqueeze(0)


class BeitSelfAttention(nn.Module):
    """query and value with a bias, key without; softmax(q k^T / sqrt(head_size) + relative biases) v."""

    def __init__(self, config, window_size=None):
        super().__init__()
        self.config = config
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = config.hidden_size // config.num_attention_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size, bias=False)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.relative_position_bias = BeitRelativePositionBias(config, window_size) if window_size else None

    def forward(self, x, shared_bias, resolution):
        b, t, _ = x.shape
        shape = (b, t, self.num_attention_heads, self.attention_head_size)
        q = self.query(x).view(shape).permute(0, 2, 1, 3)
        k = self.key(x).view(shape).permute(0, 2, 1, 3)
        v = self.value(x).view(shape).permute(0, 2, 1, 3)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.attention_head_size)
        if self.relative_position_bias is not None:
            grid = (resolution[0] // self.config.patch_size, resolution[1] // self.config.patch_size)
            scores = scores + self.relative_position_bias(grid)
        if shared_bias is not None:
            scores = scores + shared_bias
        weights = torch.softmax(scores, dim=-1)
        return torch.matmul(weights, v).permute(0, 2, 1, 3).contiguous().view(b, t, -1)


class BeitAttention(nn.Module):
    def __init__(self, config, window_size=None):
        super().__init__()
        self.attention = BeitSelfAttention(config, window_size)
        self.output = SelfOutput(config)

    def forward(self, x, shared_bias, resolution):
        return self.output(self.attention(x, shared_bias, resolution))


class BeitOutput(nn.Module):
    """the MLP's down projection, without the residual (BeitLayer adds it after lambda_2)."""

    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.intermediate_size, config.hidden_size)

    def forward(self, x):
        return self.dense(x)


class BeitLayer(nn.Module):
    """pre-LN: h += lambda_1 * attention(layernorm_before(h)); h += lambda_2 * mlp(layernorm_after(h)); the lambdas
    only when layer_scale_init_value > 0."""

    def __init__(self, config, window_size=None):
        super().__init__()
        self.attention = BeitAttention(config, window_size)
        self.intermediate = DeiTIntermediate(config)
        self.output = BeitOutput(config)
        self.layernorm_before = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.layernorm_after = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        if config.layer_scale_init_value > 0:
            self.lambda_1 = nn.Parameter(config.layer_scale_init_value * torch.ones(config.hidden_size))
            self.lambda_2 = nn.Parameter(config.layer_scale_init_value * torch.ones(config.hidden_size))
        else:
            self.lambda_1, self.lambda_2 = None, None

    def forward(self, h, shared_bias, resolution):
        a = self.attention(self.layernorm_before(h), shared_bias, resolution)
        if self.lambda_1 is not None:
            a = self.lambda_1 * a
        h = a + h
        m = self.output(self.intermediate(self.layernorm_after(h)))
        if self.lambda_2 is not None:
            m = self.lambda_2 * m
        return m + h


class BeitEncoder(nn.Module):
    def __init__(self, config, window_size):
        super().__init__()
        self.config = config
        self.relative_position_bias = (BeitRelativePositionBias(config, window_size)
                                       if config.use_shared_relative_position_bias else None)
        self.layer = nn.ModuleList([BeitLayer(config, window_size if config.use_relative_position_bias else None)
                                    for _ in range(config.num_hidden_layers)])

    def forward(self, h, resolution):
        for layer in self.layer:
            grid = (resolution[0] // self.config.patch_size, resolution[1] // self.config.patch_size)
            shared = self.relative_position_bias(grid) if self.relative_position_bias is not None else None
            h = layer(h, shared, resolution)
        return h


class BeitPooler(nn.Module):
    """use_mean_pooling: layernorm(mean of the patch tokens); else the cls token as it is."""

    def __init__(self, config):
        super().__init__()
        self.layernorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps) if config.use_mean_pooling else None

    def forward(self, h):
        if self.layernorm is not None:
            return self.layernorm(h[:, 1:, :].mean(1))
        return h[:, 0]


class BeitModel(nn.Module):
    """the final layernorm on the sequence only without mean pooling (else the pooler's layernorm does the work)."""

    def __init__(self, config):
        super().__init__()
        self.embeddings = BeitEmbeddings(config)
        self.encoder = BeitEncoder(config, self.embeddings.patch_embeddings.patch_shape)
        self.layernorm = (nn.Identity() if config.use_mean_pooling
                          else nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps))
        self.pooler = BeitPooler(config)

    def forward(self, pixel_values):
        h = self.encoder(self.embeddings(pixel_values), pixel_values.shape[2:])
        return self.pooler(self.layernorm(h))


class BeitForImageClassification(nn.Module):
    """classifier on the pooler's output, which is the embedding."""

    def __init__(self, config):
        super().__init__()
        self.beit = BeitModel(config)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, pixel_values):
        pooled = self.beit(pixel_values)
        return self.classifier(pooled), pooled



# ---------------------------------------------------------------- Swin (modeling_swin.py)

def window_partition(x, window):
    b, h, w, c = x.shape
    x = x.view(b, h // window, window, w // window, window, c)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, window, window, c)


def window_reverse(windows, window, h, w):
    c = windows.shape[-1]
    x = windows.view(-1, h // window, w // window, window, window, c)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, h, w, c)


class SwinPatchEmbeddings(nn.Module):
    """the image padded right and bottom with zeros to whole patches, then the Conv projection."""

    def __init__(self, config):
        super().__init__()
        self.patch_size = config.patch_size
        self.projection = nn.Conv2d(config.num_channels, config.embed_dim, kernel_size=config.patch_size,
                                    stride=config.patch_size)

    def forward(self, pixel_values):
        _, _, h, w = pixel_values.shape
        if w % self.patch_size != 0:
            pixel_values = nn.functional.pad(pixel_values, (0, self.patch_size - w % self.patch_size))
        if h % self.patch_size != 0:
            pixel_values = nn.functional.pad(pixel_values, (0, 0, 0, self.patch_size - h % self.patch_size))
        x = self.projection(pixel_values)
        return x.flatten(2).transpose(1, 2), (x.shape[2], x.shape[3])


class SwinEmbeddings(nn.Module):
    """patches, then a LayerNorm with PyTorch's default eps (1e-5, not layer_norm_eps); use_absolute_embeddings is
    not ported (HF's table there has one row too many for the patches)."""

    def __init__(self, config):
        super().__init__()
        self.patch_embeddings = SwinPatchEmbeddings(config)
        self.norm = nn.LayerNorm(config.embed_dim)

    def forward(self, pixel_values):
        x, dims = self.patch_embeddings(pixel_values)
        return self.norm(x), dims


class SwinSelfAttention(nn.Module):
    """attention inside a window of window x window tokens, plus the relative position bias of their offsets
    (a (2 window - 1)^2 x heads table), plus the shifted windows' mask."""

    def __init__(self, config, dim, heads):
        super().__init__()
        self.num_attention_heads = heads
        self.attention_head_size = dim // heads
        self.window_size = (config.window_size, config.window_size)
        self.relative_position_bias_table = nn.Parameter(
            torch.zeros((2 * self.window_size[0] - 1) * (2 * self.window_size[1] - 1), heads))
        coords = torch.stack(torch.meshgrid(torch.arange(self.window_size[0]), torch.arange(self.window_size[1]),
                                            indexing="ij")).flatten(1)
        offsets = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0).contiguous()
        offsets[:, :, 0] += self.window_size[0] - 1
        offsets[:, :, 1] += self.window_size[1] - 1
        offsets[:, :, 0] *= 2 * self.window_size[1] - 1
        self.register_buffer("relative_position_index", offsets.sum(-1))
        self.query = nn.Linear(dim, dim, bias=config.qkv_bias)
        self.key = nn.Linear(dim, dim, bias=config.qkv_bias)
        self.value = nn.Linear(dim, dim, bias=config.qkv_bias)

    def forward(self, x, mask):
        b, t, _ = x.shape
        shape = (b, t, self.num_attention_heads, self.attention_head_size)
        q = self.query(x).view(shape).permute(0, 2, 1, 3)
        k = self.key(x).view(shape).permute(0, 2, 1, 3)
        v = self.value(x).view(shape).permute(0, 2, 1, 3)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.attention_head_size)
        area = self.window_size[0] * self.window_size[1]
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)].view(area, area, -1)
        scores = scores + bias.permute(2, 0, 1).contiguous().unsqueeze(0)
        if mask is not None:
            windows = mask.shape[0]
            scores = scores.view(b // windows, windows, self.num_attention_heads, t, t)
            scores = (scores + mask.unsqueeze(1).unsqueeze(0)).view(-1, self.num_attention_heads, t, t)
        weights = torch.softmax(scores, dim=-1)
        return torch.matmul(weights, v).permute(0, 2, 1, 3).contiguous().view(b, t, -1)


class SwinAttention(nn.Module):
    def __init__(self, config, dim, heads):
        super().__init__()
        self.self = SwinSelfAttention(config, dim, heads)
        self.output = SelfOutput(Config(hidden_size=dim))

    def forward(self, x, mask):
        return self.output(self.self(x, mask))


class SwinIntermediate(nn.Module):
    def __init__(self, config, dim):
        super().__init__()
        self.dense = nn.Linear(dim, int(config.mlp_ratio * dim))

    def forward(self, x):
        return nn.functional.gelu(self.dense(x))


class SwinOutput(nn.Module):
    def __init__(self, config, dim):
        super().__init__()
        self.dense = nn.Linear(int(config.mlp_ratio * dim), dim)

    def forward(self, x):
        return self.dense(x)


class SwinLayer(nn.Module):
    """pre-LN block: layernorm_before, the grid padded right and bottom to whole windows, rolled back by the shift,
    split into windows, attention per window (the shift's mask: -100 between tokens from different regions), merged,
    rolled forward, the padding cut off, added to the residual; then the MLP. A grid no larger than the window is one
    window, unshifted."""

    def __init__(self, config, dim, heads, shift):
        super().__init__()
        self.shift_size = shift
        self.window_size = config.window_size
        self.layernorm_before = nn.LayerNorm(dim, eps=config.layer_norm_eps)
        self.attention = SwinAttention(config, dim, heads)
        self.layernorm_after = nn.LayerNorm(dim, eps=config.layer_norm_eps)
        self.intermediate = SwinIntermediate(config, dim)
        self.output = SwinOutput(config, dim)

    def attention_mask(self, h, w):
        if self.shift_size == 0:
            return None
        regions = torch.zeros((1, h, w, 1))
        slices = (slice(0, -self.window_size), slice(-self.window_size, -self.shift_size), slice(-self.shift_size, None))
        count = 0
        for hs in slices:
            for ws in slices:
                regions[:, hs, ws, :] = count
                count += 1
        windows = window_partition(regions, self.window_size).view(-1, self.window_size * self.window_size)
        mask = windows.unsqueeze(1) - windows.unsqueeze(2)
        return mask.masked_fill(mask != 0, float(-100.0)).masked_fill(mask == 0, float(0.0))

    def forward(self, x, dims):
        if min(dims) <= self.window_size:
            self.shift_size = 0
            self.window_size = min(dims)
        h, w = dims
        b, _, c = x.shape
        shortcut = x
        x = self.layernorm_before(x).view(b, h, w, c)
        pad_right = (self.window_size - w % self.window_size) % self.window_size
        pad_bottom = (self.window_size - h % self.window_size) % self.window_size
        x = nn.functional.pad(x, (0, 0, 0, pad_right, 0, pad_bottom))
        _, hp, wp, _ = x.shape
        if self.shift_size > 0:
            x = torch.roll(x, shifts=(-self.shift_size, -self.shift_size), dims=(1, 2))
        windows = window_partition(x, self.window_size).view(-1, self.window_size * self.window_size, c)
        attended = self.attention(windows, self.attention_mask(hp, wp))
        x = window_reverse(attended.view(-1, self.window_size, self.window_size, c), self.window_size, hp, wp)
        if self.shift_size > 0:
            x = torch.roll(x, shifts=(self.shift_size, self.shift_size), dims=(1, 2))
        x = x[:, :h, :w, :].contiguous().view(b, h * w, c)
        x = shortcut + x
        return x + self.output(self.intermediate(self.layernorm_after(x)))


class SwinPatchMerging(nn.Module):
    """each 2x2 block of the grid (padded right and bottom to even sides) as one token of 4 x dim: (0,0), (1,0), (0,1),
    (1,1) side by side, LayerNorm (eps 1e-5), then a linear reduction to 2 x dim without bias."""

    def __init__(self, dim):
        super().__init__()
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = nn.LayerNorm(4 * dim)

    def forward(self, x, dims):
        h, w = dims
        b, _, c = x.shape
        x = x.view(b, h, w, c)
        if h % 2 == 1 or w % 2 == 1:
            x = nn.functional.pad(x, (0, 0, 0, w % 2, 0, h % 2))
        x = torch.cat([x[:, 0::2, 0::2, :], x[:, 1::2, 0::2, :], x[:, 0::2, 1::2, :], x[:, 1::2, 1::2, :]], -1)
        return self.reduction(self.norm(x.view(b, -1, 4 * c)))


class SwinStage(nn.Module):
    def __init__(self, config, dim, depth, heads, downsample):
        super().__init__()
        self.blocks = nn.ModuleList([SwinLayer(config, dim, heads, 0 if i % 2 == 0 else config.window_size // 2)
                                     for i in range(depth)])
        self.downsample = SwinPatchMerging(dim) if downsample else None

    def forward(self, x, dims):
        for block in self.blocks:
            x = block(x, dims)
        if self.downsample is not None:
            x = self.downsample(x, dims)
            dims = ((dims[0] + 1) // 2, (dims[1] + 1) // 2)
        return x, dims


class SwinEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        n = len(config.depths)
        self.layers = nn.ModuleList([SwinStage(config, int(config.embed_dim * 2 ** i), config.depths[i],
                                               config.num_heads[i], i < n - 1) for i in range(n)])

    def forward(self, x, dims):
        for stage in self.layers:
            x, dims = stage(x, dims)
        return x


class SwinModel(nn.Module):
    """the final LayerNorm (layer_norm_eps) on every token of the last stage, then their mean (the pooler)."""

    def __init__(self, config):
        super().__init__()
        self.num_features = int(config.embed_dim * 2 ** (len(config.depths) - 1))
        self.embeddings = SwinEmbeddings(config)
        self.encoder = SwinEncoder(config)
        self.layernorm = nn.LayerNorm(self.num_features, eps=config.layer_norm_eps)

    def forward(self, pixel_values):
        x, dims = self.embeddings(pixel_values)
        x = self.layernorm(self.encoder(x, dims))
        return torch.flatten(nn.functional.adaptive_avg_pool1d(x.transpose(1, 2), 1), 1)


class SwinForImageClassification(nn.Module):
    """classifier on the pooled output, which is the embedding."""

    def __init__(self, config):
        super().__init__()
        self.swin = SwinModel(config)
        self.classifier = nn.Linear(self.swin.num_features, config.num_labels)

    def forward(self, pixel_values):
        pooled = self.swin(pixel_values)
        return self.classifier(pooled), pooled


CLASSES = {c.__name__: c for c in (DeiTForImageClassification, DeiTForImageClassificationWithTeacher,
                                   Dinov2ForImageClassification, Dinov2WithRegistersForImageClassification,
                                   BeitForImageClassification, SwinForImageClassification)}


# ---------------------------------------------------------------- files

def randomize(model, logit_scale):
    """Every parameter random (HF's init is near zero at these widths): weights ~ N(0, 1/fan_in), LayerNorm weights
    around 1, biases and tokens small, LayerScale between 0.5 and 1.5, the heads scaled so logits spread."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.split(".")[-1]
            parent = name.split(".")[-2] if "." in name else ""
            if "norm" in parent and leaf == "weight":
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif leaf in ("lambda1", "lambda_1", "lambda_2"):
                p.copy_(0.5 + torch.rand_like(p))
            elif leaf == "bias":
                p.copy_(0.1 * torch.randn_like(p))
            elif p.dim() >= 2 and name.endswith("weight"):
                fan_in = p[0].numel()
                scale = logit_scale if "classifier" in name else 1.0
                p.copy_(scale * torch.randn_like(p) / math.sqrt(fan_in))
            else:
                p.copy_(0.5 * torch.randn_like(p))


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        integer = not tensors[name].is_floating_point()
        data = tensors[name].detach().numpy().astype("<i8" if integer else "<f4").tobytes()
        header[name] = {"dtype": "I64" if integer else "F32", "shape": list(tensors[name].shape),
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


def write_configs(out, c, mean, std):
    labels = DEMO_LABELS[:c.num_labels] if c.num_labels <= len(DEMO_LABELS) else [f"class {i}" for i in range(c.num_labels)]
    config = {"architectures": [c.architecture], "model_type": MODEL_TYPES[c.architecture]}
    keys = ["hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "mlp_ratio",
            "hidden_act", "layer_norm_eps", "image_size", "patch_size", "num_channels", "qkv_bias",
            "layerscale_value", "use_swiglu_ffn", "num_register_tokens", "use_absolute_position_embeddings",
            "use_relative_position_bias", "use_shared_relative_position_bias", "layer_scale_init_value",
            "use_mean_pooling", "embed_dim", "depths", "num_heads", "window_size", "use_absolute_embeddings", "num_layers"]
    for k in keys:
        if hasattr(c, k):
            config[k] = getattr(c, k)
    config.update({"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0, "initializer_range": 0.02,
                   "id2label": {str(i): l for i, l in enumerate(labels)},
                   "label2id": {l: i for i, l in enumerate(labels)}, "torch_dtype": "float32"})
    pre = {"image_processor_type": "ViTImageProcessor", "do_resize": True,
           "size": {"height": c.size[0], "width": c.size[1]}, "resample": 2, "do_rescale": True,
           "rescale_factor": 1 / 255, "do_normalize": True, "image_mean": mean, "image_std": std}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(out, "preprocessor_config.json"), "w") as f:
        json.dump(pre, f, indent=2)
    return labels


def preprocess(path, size, mean, std):
    """The HF pipeline's load_image (EXIF orientation, RGB) then ViTImageProcessor: BILINEAR resize to
    (width, height), rescale in float64, normalize in float32."""
    img = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    img = img.resize((size[1], size[0]), resample=Image.BILINEAR)
    x = (np.asarray(img).astype(np.float64) * (1 / 255)).astype(np.float32)
    x = (x - np.array(mean, dtype=np.float32)) / np.array(std, dtype=np.float32)
    return torch.from_numpy(x.transpose(2, 0, 1).copy()).unsqueeze(0)


def pixels(batch, channels, height, width):
    n, c, h, w = np.meshgrid(np.arange(batch), np.arange(channels), np.arange(height), np.arange(width), indexing="ij")
    return torch.from_numpy((((n * 7 + c * 13 + h * 3 + w * 5) % 17 - 8) / 8.0).astype(np.float32))


def rounded(values):
    return [round(v, 6) for v in values]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=sorted(PRESETS), required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--images", help="folder of photos to compute reference outputs for")
    p.add_argument("--mean", type=float, nargs=3, default=[0.485, 0.456, 0.406])
    p.add_argument("--std", type=float, nargs=3, default=[0.229, 0.224, 0.225])
    p.add_argument("--logit-scale", type=float, default=4.0)
    p.add_argument("--top-k", type=int, default=5)
    args = p.parse_args()
    preset = dict(PRESETS[args.preset])
    preset.setdefault("num_channels", 3)
    preset.setdefault("hidden_act", "gelu")
    if preset["architecture"].startswith("Dinov2"):
        preset.setdefault("layerscale_value", 1.0)
    if "depths" in preset:
        # SwinConfig's own: hidden_size is the width after the last stage, num_layers the number of stages
        preset["hidden_size"] = int(preset["embed_dim"] * 2 ** (len(preset["depths"]) - 1))
        preset["num_layers"] = len(preset["depths"])
    c = Config(**preset)
    torch.manual_seed(c.seed)
    model = CLASSES[c.architecture](c).eval()
    randomize(model, args.logit_scale)
    os.makedirs(args.out, exist_ok=True)
    labels = write_configs(args.out, c, args.mean, args.std)
    write_safetensors(os.path.join(args.out, "model.safetensors"), model.state_dict())
    ref = {"top_k": args.top_k, "images": {}}
    with torch.no_grad():
        x = pixels(3, c.num_channels, c.size[0], c.size[1])
        logits, embedding = model(x)
        ref["pixels"] = {"formula": "((n*7 + c*13 + h*3 + w*5) % 17 - 8) / 8", "images": 3,
                         "logits": [rounded(row) for row in logits.double().tolist()],
                         "embeddings": [rounded(row) for row in embedding.double().tolist()]}
        for name in sorted(os.listdir(args.images)) if args.images else []:
            path = os.path.join(args.images, name)
            if os.path.isdir(path):
                continue
            logits, embedding = model(preprocess(path, c.size, args.mean, args.std))
            logits = logits[0].double()
            probs = torch.softmax(logits, -1)
            top = torch.topk(probs, min(args.top_k, c.num_labels))
            ref["images"][name] = {
                "logits": rounded(logits.tolist()),
                "top": [{"label": labels[i], "index": i, "score": round(s, 7)}
                        for s, i in zip(top.values.tolist(), top.indices.tolist())],
                "embedding": rounded(embedding[0].double().tolist()),
            }
    with open(os.path.join(args.out, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
    print(f"wrote {args.out}: {c.architecture}, {getattr(c, 'depths', c.__dict__.get('num_hidden_layers'))} layers, hidden {c.hidden_size}, "
          f"trained {c.image_size}px/{c.patch_size}, served {c.size[0]}x{c.size[1]}, {c.num_labels} labels")


if __name__ == "__main__":
    main()
