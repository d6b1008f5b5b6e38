package dev.vitserve.backend.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.api.BackendException;
import dev.vitserve.api.ClipConfig;
import dev.vitserve.api.Logits;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.api.TextEncoder;
import dev.vitserve.api.VitConfig;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The load-time check refuses an int8 network that answers unlike float32, or unlike itself, with a message saying
 * how to serve the model; one that agrees passes. The networks here are stand-ins, so this holds on every CPU.
 */
class Int8SelfCheckTest {

    private static final VitConfig CONFIG = new VitConfig(32, 32, 3, 8, 16, 2, 2, 32, 1e-12, true, 3);
    private static final String CPU = "x86 CPU with VNNI (amx_int8): 8-bit weights";

    @Test
    void anAgreeingNetworkPassesAndSaysSo() throws BackendException {
        Int8SelfCheck.Outcome outcome = Int8SelfCheck.verify("m", CONFIG, 2, Int8SelfCheckTest::reference,
                batch -> perturbed(reference(batch), 0.01f), CPU);
        assertEquals(2, outcome.count());
        assertTrue(outcome.worstCosine() >= 0.99 && outcome.worstCosine() < 1, "" + outcome.worstCosine());
        assertTrue(outcome.describe().startsWith("checked at load against float32 on 2 probe images: embedding cosine >= 0.9"),
                outcome.describe());
    }

    @Test
    void garbageForOneImageIsRefusedSayingHowToServeTheModel() {
        BackendException e = assertThrows(BackendException.class, () -> Int8SelfCheck.verify("odd", CONFIG, 2,
                Int8SelfCheckTest::reference, batch -> garbageInRow(reference(batch), batch.batchSize() - 1), CPU));
        assertTrue(e.getMessage().startsWith("model odd is not served in int8: its int8 network disagrees with float32"
                + " on this CPU (its embedding of probe image 2 of 2 has cosine "), e.getMessage());
        assertTrue(e.getMessage().contains("(" + CPU + ")"), e.getMessage());
        assertTrue(e.getMessage().endsWith("serve it with --precision fp32 (or precision fp32 in its settings)"), e.getMessage());
    }

    @Test
    void aNetworkThatAnswersOtherwiseOnARepeatIsRefused() {
        AtomicInteger runs = new AtomicInteger();
        BackendException e = assertThrows(BackendException.class, () -> Int8SelfCheck.verify("m", CONFIG, 2,
                Int8SelfCheckTest::reference, batch -> perturbed(reference(batch), 0.001f * runs.incrementAndGet()), CPU));
        assertTrue(e.getMessage().contains("(the same probe batch gave other outputs on a second run)"), e.getMessage());
    }

    @Test
    void anImageAloneUnlikeItselfInTheBatchIsRefused() {
        BackendException e = assertThrows(BackendException.class, () -> Int8SelfCheck.verify("m", CONFIG, 3,
                Int8SelfCheckTest::reference, batch -> batch.batchSize() == 1 ? garbageInRow(reference(batch), 0)
                        : reference(batch), CPU));
        assertTrue(e.getMessage().contains("(probe image 1 alone has cosine "), e.getMessage());
    }

    @Test
    void aTextTowerThatDisagreesOnOneProbeTextIsRefused() throws BackendException {
        ClipConfig clip = new ClipConfig(new VitConfig(32, 32, 3, 8, 16, 2, 2, 32, 1e-5, true, 8, "quick_gelu"),
                new ClipConfig.Text(50, 16, 2, 2, 32, 16, 1e-5, "quick_gelu", 49), 8);
        TextEncoder reference = text(ids -> ids, clip);
        Int8SelfCheck.Outcome fine = Int8SelfCheck.verifyText("m", clip, reference, text(ids -> ids, clip), CPU);
        assertEquals("checked at load against float32 on 4 probe texts: embedding cosine >= 1.0000, repeatable",
                fine.describe());
        BackendException e = assertThrows(BackendException.class, () -> Int8SelfCheck.verifyText("m", clip, reference,
                text(ids -> { float[] v = ids.clone(); v[v.length - 1] = -v[v.length - 1] * 50; return v; }, clip), CPU));
        assertTrue(e.getMessage().contains("(its embedding of probe text 4 of 4 has cosine "), e.getMessage());
    }

    /** A stand-in text tower: each row's embedding from its first ids, through {@code change}. */
    private static TextEncoder text(java.util.function.UnaryOperator<float[]> change, ClipConfig clip) {
        return new TextEncoder() {
            @Override
            public float[] encode(long[] ids, int batchSize, int length) {
                float[] embeddings = new float[batchSize * 8];
                for (int r = 0; r < batchSize; r++) {
                    for (int i = 0; i < 8; i++) {
                        embeddings[r * 8 + i] = ids[r * length + i] + 1;
                    }
                }
                return change.apply(embeddings);
            }

            @Override
            public int dimensions() {
                return clip.projectionDim();
            }
        };
    }

    @Test
    void theProbeReachesPastTheKernelsLargeBlocksWithinTheLargestBatch() {
        // 32x32 images in 8x8 patches: 17 tokens, so 4 images give 68 rows
        assertEquals(4, Int8SelfCheck.probeImages(CONFIG, 8));
        assertEquals(2, Int8SelfCheck.probeImages(CONFIG, 2));
        assertEquals(1, Int8SelfCheck.probeImages(CONFIG, 1));
        // ViT-B/16 at 224: 197 tokens, two images (one alone, one beside it) are enough
        assertEquals(2, Int8SelfCheck.probeImages(new VitConfig(224, 224, 3, 16, 768, 12, 12, 3072, 1e-12, true, 1000), 8));
    }

    @Test
    void theProbeIsTheSameOnEveryRunAndDiffersBetweenImages() {
        PixelBatch a = Int8SelfCheck.probe(CONFIG, 2);
        PixelBatch b = Int8SelfCheck.probe(CONFIG, 2);
        assertEquals(a.pixels(), b.pixels());
        float[] first = new float[3 * 32 * 32];
        float[] second = new float[3 * 32 * 32];
        a.pixels().duplicate().get(first).get(second);
        assertTrue(Logits.cosineSimilarity(first, second) < 0.9);
    }

    /** A stand-in float32 network: embeddings are the first pixels of each image, logits their sums. */
    private static Logits reference(PixelBatch batch) {
        int hidden = CONFIG.hiddenSize();
        int size = batch.channels() * batch.height() * batch.width();
        float[] embeddings = new float[batch.batchSize() * hidden];
        float[] logits = new float[batch.batchSize() * CONFIG.numLabels()];
        for (int n = 0; n < batch.batchSize(); n++) {
            for (int i = 0; i < hidden; i++) {
                embeddings[n * hidden + i] = batch.pixels().get(n * size + i * 7);
                logits[n * CONFIG.numLabels() + i % CONFIG.numLabels()] += embeddings[n * hidden + i];
            }
        }
        return new Logits(logits, batch.batchSize(), CONFIG.numLabels(), embeddings, hidden);
    }

    private static Logits perturbed(Logits l, float by) {
        float[] e = l.embeddings().clone();
        float[] v = l.values().clone();
        for (int i = 0; i < e.length; i++) {
            e[i] += by * (i % 3 - 1);
        }
        v[0] += by;
        return new Logits(v, l.batchSize(), l.numLabels(), e, l.hiddenSize());
    }

    private static Logits garbageInRow(Logits l, int row) {
        float[] e = l.embeddings().clone();
        for (int i = 0; i < l.hiddenSize(); i++) {
            e[row * l.hiddenSize() + i] = (i * 7919 % 13) - 6f;
        }
        return new Logits(l.values(), l.batchSize(), l.numLabels(), e, l.hiddenSize());
    }
}
