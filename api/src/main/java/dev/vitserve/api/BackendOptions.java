package dev.vitserve.api;

import java.util.Objects;

/**
 * How an operator wants a backend to run.
 *
 * @param device the device asked for (may be {@code auto})
 * @param threads intra-op threads the engine may use for one inference
 * @param maxBatchSize the largest batch {@link Backend#infer} will be given
 * @param precision the number format to run the network in; a backend that cannot run it must refuse, never
 *     fall back to another
 */
public record BackendOptions(DeviceRequest device, int threads, int maxBatchSize, Precision precision) {

    /** Options for a float32 network. */
    public BackendOptions(DeviceRequest device, int threads, int maxBatchSize) {
        this(device, threads, maxBatchSize, Precision.FP32);
    }

    public BackendOptions {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(precision, "precision");
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("maxBatchSize must be at least 1, got " + maxBatchSize);
        }
    }
}
