package dev.vitserve.core.inference;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One model's text embeddings by the exact text they were computed from (the label after the template is applied),
 * least recently used first out, bounded in bytes ({@code --text-cache-size}): a zero-shot request whose labels were
 * seen recently runs no text tower. The bytes of an entry are its text's characters, its floats and a fixed overhead
 * for the map's node, the key and the array; an entry larger than the whole bound is not kept. Thread-safe.
 */
public final class TextEmbeddingCache {

    /** What an entry costs beside its characters (2 bytes each) and floats (4 bytes each): node, String, array headers. */
    static final long ENTRY_OVERHEAD = 96;

    private final long maxBytes;
    private final LinkedHashMap<String, float[]> entries = new LinkedHashMap<>(64, 0.75f, true);
    private long bytes;

    /** @param maxBytes the most bytes the entries may take together */
    public TextEmbeddingCache(long maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes must not be negative, got " + maxBytes);
        }
        this.maxBytes = maxBytes;
    }

    /** The bytes an entry of this text and embedding counts for. */
    static long cost(String text, float[] vector) {
        return ENTRY_OVERHEAD + 2L * text.length() + 4L * vector.length;
    }

    /** The embedding of the text, or null; a hit makes it the most recently used. */
    public synchronized float[] get(String text) {
        return entries.get(text);
    }

    /** Keeps the embedding of the text (a copy is not made: callers never change it), dropping the least recent. */
    public synchronized void put(String text, float[] vector) {
        long cost = cost(text, vector);
        if (cost > maxBytes) {
            return;
        }
        float[] previous = entries.put(text, vector);
        if (previous != null) {
            bytes -= cost(text, previous);
        }
        bytes += cost;
        Iterator<Map.Entry<String, float[]>> eldest = entries.entrySet().iterator();
        while (bytes > maxBytes && eldest.hasNext()) {
            Map.Entry<String, float[]> entry = eldest.next();
            bytes -= cost(entry.getKey(), entry.getValue());
            eldest.remove();
        }
    }

    /** The bytes the entries take now. */
    public synchronized long bytes() {
        return bytes;
    }

    /** How many texts it holds. */
    public synchronized int size() {
        return entries.size();
    }

    /** The bound in bytes. */
    public long maxBytes() {
        return maxBytes;
    }
}
