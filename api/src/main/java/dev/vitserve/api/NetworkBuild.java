package dev.vitserve.api;

import java.util.Objects;

/**
 * What a backend made of a model, for the start-up log and {@code GET /v1/models}.
 *
 * @param precision the number format the network runs in
 * @param quantizedLayers for people: which layers run in int8 and how they are encoded; {@code none} in fp32
 * @param floatLayers for people: which layers stay in float32
 * @param operators for people: the engine's operators the int8 layers are built with, and why; empty in fp32
 * @param loadMillis time to build or read the network and open it in the engine, quantization included
 * @param quantizeMillis of which, time spent quantizing the weights; 0 in fp32
 */
public record NetworkBuild(Precision precision, String quantizedLayers, String floatLayers, String operators,
                           long loadMillis, long quantizeMillis) {

    public NetworkBuild {
        Objects.requireNonNull(precision, "precision");
        Objects.requireNonNull(quantizedLayers, "quantizedLayers");
        Objects.requireNonNull(floatLayers, "floatLayers");
        Objects.requireNonNull(operators, "operators");
    }

    /** A network run wholly in float32. */
    public static NetworkBuild fp32(long loadMillis) {
        return new NetworkBuild(Precision.FP32, "none", "all", "", loadMillis, 0);
    }
}
