package dev.vitserve.core.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The text embedding cache keeps the exact texts, within its bytes, the least recently used out first. */
class TextEmbeddingCacheTest {

    private static float[] vector(float value) {
        float[] v = new float[16];
        java.util.Arrays.fill(v, value);
        return v;
    }

    @Test
    void keepsEachExactTextAndCountsItsBytes() {
        TextEmbeddingCache cache = new TextEmbeddingCache(1 << 20);
        float[] cat = vector(1);
        cache.put("This is a photo of cat.", cat);
        assertSame(cat, cache.get("This is a photo of cat."));
        assertNull(cache.get("This is a photo of Cat."), "another text is another entry");
        assertNull(cache.get("This is a photo of cat. "));
        assertEquals(TextEmbeddingCache.ENTRY_OVERHEAD + 2 * 23 + 4 * 16, cache.bytes());
        cache.put("This is a photo of cat.", vector(2));
        assertEquals(1, cache.size());
        assertEquals(TextEmbeddingCache.ENTRY_OVERHEAD + 2 * 23 + 4 * 16, cache.bytes(), "replaced, not added");
        assertArrayEquals(vector(2), cache.get("This is a photo of cat."));
    }

    @Test
    void dropsTheLeastRecentlyUsedBeyondItsBytes() {
        long entry = TextEmbeddingCache.cost("a", vector(0));
        TextEmbeddingCache cache = new TextEmbeddingCache(3 * entry);
        cache.put("a", vector(1));
        cache.put("b", vector(2));
        cache.put("c", vector(3));
        cache.get("a"); // b is now the least recently used
        cache.put("d", vector(4));
        assertEquals(3, cache.size());
        assertNull(cache.get("b"));
        assertArrayEquals(vector(1), cache.get("a"));
        assertArrayEquals(vector(3), cache.get("c"));
        assertArrayEquals(vector(4), cache.get("d"));
        assertTrue(cache.bytes() <= cache.maxBytes());
    }

    @Test
    void anEntryLargerThanTheWholeBoundIsNotKept() {
        TextEmbeddingCache cache = new TextEmbeddingCache(200);
        cache.put("x".repeat(100), vector(1));
        assertEquals(0, cache.size());
        assertEquals(0, cache.bytes());
    }
}
