package dev.vitserve.backend.onnx;

import dev.vitserve.api.BackendException;
import dev.vitserve.api.Logits;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.api.VitConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Locale;
import java.util.Random;

/**
 * The check at load that an int8 network answers as its float32 network does, on the CPU it will serve on: int8
 * kernels are chosen per CPU (VNNI, AMX...) and one of them has been seen to give garbage for some layer widths, so
 * a network that disagrees is refused instead of served wrong.
 *
 * <p>A probe batch of synthetic images runs through both networks; the int8 one must give embeddings (the vector
 * the classifier reads) within {@link #MIN_COSINE} of float32 for every image, the same logits bit for bit when the
 * batch runs again, and close ones for the first image run alone.
 */
final class Int8SelfCheck {

    /** The least cosine similarity of an int8 embedding to float32's; wrong kernels give 0.1 to 0.5. */
    static final double MIN_COSINE = 0.99;
    /** Rows (images x tokens) the probe batch reaches at least, when the largest batch allows: past ONNX Runtime's
     * 32-row kernel blocks, split over two threads. */
    private static final int MIN_ROWS = 64;
    private static final int MAX_IMAGES = 4;

    /** Runs a batch through one of the two networks. */
    @FunctionalInterface
    interface Network {
        Logits infer(PixelBatch batch) throws BackendException;
    }

    /**
     * What the check found.
     *
     * @param images the probe batch's size
     * @param worstCosine the least cosine of an int8 embedding to float32's
     * @param millis the time the int8 network's runs took
     */
    record Outcome(int images, double worstCosine, long millis) {

        /** One line for the network's description. */
        String describe() {
            return String.format(Locale.ROOT, "checked at load against float32 on %d probe image%s: embedding cosine"
                    + " >= %.4f, repeatable", images, images == 1 ? "" : "s", worstCosine);
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
     * Compares the int8 network with float32 on the probe batch.
     *
     * @param cpu what was chosen for this CPU, for the refusal
     * @throws BackendException saying how they disagree and how to serve the model instead
     */
    static Outcome verify(String modelName, VitConfig config, int images, Network fp32, Network int8, String cpu)
            throws BackendException {
        long start = System.nanoTime();
        PixelBatch probe = probe(config, images);
        Logits expected = fp32.infer(probe);
        long fp32Nanos = System.nanoTime() - start;
        Logits actual = int8.infer(probe);
        if (!actual.hasEmbeddings() || !expected.hasEmbeddings()) {
            throw new IllegalStateException("the networks vitserve builds give embeddings");
        }
        double worst = 1;
        for (int i = 0; i < images; i++) {
            double cosine = Logits.cosineSimilarity(expected.embedding(i), actual.embedding(i));
            if (!(cosine >= MIN_COSINE)) {
                throw refusal(modelName, String.format(Locale.ROOT, "its embedding of probe image %d of %d has cosine"
                        + " %.4f to float32's, below %.2f", i + 1, images, cosine, MIN_COSINE), cpu);
            }
            worst = Math.min(worst, cosine);
        }
        Logits again = int8.infer(probe);
        if (!java.util.Arrays.equals(actual.values(), again.values())) {
            throw refusal(modelName, "the same probe batch gave other logits on a second run", cpu);
        }
        if (images > 1) {
            Logits alone = int8.infer(probe(config, 1));
            double cosine = Logits.cosineSimilarity(actual.embedding(0), alone.embedding(0));
            if (!(cosine >= MIN_COSINE)) {
                throw refusal(modelName, String.format(Locale.ROOT, "probe image 1 alone has cosine %.4f to itself in"
                        + " the batch", cosine), cpu);
            }
        }
        return new Outcome(images, worst, (System.nanoTime() - start - fp32Nanos) / 1_000_000);
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
}
