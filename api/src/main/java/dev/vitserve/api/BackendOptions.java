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
 * @param network the export or the network built from the weights, when the folder has both
 */
public record BackendOptions(DeviceRequest device, int threads, int maxBatchSize, Precision precision,
                             NetworkChoice network) {

    /** Options for a float32 network. */
    public BackendOptions(DeviceRequest device, int threads, int maxBatchSize) {
        this(device, threads, maxBatchSize, Precision.FP32);
    }

    /** Options running the export when the folder has one. */
    public BackendOptions(DeviceRequest device, int threads, int maxBatchSize, Precision precision) {
        this(device, threads, maxBatchSize, precision, NetworkChoice.AUTO);
    }

    public BackendOptions {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(precision, "precision");
        Objects.requireNonNull(network, "network");
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("maxBatchSize must be at least 1, got " + maxBatchSize);
        }
    }
}
