package dev.vitserve.core.image;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.FloatBuffer;

/**
 * Coverage-guided fuzzing of decode + preprocess with Jazzer, seeded with small images of every
 * format and variant (DecoderFuzzTestInputs). Whatever the bytes, the only failure allowed is
 * vitserve's own {@link ImageDecodeException}: any other exception, an out-of-memory error or a
 * hang is a finding. Unit-test runs replay the seeds; the build's {@code fuzz-decoders} step
 * (JAZZER_FUZZ=1) fuzzes for a minute.
 */
class DecoderFuzzTest {

    private static final ImageDecoder DECODER = new ImageDecoder(40_000_000L);
    private static final Preprocessor PREPROCESSOR = new Preprocessor(PreprocessorConfig.defaults());

    @FuzzTest(maxDuration = "60s")
    void decodeAndPreprocess(byte[] data) {
        try {
            RgbImage image = DECODER.decode(data);
            PREPROCESSOR.writeTensor(image, FloatBuffer.allocate(PREPROCESSOR.tensorLength()));
        } catch (ImageDecodeException expected) {
            // refusing a bad image is the right answer
        }
    }
}
