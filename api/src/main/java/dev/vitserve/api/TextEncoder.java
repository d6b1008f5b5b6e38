package dev.vitserve.api;

/**
 * The text tower of a model that has one (CLIP): token ids to projected text embeddings, in the space of the
 * image embeddings {@link Backend#infer} gives. Safe to call from several threads.
 */
public interface TextEncoder {

    /**
     * Runs the text tower.
     *
     * @param ids {@code batchSize} rows of {@code length} token ids, row-major, padded after the end-of-text token
     * @return {@code batchSize} rows of {@link #dimensions()} values, not normalized
     * @throws BackendException when the engine fails
     */
    float[] encode(long[] ids, int batchSize, int length) throws BackendException;

    /** The length of one embedding. */
    int dimensions();
}
