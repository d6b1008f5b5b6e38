package dev.vitserve.backend.onnx;

import dev.vitserve.api.BackendException;
import dev.vitserve.api.ClipConfig;
import dev.vitserve.api.Logits;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.api.TextEncoder;
import dev.vitserve.api.VitConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * The check at load that an int8 network answers as its float32 network does, on the CPU it will serve on: int8
 * kernels are chosen per CPU (VNNI, AMX...) and one of them has been seen to give garbage for some layer widths, so
 * a network that disagrees is refused instead of served wrong.
 *
 * <p>A probe batch of synthetic images (or, for a text tower, fixed token sequences) runs through both networks; the
 * int8 one must give embeddings (the vector the classifier reads, or the projected embedding of a CLIP tower) within
 * {@link #MIN_COSINE} of float32 for every input, the same outputs bit for bit when the batch runs again, and close
 * ones for the first input run alone.
 */
final class Int8SelfCheck {

    /** The least cosine similarity of an int8 embedding to float32's; wrong kernels give 0.1 to 0.5. */
    static final double MIN_COSINE = 0.99;
    /** Rows (images x tokens) the probe batch reaches at least, when the largest batch allows: past ONNX Runtime's
     * 32-row kernel blocks, split over two threads. */
    private static final int MIN_ROWS = 64;
    private static final int MAX_IMAGES = 4;
    /** Probe texts for a text tower: at the probe's length of at least 16 tokens, 64 rows and more. */
    static final int PROBE_TEXTS = 4;
    /** The longest probe text; SigLIP's texts are always 64 tokens, as the zero-shot pipeline pads them. */
    private static final int MAX_PROBE_LENGTH = 64;

    /** Runs a batch through one of the two networks. */
    @FunctionalInterface
    interface Network {
        Logits infer(PixelBatch batch) throws BackendException;
    }

    /**
     * What a network answered to the first inputs of a probe.
     *
     * @param embeddings one embedding per input, row-major
     * @param outputs all it answered (logits and embeddings), compared bit for bit on a repeat
     */
    record Answer(float[] embeddings, float[] outputs) {
    }

    /** Runs the first {@code inputs} inputs of a probe through one of the two networks. */
    @FunctionalInterface
    interface Probe {
        Answer run(int inputs) throws BackendException;
    }

    /**
     * What the check found.
     *
     * @param kind what the probe's inputs are, {@code image} or {@code text}
     * @param count the probe batch's size
     * @param worstCosine the least cosine of an int8 embedding to float32's
     * @param millis the time the int8 network's runs took
     */
    record Outcome(String kind, int count, double worstCosine, long millis) {

        /** One line for the network's description. */
        String describe() {
            return String.format(Locale.ROOT, "checked at load against float32 on %d probe %s%s: embedding cosine"
                    + " >= %.4f, repeatable", count, kind, count == 1 ? "" : "s", worstCosine);
        }
    }

    private Int8SelfCheck() {
    }

    /** How many probe images: enough rows to reach the kernels' large blocks, within the largest batch. */
    static int probeImages(VitConfig config, int maxBatchSize) {
        int tokens = config.numPatches() + 1;
        int wanted = Math.max(2, (MIN_ROWS + tokens - 1) / tokens);
        return Math.max(1, Math.min(Math.min(wanted, MAX_IMAGES), maxBatchSize));
    }

    /**
     * Compares an int8 image network with float32 on {@code images} probe images ({@link #probe}).
     *
     * @param cpu what was chosen for this CPU, for the refusal
     * @throws BackendException saying how they disagree and how to serve the model instead
     */
    static Outcome verify(String modelName, VitConfig config, int images, Network fp32, Network int8, String cpu)
            throws BackendException {
        return verify(modelName, "image", images, n -> answer(fp32.infer(probe(config, n))),
                n -> answer(int8.infer(probe(config, n))), cpu);
    }

    /**
     * Compares an int8 text tower with float32 on {@value #PROBE_TEXTS} fixed token sequences ({@link #probeTexts}).
     *
     * @throws BackendException as {@link #verify(String, VitConfig, int, Network, Network, String)}
     */
    static Outcome verifyText(String modelName, ClipConfig config, TextEncoder fp32, TextEncoder int8, String cpu)
            throws BackendException {
        int length = probeLength(config.text());
        return verify(modelName, "text", PROBE_TEXTS, n -> textAnswer(fp32, probeTexts(config, n), n, length),
                n -> textAnswer(int8, probeTexts(config, n), n, length), cpu);
    }

    private static Answer answer(Logits logits) {
        if (!logits.hasEmbeddings()) {
            throw new IllegalStateException("the networks vitserve builds give embeddings");
        }
        float[] outputs = Arrays.copyOf(logits.values(), logits.values().length + logits.embeddings().length);
        System.arraycopy(logits.embeddings(), 0, outputs, logits.values().length, logits.embeddings().length);
        return new Answer(logits.embeddings(), outputs);
    }

    private static Answer textAnswer(TextEncoder tower, long[] ids, int texts, int length) throws BackendException {
        float[] embeddings = tower.encode(ids, texts, length);
        return new Answer(embeddings, embeddings);
    }

    /**
     * The check itself: the int8 embedding of every probe input within {@link #MIN_COSINE} of float32's, the same
     * outputs bit for bit when the batch runs again, and the first input alone close to itself in the batch.
     */
    static Outcome verify(String modelName, String kind, int count, Probe fp32, Probe int8, String cpu)
            throws BackendException {
        long start = System.nanoTime();
        Answer expected = fp32.run(count);
        long fp32Nanos = System.nanoTime() - start;
        Answer actual = int8.run(count);
        int width = expected.embeddings().length / count;
        double worst = 1;
        for (int i = 0; i < count; i++) {
            double cosine = Logits.cosineSimilarity(row(expected.embeddings(), i, width), row(actual.embeddings(), i, width));
            if (!(cosine >= MIN_COSINE)) {
                throw refusal(modelName, String.format(Locale.ROOT, "its embedding of probe %s %d of %d has cosine"
                        + " %.4f to float32's, below %.2f", kind, i + 1, count, cosine, MIN_COSINE), cpu);
            }
            worst = Math.min(worst, cosine);
        }
        if (!Arrays.equals(actual.outputs(), int8.run(count).outputs())) {
            throw refusal(modelName, "the same probe batch gave other outputs on a second run", cpu);
        }
        if (count > 1) {
            double cosine = Logits.cosineSimilarity(row(actual.embeddings(), 0, width),
                    row(int8.run(1).embeddings(), 0, width));
            if (!(cosine >= MIN_COSINE)) {
                throw refusal(modelName, String.format(Locale.ROOT, "probe %s 1 alone has cosine %.4f to itself in"
                        + " the batch", kind, cosine), cpu);
            }
        }
        return new Outcome(kind, count, worst, (System.nanoTime() - start - fp32Nanos) / 1_000_000);
    }

    private static float[] row(float[] rows, int index, int width) {
        return Arrays.copyOfRange(rows, index * width, (index + 1) * width);
    }

    private static BackendException refusal(String modelName, String finding, String cpu) {
        return new BackendException("model " + modelName + " is not served in int8: its int8 network disagrees with"
                + " float32 on this CPU (" + finding + "), so ONNX Runtime's int8 kernels would answer wrong here ("
                + cpu + "); serve it with --precision fp32 (or precision fp32 in its settings)");
    }

    /**
     * Synthetic images of the model's shape in the normalized range: smooth gradients and stripes per channel with
     * a little noise, different for each image, the same on every run.
     */
    static PixelBatch probe(VitConfig config, int images) {
        int c = config.numChannels();
        int h = config.imageHeight();
        int w = config.imageWidth();
        FloatBuffer pixels = ByteBuffer.allocateDirect(images * c * h * w * Float.BYTES).order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        Random noise = new Random(20261207);
        for (int n = 0; n < images; n++) {
            for (int ch = 0; ch < c; ch++) {
                double phase = 0.7 * n + 1.9 * ch;
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        double value = Math.sin(phase + 6.0 * x / w) * Math.cos(3.0 * y / h - phase)
                                + 0.5 * ((x + y + n) % 7 < 3 ? 1 : -1) * (ch % 2 == 0 ? 1 : 0.5)
                                + 0.1 * noise.nextGaussian();
                        pixels.put((float) Math.max(-2, Math.min(2, value)));
                    }
                }
            }
        }
        return new PixelBatch(pixels.flip(), images, c, h, w);
    }

    /** The length of the probe texts: the text tower's positions, at most {@value #MAX_PROBE_LENGTH}. */
    static int probeLength(ClipConfig.Text text) {
        return Math.min(text.maxPositions(), MAX_PROBE_LENGTH);
    }

    /**
     * The first {@code texts} of {@value #PROBE_TEXTS} fixed token sequences of {@link #probeLength} ids, row-major:
     * ids spread over the vocabulary, then from a position that differs per text to the end the token the tower pools
     * at (CLIP's end of text, or its largest id for legacy configs; SigLIP pools the last position, padded with it as
     * its tokenizer pads), the same on every run.
     */
    static long[] probeTexts(ClipConfig config, int texts) {
        ClipConfig.Text t = config.text();
        int length = probeLength(t);
        long eos = t.eosTokenId();
        long end = t.poolsAtLargestId() || eos < 0 || eos >= t.vocabSize() ? t.vocabSize() - 1 : eos;
        long[] ids = new long[texts * length];
        Random words = new Random(20261208);
        for (int r = 0; r < texts; r++) {
            int at = Math.max(1, length - 1 - r * (length / (PROBE_TEXTS + 1)));
            for (int i = 0; i < length; i++) {
                // any id but the pooled one: drawn from one fewer and moved past it
                long id = words.nextInt(Math.max(1, t.vocabSize() - 1));
                ids[r * length + i] = i >= at || t.vocabSize() == 1 ? end : id >= end ? id + 1 : id;
            }
        }
        return ids;
    }
}
