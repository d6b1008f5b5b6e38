package dev.vitserve.core.image;

import com.sun.management.ThreadMXBean;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * Not a test (surefire does not run it): times vitserve's decode and decode + preprocess (224x224,
 * rescale, normalize) on both JPEG paths against Pillow's decode + resize + normalize on the same
 * files, interleaved in rounds so that load from other processes hits all of them alike. Besides
 * wall time it reports each side's CPU time (the thread's), which a busy machine disturbs less, and
 * the Java heap allocated per run.
 *
 * <p>The images (a 600x400 JPEG, a 12-megapixel JPEG, a 600x400 PNG) are made from the fixture
 * photos by {@code testkit/tools/pillow-preprocess-timer.py} in a temporary folder, which is deleted
 * afterwards; more files may be given as arguments. Pillow is Debian's {@code /usr/bin/python3}
 * (or {@code -Dvitserve.bench.python=...}); without Pillow its column is left out and the images are
 * made with ImageIO. Run from the repository root:
 *
 * <pre>
 * mvn -q -B -pl core -am test-compile dependency:build-classpath -Dmdep.outputFile=target/test.classpath -Dmdep.includeScope=test \
 *   &amp;&amp; java -Dvitserve.testdata=testkit/fixtures -cp "core/target/test-classes:core/target/classes:$(cat core/target/test.classpath)" \
 *      dev.vitserve.core.image.DecodeBenchmark
 * </pre>
 */
public final class DecodeBenchmark {

    private static final int ROUNDS = Integer.getInteger("vitserve.bench.rounds", 5);
    private static final ThreadMXBean THREADS = (ThreadMXBean) ManagementFactory.getThreadMXBean();

    private DecodeBenchmark() {
    }

    /** One timed operation on the bytes of one file. */
    private interface Operation {
        void run(byte[] data) throws Exception;
    }

    /** Wall and CPU times (ms) and heap bytes allocated of the runs of one operation. */
    private static final class Samples {
        final List<Double> wall = new ArrayList<>();
        final List<Double> cpu = new ArrayList<>();
        final List<Double> heapMegabytes = new ArrayList<>();
    }

    public static void main(String[] args) throws Exception {
        Path folder = Files.createTempDirectory("vitserve-decode-bench");
        try {
            String python = System.getProperty("vitserve.bench.python", "/usr/bin/python3");
            Path tool = Fixtures.tool();
            boolean pillow = hasPillow(python);
            List<Path> files = new ArrayList<>();
            if (pillow) {
                run(python, tool.toString(), "make", folder.toString());
            } else {
                System.out.println("Pillow not found (" + python + " with PIL and numpy): its column is left out;"
                        + " images made with ImageIO instead");
                makeWithImageIo(folder);
            }
            files.add(folder.resolve("photo-600x400.jpg"));
            files.add(folder.resolve("photo-12mp.jpg"));
            files.add(folder.resolve("photo-600x400.png"));
            for (String extra : args) {
                files.add(Path.of(extra));
            }
            try (PillowTimer timer = pillow ? new PillowTimer(python, tool) : null) {
                System.out.printf(Locale.ROOT, "load average before: %s; JPEG decoder by default: %s%n", loadAverage(),
                        JpegDecoders.preferred().getClass().getSimpleName());
                for (Path file : files) {
                    benchmark(file, timer);
                }
                System.out.printf(Locale.ROOT, "load average after: %s%n", loadAverage());
            }
        } finally {
            try (Stream<Path> made = Files.list(folder)) {
                for (Path p : made.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(folder);
        }
    }

    private static void benchmark(Path file, PillowTimer timer) throws Exception {
        byte[] data = Files.readAllBytes(file);
        Preprocessor preprocessor = new Preprocessor(PreprocessorConfig.defaults());
        FloatBuffer tensor = FloatBuffer.allocate(preprocessor.tensorLength());
        Map<String, Operation> operations = new LinkedHashMap<>();
        boolean jpeg = ImageFormat.sniff(data).filter(f -> f == ImageFormat.JPEG).isPresent();
        List<String> paths = new ArrayList<>();
        if (jpeg && TurboJpegLoader.library().isPresent()) {
            paths.add("turbojpeg");
        }
        paths.add(jpeg ? "imageio" : "");
        for (String path : paths) {
            ImageDecoder decoder = path.equals("turbojpeg") ? JpegPath.decoderWith(JpegDecoders.preferred())
                    : path.equals("imageio") ? JpegPath.decoderWith(new JpegDecoder()) : new ImageDecoder(100_000_000);
            String prefix = path.isEmpty() ? "" : path + " ";
            operations.put(prefix + "decode", decoder::decode);
            operations.put(prefix + "decode+preprocess", bytes -> {
                try (DecodedImage image = decoder.decodeForPreprocessing(bytes)) {
                    tensor.clear();
                    preprocessor.writeTensor(image, tensor);
                }
            });
        }
        Map<String, Samples> samples = new LinkedHashMap<>();
        double slowest = 0;
        for (Map.Entry<String, Operation> operation : operations.entrySet()) {
            samples.put(operation.getKey(), new Samples());
            long warmUntil = System.nanoTime() + 2_000_000_000L;
            for (int i = 0; i < 5 || System.nanoTime() < warmUntil; i++) {
                operation.getValue().run(data);
            }
            slowest = Math.max(slowest, timeOnce(operation.getValue(), data));
        }
        if (timer != null) {
            timer.time(file, 5); // warm-up
        }
        // about 0.4 s per operation and round
        int perRound = (int) Math.max(3, Math.min(100, 400 / Math.max(slowest, 0.01)));
        List<Double> pillowWall = new ArrayList<>();
        List<Double> pillowCpu = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            for (Map.Entry<String, Operation> operation : operations.entrySet()) {
                Samples s = samples.get(operation.getKey());
                for (int i = 0; i < perRound; i++) {
                    long bytes0 = THREADS.getCurrentThreadAllocatedBytes();
                    long cpu0 = THREADS.getCurrentThreadCpuTime();
                    long t0 = System.nanoTime();
                    operation.getValue().run(data);
                    long t1 = System.nanoTime();
                    s.cpu.add((THREADS.getCurrentThreadCpuTime() - cpu0) / 1e6);
                    s.wall.add((t1 - t0) / 1e6);
                    s.heapMegabytes.add((THREADS.getCurrentThreadAllocatedBytes() - bytes0) / 1e6);
                }
            }
            if (timer != null) {
                for (double[] wallCpu : timer.time(file, perRound)) {
                    pillowWall.add(wallCpu[0]);
                    pillowCpu.add(wallCpu[1]);
                }
            }
        }
        RgbImage image = new ImageDecoder(100_000_000).decode(data);
        System.out.printf(Locale.ROOT, "%n%s: %dx%d, %d bytes; %d rounds x %d runs; median ms: wall [quartiles], CPU"
                + " of the thread%n", file.getFileName(), image.width(), image.height(), data.length, ROUNDS, perRound);
        double pillowWallMedian = pillowWall.isEmpty() ? Double.NaN : percentile(pillowWall, 0.5);
        double pillowCpuMedian = pillowCpu.isEmpty() ? Double.NaN : percentile(pillowCpu, 0.5);
        for (Map.Entry<String, Samples> entry : samples.entrySet()) {
            Samples s = entry.getValue();
            double wall = percentile(s.wall, 0.5);
            double cpu = percentile(s.cpu, 0.5);
            String ratio = entry.getKey().endsWith("preprocess") && !pillowWall.isEmpty()
                    ? String.format(Locale.ROOT, "  Java/Pillow: wall %.2f, CPU %.2f", wall / pillowWallMedian,
                            cpu / pillowCpuMedian) : "";
            System.out.printf(Locale.ROOT, "  %-31s %8.2f [%7.2f %7.2f]  CPU %7.2f  heap %5.1f MB/run%s%n", entry.getKey(),
                    wall, percentile(s.wall, 0.25), percentile(s.wall, 0.75), cpu, percentile(s.heapMegabytes, 0.5), ratio);
        }
        if (!pillowWall.isEmpty()) {
            System.out.printf(Locale.ROOT, "  %-31s %8.2f [%7.2f %7.2f]  CPU %7.2f%n", "Pillow decode+resize+normalize",
                    pillowWallMedian, percentile(pillowWall, 0.25), percentile(pillowWall, 0.75), pillowCpuMedian);
        }
    }

    private static double timeOnce(Operation operation, byte[] data) throws Exception {
        long t0 = System.nanoTime();
        operation.run(data);
        return (System.nanoTime() - t0) / 1e6;
    }

    private static double percentile(List<Double> values, double q) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return sorted[(int) Math.min(sorted.length - 1, Math.round(q * (sorted.length - 1)))];
    }

    private static String loadAverage() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return String.join(" ", Arrays.copyOf(fields, 3)) + " on " + Runtime.getRuntime().availableProcessors()
                    + " cores";
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static boolean hasPillow(String python) {
        try {
            Process process = new ProcessBuilder(python, "-c", "import PIL, numpy").redirectErrorStream(true).start();
            process.getInputStream().readAllBytes();
            return process.waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + output);
        }
    }

    /** The same three images without Pillow (no sensor noise: the 12 MP JPEG compresses better than a photo). */
    private static void makeWithImageIo(Path folder) throws IOException {
        BufferedImage coffee = ImageIO.read(PillowReference.file("images/coffee.jpg").toFile());
        ImageIO.write(coffee, "jpeg", folder.resolve("photo-600x400.jpg").toFile());
        ImageIO.write(coffee, "png", folder.resolve("photo-600x400.png").toFile());
        BufferedImage big = new BufferedImage(4000, 3000, BufferedImage.TYPE_3BYTE_BGR);
        Graphics2D g = big.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
        g.drawImage(coffee, 0, 0, 4000, 3000, null);
        g.dispose();
        ImageIO.write(big, "jpeg", folder.resolve("photo-12mp.jpg").toFile());
    }

    /** Where the Pillow timing tool is. */
    private static final class Fixtures {
        static Path tool() {
            return dev.vitserve.testkit.Fixtures.root().resolve("..").resolve("tools")
                    .resolve("pillow-preprocess-timer.py").normalize();
        }
    }

    /** A Python process timing Pillow on request ("FILE N" in, N times in ms out). */
    private static final class PillowTimer implements AutoCloseable {
        private final Process process;
        private final Writer in;
        private final BufferedReader out;

        PillowTimer(String python, Path tool) throws IOException {
            process = new ProcessBuilder(python, tool.toString(), "serve").redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        }

        /** {wall, cpu} milliseconds of each run. */
        List<double[]> time(Path file, int runs) throws IOException {
            in.write(file.toAbsolutePath() + " " + runs + "\n");
            in.flush();
            String line = out.readLine();
            if (line == null) {
                throw new IOException("the Pillow timer stopped");
            }
            return Arrays.stream(line.trim().split(" "))
                    .map(pair -> Arrays.stream(pair.split(":")).mapToDouble(Double::parseDouble).toArray()).toList();
        }

        @Override
        public void close() throws IOException {
            in.write("quit\n");
            in.close();
            try {
                process.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroy();
            }
        }
    }
}
