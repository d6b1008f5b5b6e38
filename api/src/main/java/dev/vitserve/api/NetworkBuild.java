package dev.vitserve.api;

import java.util.Objects;

/**
 * What a backend made of a model, for the start-up log and {@code GET /v1/models}.
 *
 * @param precision the number format the network runs in (never {@link Precision#AUTO}: what auto chose)
 * @param quantizedLayers for people: which layers run in int8 (or bf16, fp16) and how they are encoded; {@code none}
 *     in fp32
 * @param floatLayers for people: which layers stay in float32
 * @param operators for people: the engine's operators the int8 or half-precision layers are built with, and why;
 *     empty in fp32
 * @param loadMillis time to build or read the network and open it in the engine, quantization included
 * @param quantizeMillis of which, time spent quantizing the weights; 0 in fp32
 * @param cpuFeatures the CPU's instruction-set extensions the network's kernels use (e.g. {@code amx_bf16
 *     avx512_bf16}, {@code amx_int8 avx512_vnni}); empty when none of note, or on a GPU
 * @param chosenBecause with {@code --precision auto}: why this precision was picked over the faster ones; else empty
 */
public record NetworkBuild(Precision precision, String quantizedLayers, String floatLayers, String operators,
                           long loadMillis, long quantizeMillis, String cpuFeatures, String chosenBecause) {

    public NetworkBuild {
        Objects.requireNonNull(precision, "precision");
        Objects.requireNonNull(quantizedLayers, "quantizedLayers");
        Objects.requireNonNull(floatLayers, "floatLayers");
        Objects.requireNonNull(operators, "operators");
        Objects.requireNonNull(cpuFeatures, "cpuFeatures");
        Objects.requireNonNull(chosenBecause, "chosenBecause");
        if (precision == Precision.AUTO) {
            throw new IllegalArgumentException("a network runs in the precision auto chose, not in 'auto'");
        }
    }

    /** A build that uses no CPU feature of note and was not chosen by auto. */
    public NetworkBuild(Precision precision, String quantizedLayers, String floatLayers, String operators,
                        long loadMillis, long quantizeMillis) {
        this(precision, quantizedLayers, floatLayers, operators, loadMillis, quantizeMillis, "", "");
    }

    /** A network run wholly in float32. */
    public static NetworkBuild fp32(long loadMillis) {
        return new NetworkBuild(Precision.FP32, "none", "all", "", loadMillis, 0);
    }

    /** The same build, saying which CPU features its kernels use. */
    public NetworkBuild withCpuFeatures(String features) {
        return new NetworkBuild(precision, quantizedLayers, floatLayers, operators, loadMillis, quantizeMillis, features,
                chosenBecause);
    }

    /** The same build, saying why {@code --precision auto} picked it. */
    public NetworkBuild withChoice(String reason) {
        return new NetworkBuild(precision, quantizedLayers, floatLayers, operators, loadMillis, quantizeMillis,
                cpuFeatures, reason);
    }

    /** The same build, with the time its load took. */
    public NetworkBuild withLoadMillis(long millis) {
        return new NetworkBuild(precision, quantizedLayers, floatLayers, operators, millis, quantizeMillis,
                cpuFeatures, chosenBecause);
    }
}
