package dev.vitserve.core.image;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Not a test (surefire does not run it): the first decode of a photo in a fresh JVM, cold and after
 * {@link DecoderWarmUp}, for the fixture photos of each format; each case in its own JVM (a decoder's classes and
 * native library load once per process), {@code -Dvitserve.bench.rounds} rounds (default 5) interleaved, medians
 * printed. Run from the repository root as {@link DecodeBenchmark} is, with this class's name:
 *
 * <pre>
 * mvn -q -B -pl core -am test-compile dependency:build-classpath -Dmdep.outputFile=target/test.classpath -Dmdep.includeScope=test \
 *   &amp;&amp; java -cp "core/target/test-classes:core/target/classes:$(cat core/target/test.classpath)" \
 *      dev.vitserve.core.image.FirstDecodeBenchmark
 * </pre>
 */
public final class FirstDecodeBenchmark {

    private static final int ROUNDS = Integer.getInteger("vitserve.bench.rounds", 5);
    private static final List<String> PHOTOS = List.of("testkit/fixtures/images/chelsea.png",
            "testkit/fixtures/images/coffee.jpg", "testkit/fixtures/images-extra/lossy-photo.webp",
            "testkit/fixtures/images-extra/animated.gif");

    private FirstDecodeBenchmark() {
    }

    /** With no arguments, the table; with {@code cold|warm FILE}, one case: prints its first decode in ms. */
    public static void main(String[] args) throws Exception {
        if (args.length == 2) {
            System.out.println(firstDecodeMs(args[0].equals("warm"), Path.of(args[1])));
            return;
        }
        System.out.printf(Locale.ROOT, "first decode in a fresh JVM, median of %d rounds%n", ROUNDS);
        System.out.printf(Locale.ROOT, "%-20s %10s %16s%n", "photo", "cold", "after warm-up");
        List<List<Double>> cold = new ArrayList<>();
        List<List<Double>> warm = new ArrayList<>();
        for (int i = 0; i < PHOTOS.size(); i++) {
            cold.add(new ArrayList<>());
            warm.add(new ArrayList<>());
        }
        for (int round = 0; round < ROUNDS; round++) {
            for (int i = 0; i < PHOTOS.size(); i++) {
                cold.get(i).add(fork("cold", PHOTOS.get(i)));
                warm.get(i).add(fork("warm", PHOTOS.get(i)));
            }
        }
        for (int i = 0; i < PHOTOS.size(); i++) {
            System.out.printf(Locale.ROOT, "%-20s %7.1f ms %13.1f ms%n", Path.of(PHOTOS.get(i)).getFileName(),
                    median(cold.get(i)), median(warm.get(i)));
        }
    }

    private static double firstDecodeMs(boolean warm, Path photo) throws IOException, ImageDecodeException {
        byte[] data = Files.readAllBytes(photo);
        ImageDecoder decoder = new ImageDecoder(100_000_000L);
        if (warm) {
            DecoderWarmUp.run(decoder);
        }
        long start = System.nanoTime();
        try (DecodedImage image = decoder.decodeForPreprocessing(data)) {
            return (System.nanoTime() - start) / 1e6;
        }
    }

    private static double fork(String mode, String photo) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), FirstDecodeBenchmark.class.getName(), mode, photo)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            throw new IllegalStateException(mode + " " + photo + " failed: " + out);
        }
        // the last line: the logger may print before it
        List<String> lines = out.lines().toList();
        return Double.parseDouble(lines.get(lines.size() - 1).strip());
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
