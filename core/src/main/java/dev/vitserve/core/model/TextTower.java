package dev.vitserve.core.model;

import dev.vitserve.core.text.TextTokenizer;
import java.util.Objects;

/**
 * What a zero-shot model has beside its image tower, read from its folder: the tokenizer and the learned
 * temperature.
 *
 * @param tokenizer the model's fast tokenizer
 * @param logitScale the {@code logit_scale} parameter of model.safetensors; logits are {@code exp(logitScale)} times
 *     the cosine of an image and a text embedding
 */
public record TextTower(TextTokenizer tokenizer, double logitScale) {

    public TextTower {
        Objects.requireNonNull(tokenizer, "tokenizer");
        if (!Double.isFinite(logitScale)) {
            throw new IllegalArgumentException("logit_scale must be finite, got " + logitScale);
        }
    }
}
