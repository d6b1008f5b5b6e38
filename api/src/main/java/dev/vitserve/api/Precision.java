package dev.vitserve.api;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The number format a backend runs the network in, as {@code --precision} names it. */
public enum Precision {
    /** Every layer in float32: the reference's own arithmetic. */
    FP32,
    /** The encoder's linear layers on int8 weights and uint8 activations, the rest in float32. */
    INT8,
    /**
     * Weights and activations in bfloat16 (float32's range, 8 bits of mantissa), as Hugging Face's
     * {@code torch_dtype=torch.bfloat16} runs: on CPUs with AVX-512 BF16 or AMX-BF16, or a GPU.
     */
    BF16,
    /** Weights and activations in float16, layer norms and softmax in float32: on a GPU only. */
    FP16,
    /** Not a format: asks for the fastest precision whose check passes on this machine, chosen at load. */
    AUTO;

    /**
     * Reads {@code fp32}, {@code int8}, {@code bf16}, {@code fp16} or {@code auto} (case-insensitive).
     *
     * @throws IllegalArgumentException naming the accepted values
     */
    public static Precision parse(String text) {
        String s = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        for (Precision precision : values()) {
            if (precision.id().equals(s)) {
                return precision;
            }
        }
        throw new IllegalArgumentException("unknown precision '" + text + "': use " + accepted());
    }

    /** The values {@code --precision} accepts, for messages: {@code fp32, int8, bf16, fp16 or auto}. */
    public static String accepted() {
        String all = Arrays.stream(values()).map(Precision::id).collect(Collectors.joining(", "));
        int last = all.lastIndexOf(", ");
        return all.substring(0, last) + " or " + all.substring(last + 2);
    }

    /** {@code fp32}, {@code int8}, {@code bf16}, {@code fp16} or {@code auto}, the form {@code --precision} takes. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
