package dev.vitserve.core.inference;

/**
 * The embedding of one image: the vector the classifier head reads (the final-layernormed class
 * token), so that {@code vector . W^T + b} are its logits.
 *
 * @param vector {@code hidden_size} values, of unit length when asked for
 * @param timings where the time went
 */
public record Embedding(float[] vector, Classification.Timings timings) {

    /** The vector scaled to unit (L2) length; a zero vector stays zero. */
    public static float[] unitLength(float[] vector) {
        double sum = 0;
        for (float value : vector) {
            sum += (double) value * value;
        }
        double norm = Math.sqrt(sum);
        float[] unit = new float[vector.length];
        for (int i = 0; i < vector.length; i++) {
            unit[i] = norm == 0 ? 0 : (float) (vector[i] / norm);
        }
        return unit;
    }
}
