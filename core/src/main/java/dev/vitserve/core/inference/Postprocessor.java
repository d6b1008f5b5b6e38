package dev.vitserve.core.inference;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/** Turns logits into the top-k labelled scores, as Hugging Face's ImageClassificationPipeline does. */
public final class Postprocessor {

    private final List<String> labels;

    public Postprocessor(List<String> labels) {
        this.labels = List.copyOf(labels);
    }

    /** How many classes the model scores. */
    public int numLabels() {
        return labels.size();
    }

    /** One class and its score. */
    public record Prediction(String label, int index, double score) {
    }

    /**
     * Scores every class with the function, then keeps the {@code topK} best, highest first;
     * equal scores keep the lower index first. {@code topK} is clamped to 1..number of labels.
     */
    public List<Prediction> top(float[] logits, int topK, ScoreFunction function) {
        if (logits.length != labels.size()) {
            throw new IllegalArgumentException(logits.length + " logits for " + labels.size() + " labels");
        }
        double[] scores = scores(logits, function);
        Integer[] order = new Integer[scores.length];
        Arrays.setAll(order, i -> i);
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -scores[i]));
        int k = Math.max(1, Math.min(topK, scores.length));
        List<Prediction> top = new ArrayList<>(k);
        for (int i = 0; i < k; i++) {
            top.add(new Prediction(labels.get(order[i]), order[i], scores[order[i]]));
        }
        return top;
    }

    /** The label of class {@code index}. */
    public String label(int index) {
        return labels.get(index);
    }

    /** Every class's score under the function, by class index. */
    public static double[] scores(float[] logits, ScoreFunction function) {
        double[] scores = new double[logits.length];
        switch (function) {
            case SOFTMAX -> {
                double max = Double.NEGATIVE_INFINITY;
                for (float logit : logits) {
                    max = Math.max(max, logit);
                }
                double sum = 0;
                for (int i = 0; i < logits.length; i++) {
                    scores[i] = Math.exp(logits[i] - max);
                    sum += scores[i];
                }
                for (int i = 0; i < scores.length; i++) {
                    scores[i] /= sum;
                }
            }
            case SIGMOID -> {
                for (int i = 0; i < logits.length; i++) {
                    scores[i] = 1 / (1 + Math.exp(-(double) logits[i]));
                }
            }
            case NONE -> {
                for (int i = 0; i < logits.length; i++) {
                    scores[i] = logits[i];
                }
            }
        }
        return scores;
    }
}
