package dev.vitserve.api;

import java.util.Locale;

/** The number format a backend runs the network in, as {@code --precision} names it. */
public enum Precision {
    /** Every layer in float32: the reference's own arithmetic. */
    FP32,
    /** The encoder's linear layers on int8 weights and uint8 activations, the rest in float32. */
    INT8;

    /**
     * Reads {@code fp32} or {@code int8} (case-insensitive).
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
        throw new IllegalArgumentException("unknown precision '" + text + "': use fp32 or int8");
    }

    /** {@code fp32} or {@code int8}, the form {@code --precision} takes. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
