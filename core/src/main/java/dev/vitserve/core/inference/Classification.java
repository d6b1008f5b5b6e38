package dev.vitserve.core.inference;

import dev.vitserve.core.inference.Postprocessor.Prediction;
import java.util.List;

/**
 * The answer for one image.
 *
 * @param predictions the best classes, highest score first
 * @param timings where the time went
 */
public record Classification(List<Prediction> predictions, Timings timings) {

    /** Milliseconds spent in each step for one image. */
    public record Timings(double decodeMs, double preprocessMs, double queueMs, double inferenceMs, double totalMs,
                          int batchSize) {
    }
}
