package dev.vitserve.core.inference;

import dev.vitserve.api.BackendException;
import dev.vitserve.api.TextEncoder;
import dev.vitserve.core.text.TextTokenizer;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Texts to projected text embeddings for a zero-shot model: those the model's {@link TextEmbeddingCache} holds come
 * from it, the others are tokenized and run through the text tower in one batch (each distinct text once), on the
 * preprocessing workers, never an event loop, and kept in the cache.
 */
public final class TextPipeline {

    private final TextTokenizer tokenizer;
    private final TextEncoder encoder;
    private final WorkerExecutor workers;
    private final TextEmbeddingCache cache;
    private final InferenceObserver observer;

    /** A pipeline with a cache of {@code cacheBytes} that tells {@code observer} its hits, misses and text runs. */
    public TextPipeline(TextTokenizer tokenizer, TextEncoder encoder, WorkerExecutor workers, long cacheBytes,
                        InferenceObserver observer) {
        this.tokenizer = tokenizer;
        this.encoder = encoder;
        this.workers = workers;
        this.cache = new TextEmbeddingCache(cacheBytes);
        this.observer = observer;
    }

    /**
     * Embeddings of several texts and what they cost.
     *
     * @param vectors one per text, in order (shared with the cache: never change them)
     * @param tokens the padded length of the text tower's batch, 0 when every text was cached
     * @param cached how many of the texts came from the cache
     */
    public record TextEmbeddings(float[][] vectors, int tokens, double tokenizeMs, double inferenceMs, int cached) {
    }

    /**
     * Embeds the texts, in order; completes on the caller's context.
     *
     * @return fails with the engine's {@link BackendException} when it fails
     */
    public Future<TextEmbeddings> embed(List<String> texts) {
        Context context = Vertx.currentContext();
        Future<TextEmbeddings> done = workers.executeBlocking(() -> embedNow(texts), false);
        if (context == null) {
            return done;
        }
        return Future.fromCompletionStage(done.toCompletionStage(), context);
    }

    private TextEmbeddings embedNow(List<String> texts) throws BackendException {
        float[][] vectors = new float[texts.size()][];
        Map<String, List<Integer>> missing = new LinkedHashMap<>();
        int hits = 0;
        for (int i = 0; i < vectors.length; i++) {
            vectors[i] = cache.get(texts.get(i));
            if (vectors[i] != null) {
                hits++;
            } else {
                missing.computeIfAbsent(texts.get(i), text -> new ArrayList<>()).add(i);
            }
        }
        observer.textCacheLooked(hits, texts.size() - hits);
        if (missing.isEmpty()) {
            return new TextEmbeddings(vectors, 0, 0, 0, hits);
        }
        List<String> run = List.copyOf(missing.keySet());
        long t0 = System.nanoTime();
        TextTokenizer.Tokens tokens = tokenizer.encode(run);
        long t1 = System.nanoTime();
        float[] flat = encoder.encode(tokens.ids(), tokens.batchSize(), tokens.length());
        long t2 = System.nanoTime();
        observer.textRan(run.size(), t2 - t1);
        int d = encoder.dimensions();
        for (int k = 0; k < run.size(); k++) {
            float[] vector = Arrays.copyOfRange(flat, k * d, (k + 1) * d);
            cache.put(run.get(k), vector);
            for (int i : missing.get(run.get(k))) {
                vectors[i] = vector;
            }
        }
        observer.textCacheBytes(cache.bytes());
        return new TextEmbeddings(vectors, tokens.length(), (t1 - t0) / 1e6, (t2 - t1) / 1e6, hits);
    }

    /** The model's cache of text embeddings. */
    public TextEmbeddingCache cache() {
        return cache;
    }

    /** The length of one embedding. */
    public int dimensions() {
        return encoder.dimensions();
    }

    /** The longest text in tokens; longer ones are truncated. */
    public int maxTokens() {
        return tokenizer.maxLength();
    }
}
