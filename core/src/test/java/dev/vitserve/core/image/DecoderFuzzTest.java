package dev.vitserve.core.image;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.FloatBuffer;

/**
 * Coverage-guided fuzzing of decode + preprocess with Jazzer, seeded with small images of every
 * format and variant (DecoderFuzzTestInputs, with the slow units found so far as regression seeds).
 * Whatever the bytes, the only failure allowed is vitserve's own {@link ImageDecodeException}: any
 * other exception, an out-of-memory error in any thread (the fuzzing JVM exits on one), a unit
 * taking more than {@value #MAX_UNIT_CPU_MS} ms of CPU, or one running 20 s on the clock (a hang)
 * is a finding. Unit-test runs replay the seeds; the build's {@code fuzz-decoders} step
 * (JAZZER_FUZZ=1) fuzzes for 45 s.
 *
 * <p>The bound is CPU time of the decoding thread, which a loaded build machine hardly changes
 * (on the clock, a unit of 100 ms of CPU took over 3 s there). Under Jazzer vitserve's own code
 * (the resize above all) runs about 10 to 30 times slower, for its coverage counters: a valid
 * 48x65508 GIF (3 megapixels, seed gif-frame-40x65502) took 1.5 s of CPU fuzzed, 42 ms without.
 * So the decoder here takes up to 1 megapixel, where the costliest valid unit stays near 0.5 s
 * fuzzed, and stops its stoppable decoders after 1 s of CPU; 2 s is then well past anything
 * legitimate. Of the damaged WebPs found before (1.5, 2.6 and 13 s in a decoder Jazzer did not
 * instrument) it would have caught two. Each format is decoded once before fuzzing, so that
 * loading its decoder's classes is not counted.
 */
class DecoderFuzzTest {

    private static final long MAX_UNIT_CPU_MS = 2000;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final ImageDecoder DECODER = new ImageDecoder(1_000_000L, 1000);
    private static final Preprocessor PREPROCESSOR = new Preprocessor(PreprocessorConfig.defaults());

    static {
        try {
            for (byte[] image : new byte[][] {DecodeBombs.blackPng(8, 8), DecodeBombs.gifWithLargeScreen(8, 8),
                DecodeBombs.progressiveJpegWithRepeatedLastScan(16, 16, 0), DecodeBombs.lossyWebp(16, 16),
                DecodeBombs.bmpHeader(8, 8)}) {
                decodeAndPreprocessOnce(image);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "45s")
    void decodeAndPreprocess(byte[] data) {
        long start = THREADS.getCurrentThreadCpuTime();
        decodeAndPreprocessOnce(data);
        long ms = (THREADS.getCurrentThreadCpuTime() - start) / 1_000_000;
        if (ms > MAX_UNIT_CPU_MS) {
            throw new AssertionError("decoding this unit took " + ms + " ms of CPU, over the bound of "
                    + MAX_UNIT_CPU_MS + " ms: a denial of service");
        }
    }

    private static void decodeAndPreprocessOnce(byte[] data) {
        try {
            RgbImage image = DECODER.decode(data);
            PREPROCESSOR.writeTensor(image, FloatBuffer.allocate(PREPROCESSOR.tensorLength()));
        } catch (ImageDecodeException expected) {
            // refusing a bad image is the right answer
        }
    }
}
