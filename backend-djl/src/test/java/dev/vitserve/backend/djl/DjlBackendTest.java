package dev.vitserve.backend.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.testkit.Concurrently;
import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.BackendProvider;
import dev.vitserve.api.DeviceRequest;
import dev.vitserve.api.Logits;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.testkit.Fixtures;
import dev.vitserve.testkit.TinyVit;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DjlBackendTest {

    /** Every test in this JVM starts PyTorch with 2 intra-op threads: PyTorch reads the count once. */
    static final BackendOptions CPU = new BackendOptions(DeviceRequest.CPU, 2, 8);
    private static final float[][] EXPECTED = TinyVit.expectedLogits();

    private static Backend backend;

    @BeforeAll
    static void load() throws BackendException {
        backend = new DjlBackendProvider().open(TinyVit.model(), CPU);
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    @Test
    void logitsMatchPyTorch() throws BackendException {
        Logits logits = backend.infer(TinyVit.pixels(0, 3));

        assertEquals(3, logits.batchSize());
        assertEquals(TinyVit.LABELS, logits.numLabels());
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(EXPECTED[i], logits.row(i), 1e-4f, "image " + i);
        }
    }

    @Test
    void reportsEngineFileAndDevice() {
        assertEquals("DJL 0.36.0 with PyTorch 2.7.1", backend.engine());
        assertEquals(Fixtures.tinyVit().resolve("model.pt"), backend.weightsFile());
        assertEquals("cpu", backend.device().id());
        assertEquals("CPU, 2 intra-op threads, PyTorch 2.7.1 (libtorch CPU-only build)", backend.device().detail());
    }

    @Test
    void staysOffline() {
        if (System.getenv("DJL_OFFLINE") == null) {
            assertEquals("true", System.getProperty("ai.djl.offline"));
        }
    }

    @Test
    void threadCountsAreThoseOfTheFirstStart() throws BackendException {
        try (Backend other = new DjlBackendProvider().open(TinyVit.model(), new BackendOptions(DeviceRequest.CPU, 1, 1))) {
            assertTrue(other.device().detail().startsWith("CPU, 2 intra-op threads"), other.device().detail());
        }
    }

    @Test
    void batchGivesTheRowsOfSingleImages() throws BackendException {
        Logits batch = backend.infer(TinyVit.pixels(0, 3));
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(backend.infer(TinyVit.pixels(i, 1)).row(0), batch.row(i), 1e-5f, "image " + i);
        }
    }

    @Test
    void leavesTheCallersBufferAsItWas() throws BackendException {
        PixelBatch batch = TinyVit.pixels(0, 1);
        int position = batch.pixels().position();
        backend.infer(batch);
        assertEquals(position, batch.pixels().position());
        assertEquals(TinyVit.CHANNELS * TinyVit.SIZE * TinyVit.SIZE, batch.pixels().remaining());
    }

    @Test
    void concurrentCallersGetTheirOwnAnswers() throws Exception {
        Concurrently.run(4, thread -> () -> {
            for (int round = 0; round < 5; round++) {
                assertArrayEquals(EXPECTED[thread % 3], backend.infer(TinyVit.pixels(thread % 3, 1)).row(0), 1e-4f);
            }
            return null;
        });
    }

    @Test
    void refusesImagesOfAnotherSize() {
        PixelBatch small = new PixelBatch(TinyVit.pixels(0, 1).pixels().limit(3 * 16 * 16), 1, 3, 16, 16);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backend.infer(small));
        assertTrue(e.getMessage().contains("3x224x224"), e.getMessage());
    }

    @Test
    void inferAfterCloseFailsClearly() throws Exception {
        Backend closing = new DjlBackendProvider().open(TinyVit.model(), CPU);
        closing.infer(TinyVit.pixels(0, 1));
        Thread other = new Thread(() -> {
            try {
                closing.infer(TinyVit.pixels(1, 1));
            } catch (BackendException e) {
                throw new AssertionError(e);
            }
        });
        other.start();
        other.join();
        closing.close();
        closing.close();

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> closing.infer(TinyVit.pixels(0, 1)));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    @Test
    void folderWithoutNetworkIsReported(@TempDir Path empty) {
        BackendException e = assertThrows(BackendException.class,
                () -> new DjlBackendProvider().open(TinyVit.modelIn(empty), CPU));
        assertTrue(e.getMessage().startsWith("no model.pt or model.safetensors in " + empty.toAbsolutePath()), e.getMessage());
    }

    @Test
    void labelCountDifferentFromConfigIsReported() {
        ModelFiles sevenLabels = new ModelFiles("tiny-vit", Fixtures.tinyVit(), TinyVit.config(7));
        BackendException e = assertThrows(BackendException.class, () -> new DjlBackendProvider().open(sevenLabels, CPU));
        assertTrue(e.getMessage().contains("gives logits of shape (1, 10) for one image, but config.json says (1, 7)"),
                e.getMessage());
    }

    @Test
    void isFoundByServiceLoader() {
        List<String> ids = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class).forEach(provider -> ids.add(provider.id()));
        assertTrue(ids.contains("djl"), ids.toString());
    }
}
