package dev.vitserve.core.inference;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * What Hugging Face's zero-shot-image-classification pipeline makes of a two-tower model's embeddings:
 * {@code logits_per_image} = {@code exp(logit_scale)} times the cosine of the image embedding and each text embedding
 * (plus {@code logit_bias} for SigLIP), the softmax over the labels (CLIP) or each logit's sigmoid (SigLIP), and the
 * labels sorted by score, highest first (equal scores keep the request's order).
 */
public final class ZeroShotScores {

    private ZeroShotScores() {
    }

    /** One label and its score. */
    public record Scored(String label, double score, double logit) {
    }

    /** {@code exp(logitScale) * cos(image, text_i)} for every text. */
    public static double[] logitsPerImage(float[] image, float[][] texts, double logitScale) {
        return logitsPerImage(image, texts, logitScale, 0);
    }

    /** {@code exp(logitScale) * cos(image, text_i) + logitBias} for every text. */
    public static double[] logitsPerImage(float[] image, float[][] texts, double logitScale, double logitBias) {
        double scale = Math.exp(logitScale);
        double imageNorm = norm(image);
        double[] logits = new double[texts.length];
        for (int i = 0; i < texts.length; i++) {
            double dot = 0;
            for (int j = 0; j < image.length; j++) {
                dot += (double) image[j] * texts[i][j];
            }
            logits[i] = scale * dot / (imageNorm * norm(texts[i])) + logitBias;
        }
        return logits;
    }

    /** The scores by {@code function} (softmax over the labels, or each one's sigmoid), in the logits' order. */
    public static double[] scores(double[] logits, ScoreFunction function) {
        double[] scores = new double[logits.length];
        if (function == ScoreFunction.SIGMOID) {
            for (int i = 0; i < logits.length; i++) {
                scores[i] = 1 / (1 + Math.exp(-logits[i]));
            }
            return scores;
        }
        if (function != ScoreFunction.SOFTMAX) {
            throw new IllegalArgumentException("zero-shot scores are a softmax or sigmoids, not " + function.id());
        }
        double max = Double.NEGATIVE_INFINITY;
        for (double logit : logits) {
            max = Math.max(max, logit);
        }
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            scores[i] = Math.exp(logits[i] - max);
            sum += scores[i];
        }
        for (int i = 0; i < logits.length; i++) {
            scores[i] /= sum;
        }
        return scores;
    }

    /** The labels with their softmax scores, sorted by score. */
    public static List<Scored> ranked(List<String> labels, double[] logits) {
        return ranked(labels, logits, ScoreFunction.SOFTMAX);
    }

    /** The labels with their scores by {@code function} (softmax over the labels, or each one's sigmoid), sorted. */
    public static List<Scored> ranked(List<String> labels, double[] logits, ScoreFunction function) {
        double[] scores = scores(logits, function);
        List<Scored> scored = new ArrayList<>(logits.length);
        for (int i = 0; i < logits.length; i++) {
            scored.add(new Scored(labels.get(i), scores[i], logits[i]));
        }
        scored.sort(Comparator.comparingDouble((Scored s) -> -s.score()));
        return scored;
    }

    private static double norm(float[] vector) {
        double sum = 0;
        for (float value : vector) {
            sum += (double) value * value;
        }
        return Math.sqrt(sum);
    }
}
