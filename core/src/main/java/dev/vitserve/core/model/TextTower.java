package dev.vitserve.core.model;

import dev.vitserve.core.inference.ScoreFunction;
import dev.vitserve.core.inference.ZeroShotScores;
import dev.vitserve.core.text.TextTokenizer;
import java.util.List;
import java.util.Objects;

/**
 * What a zero-shot model has beside its image tower, read from its folder: the tokenizer, the learned temperature and
 * bias, and how its logits become the pipeline's scores: the model's scoring, so that a route asks the model rather
 * than knowing the architecture.
 *
 * @param tokenizer the model's fast tokenizer
 * @param logitScale the {@code logit_scale} parameter of model.safetensors; logits are {@code exp(logitScale)} times
 *     the cosine of an image and a text embedding, plus {@code logitBias}
 * @param logitBias SigLIP's {@code logit_bias}; 0 for CLIP, which has none
 * @param scores {@link ScoreFunction#SOFTMAX} over the labels (CLIP) or {@link ScoreFunction#SIGMOID} of each (SigLIP),
 *     as Hugging Face's zero-shot-image-classification pipeline computes them
 */
public record TextTower(TextTokenizer tokenizer, double logitScale, double logitBias, ScoreFunction scores) {

    /** A CLIP model's: no bias, softmax scores. */
    public TextTower(TextTokenizer tokenizer, double logitScale) {
        this(tokenizer, logitScale, 0, ScoreFunction.SOFTMAX);
    }

    public TextTower {
        Objects.requireNonNull(tokenizer, "tokenizer");
        Objects.requireNonNull(scores, "scores");
        if (!Double.isFinite(logitScale)) {
            throw new IllegalArgumentException("logit_scale must be finite, got " + logitScale);
        }
        if (!Double.isFinite(logitBias)) {
            throw new IllegalArgumentException("logit_bias must be finite, got " + logitBias);
        }
        if (scores == ScoreFunction.NONE) {
            throw new IllegalArgumentException("a zero-shot model scores with a softmax or sigmoids");
        }
    }

    /** {@code logits_per_image} of one image embedding against text embeddings. */
    public double[] logits(float[] image, float[][] texts) {
        return ZeroShotScores.logitsPerImage(image, texts, logitScale, logitBias);
    }

    /** The pipeline's scores of the logits, in the labels' order. */
    public double[] scores(double[] logits) {
        return ZeroShotScores.scores(logits, scores);
    }

    /** The labels with the pipeline's scores of their logits, highest first. */
    public List<ZeroShotScores.Scored> ranked(List<String> labels, double[] logits) {
        return ZeroShotScores.ranked(labels, logits, scores);
    }
}
