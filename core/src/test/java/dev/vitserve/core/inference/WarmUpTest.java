package dev.vitserve.core.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.api.Backend;
import dev.vitserve.api.Device;
import dev.vitserve.api.Logits;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.core.image.DecodedImage;
import dev.vitserve.core.image.ImageDecoder;
import dev.vitserve.core.image.Preprocessor;
import dev.vitserve.core.image.PreprocessorConfig;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Warming up runs the real decode and preprocessing on a photo-like JPEG, then the engine, before anyone asks. */
class WarmUpTest {

    private final ImageDecoder decoder = new ImageDecoder(40_000_000);
    private final Preprocessor preprocessor = new Preprocessor(PreprocessorConfig.defaults());

    @Test
    void decodesAndPreprocessesThePhotoThenRunsTheEngine() throws Exception {
        RecordingBackend backend = new RecordingBackend();
        WarmUp.Report report = WarmUp.run(preprocessor, backend, 3);

        assertEquals(WarmUp.PREPARATIONS, report.preparations());
        assertEquals(3, report.inferences());
        assertEquals(3, backend.batches.size());
        float[] expected = new float[preprocessor.tensorLength()];
        try (DecodedImage photo = decoder.decodeForPreprocessing(WarmUp.photo(640, 480))) {
            preprocessor.writeTensor(photo, FloatBuffer.wrap(expected));
        }
        for (float[] batch : backend.batches) {
            assertArrayEquals(expected, batch, "the engine sees the preprocessed photo, one image per batch");
        }
        assertTrue(report.totalMs() >= report.firstPrepareMs());
    }

    @Test
    void thePhotoIsAColourJpegWithDetail() throws Exception {
        var image = decoder.decode(WarmUp.photo(640, 480));
        assertEquals(640, image.width());
        assertEquals(480, image.height());
        int distinct = (int) java.util.stream.IntStream.range(0, 640 * 480)
                .map(i -> image.sample(i % 640, i / 640, 0) << 16 | image.sample(i % 640, i / 640, 1) << 8
                        | image.sample(i % 640, i / 640, 2))
                .distinct().count();
        assertTrue(distinct > 10_000, "a photo-like spread of colours, got " + distinct);
    }

    @Test
    void zeroInferencesSkipsWarmingUp() throws Exception {
        RecordingBackend backend = new RecordingBackend();
        WarmUp.Report report = WarmUp.run(preprocessor, backend, 0);
        assertEquals(0, report.preparations());
        assertTrue(backend.batches.isEmpty());
    }

    /** Keeps a copy of every batch it is given. */
    private static final class RecordingBackend implements Backend {
        final List<float[]> batches = new ArrayList<>();

        @Override
        public Logits infer(PixelBatch batch) {
            assertEquals(1, batch.batchSize());
            float[] copy = new float[batch.pixels().remaining()];
            batch.pixels().duplicate().get(copy);
            batches.add(copy);
            return new Logits(new float[10], 1, 10);
        }

        @Override
        public Device device() {
            return Device.cpu("recording, for tests");
        }

        @Override
        public Path weightsFile() {
            return Path.of("none");
        }

        @Override
        public String engine() {
            return "recording";
        }

        @Override
        public void close() {
        }
    }
}
