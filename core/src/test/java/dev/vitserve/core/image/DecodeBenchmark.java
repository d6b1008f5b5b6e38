package dev.vitserve.core.image;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Not a test (surefire does not run it): times decode + preprocess of image files.
 * Run with the core test classpath: {@code java dev.vitserve.core.image.DecodeBenchmark file...}.
 */
public final class DecodeBenchmark {

    private DecodeBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        ImageDecoder decoder = new ImageDecoder(100_000_000);
        Preprocessor preprocessor = new Preprocessor(PreprocessorConfig.defaults());
        FloatBuffer tensor = FloatBuffer.allocate(preprocessor.tensorLength());
        for (String file : args) {
            byte[] data = Files.readAllBytes(Path.of(file));
            int rounds = data.length > 1_000_000 ? 15 : 200;
            double[] decode = new double[rounds];
            double[] total = new double[rounds];
            for (int warm = 0; warm < rounds / 2; warm++) {
                tensor.clear();
                preprocessor.writeTensor(decoder.decode(data), tensor);
            }
            RgbImage image = null;
            for (int i = 0; i < rounds; i++) {
                long t0 = System.nanoTime();
                image = decoder.decode(data);
                long t1 = System.nanoTime();
                tensor.clear();
                preprocessor.writeTensor(image, tensor);
                long t2 = System.nanoTime();
                decode[i] = (t1 - t0) / 1e6;
                total[i] = (t2 - t0) / 1e6;
            }
            System.out.printf(Locale.ROOT, "%s %dx%d: decode %.1f ms, decode+preprocess %.1f ms (median of %d)%n",
                    file, image.width(), image.height(), median(decode), median(total), rounds);
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
