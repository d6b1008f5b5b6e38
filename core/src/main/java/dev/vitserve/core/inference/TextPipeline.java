package dev.vitserve.core.inference;

import dev.vitserve.api.BackendException;
import dev.vitserve.api.TextEncoder;
import dev.vitserve.core.text.TextTokenizer;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.util.List;

/**
 * Texts to projected text embeddings for a zero-shot model: tokenized and run through the text tower in one batch,
 * on the preprocessing workers, never an event loop.
 */
public final class TextPipeline {

    private final TextTokenizer tokenizer;
    private final TextEncoder encoder;
    private final WorkerExecutor workers;

    public TextPipeline(TextTokenizer tokenizer, TextEncoder encoder, WorkerExecutor workers) {
        this.tokenizer = tokenizer;
        this.encoder = encoder;
        this.workers = workers;
    }

    /** Embeddings of several texts and what they cost. */
    public record TextEmbeddings(float[][] vectors, int tokens, double tokenizeMs, double inferenceMs) {
    }

    /**
     * Embeds the texts, in order; completes on the caller's context.
     *
     * @return fails with the engine's {@link BackendException} when it fails
     */
    public Future<TextEmbeddings> embed(List<String> texts) {
        Context context = Vertx.currentContext();
        Future<TextEmbeddings> done = workers.executeBlocking(() -> {
            long t0 = System.nanoTime();
            TextTokenizer.Tokens tokens = tokenizer.encode(texts);
            long t1 = System.nanoTime();
            float[] flat = encoder.encode(tokens.ids(), tokens.batchSize(), tokens.length());
            long t2 = System.nanoTime();
            int d = encoder.dimensions();
            float[][] vectors = new float[texts.size()][];
            for (int i = 0; i < vectors.length; i++) {
                vectors[i] = java.util.Arrays.copyOfRange(flat, i * d, (i + 1) * d);
            }
            return new TextEmbeddings(vectors, tokens.length(), (t1 - t0) / 1e6, (t2 - t1) / 1e6);
        }, false);
        if (context == null) {
            return done;
        }
        return Future.fromCompletionStage(done.toCompletionStage(), context);
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
