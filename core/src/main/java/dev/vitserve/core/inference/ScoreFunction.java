package dev.vitserve.core.inference;

import java.util.Locale;

/** What turns logits into scores, as the {@code function} query parameter and Hugging Face's {@code function_to_apply} name it. */
public enum ScoreFunction {
    SOFTMAX, SIGMOID, NONE;

    /**
     * Hugging Face's default: sigmoid for multi-label models or a single label, softmax otherwise.
     *
     * @param problemType {@code problem_type} from config.json, or null
     */
    public static ScoreFunction defaultFor(String problemType, int numLabels) {
        return "multi_label_classification".equals(problemType) || numLabels == 1 ? SIGMOID : SOFTMAX;
    }

    /** Reads {@code softmax}, {@code sigmoid} or {@code none}; throws IllegalArgumentException naming them. */
    public static ScoreFunction parse(String text) {
        for (ScoreFunction function : values()) {
            if (function.id().equals(text.trim().toLowerCase(Locale.ROOT))) {
                return function;
            }
        }
        throw new IllegalArgumentException("function must be softmax, sigmoid or none, got '" + text + "'");
    }

    /** The lower-case name used in the API. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
