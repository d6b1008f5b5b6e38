package dev.vitserve.core.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.image.DecodedImage;
import dev.vitserve.core.image.ImageDecoder;
import dev.vitserve.core.image.Preprocessor;
import dev.vitserve.core.image.PreprocessorConfig;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** Warming up runs the real decode and preprocessing on a photo-like JPEG, then the engine, before anyone asks. */
class WarmUpTest {

    private final ImageDecoder decoder = new ImageDecoder(40_000_000);
    private final Preprocessor preprocessor = new Preprocessor(PreprocessorConfig.defaults());

    @Test
    void decodesAndPreprocessesThePhotoThenRunsTheEngine() throws Exception {
        InferenceSchedulerTest.RecordingBackend backend = new InferenceSchedulerTest.RecordingBackend(new CountDownLatch(0));
        WarmUp.Report report = WarmUp.run(preprocessor, backend, 3, 2);

        assertEquals(WarmUp.PREPARATIONS, report.preparations());
        assertEquals(3, report.inferences());
        assertEquals(2, report.largestBatch());
        assertEquals(List.of(1, 1, 1, 2), backend.batchSizes, "three batches of one image, then the largest batch");
        float[] expected = new float[preprocessor.tensorLength()];
        try (DecodedImage photo = decoder.decodeForPreprocessing(WarmUp.photo(640, 480))) {
            preprocessor.writeTensor(photo, FloatBuffer.wrap(expected));
        }
        for (float[] batch : backend.batches.subList(0, 3)) {
            assertArrayEquals(expected, batch, "the engine sees the preprocessed photo, one image per batch");
        }
        float[] largest = backend.batches.get(3);
        assertArrayEquals(expected, java.util.Arrays.copyOfRange(largest, 0, expected.length));
        assertArrayEquals(expected, java.util.Arrays.copyOfRange(largest, expected.length, 2 * expected.length));
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
        InferenceSchedulerTest.RecordingBackend backend = new InferenceSchedulerTest.RecordingBackend(new CountDownLatch(0));
        WarmUp.Report report = WarmUp.run(preprocessor, backend, 0, 2);
        assertEquals(0, report.preparations());
        assertTrue(backend.batches.isEmpty());
    }
}
