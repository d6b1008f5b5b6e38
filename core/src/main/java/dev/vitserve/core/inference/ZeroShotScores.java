package dev.vitserve.core.inference;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * What Hugging Face's zero-shot-image-classification pipeline makes of CLIP's embeddings: {@code logits_per_image}
 * = {@code exp(logit_scale)} times the cosine of the image embedding and each text embedding, the softmax over the
 * labels, and the labels sorted by score, highest first (equal scores keep the request's order).
 */
public final class ZeroShotScores {

    private ZeroShotScores() {
    }

    /** One label and its score. */
    public record Scored(String label, double score, double logit) {
    }

    /** {@code exp(logitScale) * cos(image, text_i)} for every text. */
    public static double[] logitsPerImage(float[] image, float[][] texts, double logitScale) {
        double scale = Math.exp(logitScale);
        double imageNorm = norm(image);
        double[] logits = new double[texts.length];
        for (int i = 0; i < texts.length; i++) {
            double dot = 0;
            for (int j = 0; j < image.length; j++) {
                dot += (double) image[j] * texts[i][j];
            }
            logits[i] = scale * dot / (imageNorm * norm(texts[i]));
        }
        return logits;
    }

    /** The softmax of the logits, in their order. */
    public static double[] softmax(double[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (double logit : logits) {
            max = Math.max(max, logit);
        }
        double sum = 0;
        double[] e = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            e[i] = Math.exp(logits[i] - max);
            sum += e[i];
        }
        for (int i = 0; i < logits.length; i++) {
            e[i] /= sum;
        }
        return e;
    }

    /** The labels with their softmax scores, sorted by score. */
    public static List<Scored> ranked(List<String> labels, double[] logits) {
        double[] scores = softmax(logits);
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
