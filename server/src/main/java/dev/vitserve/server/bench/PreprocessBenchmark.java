package dev.vitserve.server.bench;

import dev.vitserve.core.image.ImageDecoder;
import dev.vitserve.core.image.Preprocessor;
import dev.vitserve.core.image.DecodedImage;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** vitserve's decode and preprocessing of one file, on one thread, exactly as the server's pipeline does it. */
final class PreprocessBenchmark {

    /** Median milliseconds of decoding, and of decoding plus preprocessing. */
    record Result(Stats decode, Stats total) {
    }

    private static final long WARM_UP_NANOS = 3_000_000_000L;

    private PreprocessBenchmark() {
    }

    static Result run(Path file, Preprocessor preprocessor, int runs) throws Exception {
        byte[] bytes = Files.readAllBytes(file);
        ImageDecoder decoder = new ImageDecoder(Long.MAX_VALUE);
        FloatBuffer tensor = FloatBuffer.allocate(preprocessor.tensorLength());
        warmUp(decoder, preprocessor, bytes, tensor);
        List<Double> decode = new ArrayList<>();
        List<Double> total = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            tensor.clear();
            long t0 = System.nanoTime();
            long t1;
            try (DecodedImage image = decoder.decodeForPreprocessing(bytes)) {
                t1 = System.nanoTime();
                preprocessor.writeTensor(image, tensor);
            }
            long t2 = System.nanoTime();
            decode.add((t1 - t0) / 1e6);
            total.add((t2 - t0) / 1e6);
        }
        return new Result(Stats.of(decode), Stats.of(total));
    }

    /**
     * Decodes and preprocesses the image over and over, the way a serving process is warm: long enough
     * for the JIT to compile the decoder and the resize loops.
     */
    static void warmUp(ImageDecoder decoder, Preprocessor preprocessor, byte[] bytes, FloatBuffer tensor)
            throws Exception {
        long warmUntil = System.nanoTime() + WARM_UP_NANOS;
        for (int i = 0; i < 3 || System.nanoTime() < warmUntil; i++) {
            prepare(decoder, preprocessor, bytes, tensor);
        }
    }

    /** Decodes the image and writes its preprocessed pixels into {@code tensor}, as the server does. */
    static void prepare(ImageDecoder decoder, Preprocessor preprocessor, byte[] bytes, FloatBuffer tensor)
            throws Exception {
        tensor.clear();
        try (DecodedImage image = decoder.decodeForPreprocessing(bytes)) {
            preprocessor.writeTensor(image, tensor);
        }
    }
}
