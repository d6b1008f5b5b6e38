package dev.vitserve.core.image;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Not a test (surefire does not run it): decode + preprocess time per image processor, vitserve
 * against Pillow + Hugging Face's slow processor steps (the transcription in
 * {@code testkit/tools/make-processor-references.py}, timed by {@code pillow-preprocess-timer.py serve}),
 * in one run, interleaved in rounds. Each processor is the configuration a typical Hub checkpoint of
 * that class ships. Prints a Markdown table of median wall milliseconds (one thread). Run from the
 * repository root as {@link DecodeBenchmark} is run, with this class's name.
 */
public final class ProcessorBenchmark {

    private static final int ROUNDS = Integer.getInteger("vitserve.bench.rounds", 3);
    private static final int RUNS = Integer.getInteger("vitserve.bench.runs", 15);

    /** Class name, the checkpoint its settings come from, and those settings. */
    private static final String[][] PROCESSORS = {
        {"ViTImageProcessor", "google/vit-base-patch16-224",
            "{\"image_processor_type\":\"ViTImageProcessor\",\"size\":{\"height\":224,\"width\":224},\"resample\":2}"},
        {"ViTImageProcessor, BICUBIC", "microsoft/swin-tiny-patch4-window7-224",
            "{\"image_processor_type\":\"ViTImageProcessor\",\"size\":224,\"resample\":3,"
                    + "\"image_mean\":[0.485,0.456,0.406],\"image_std\":[0.229,0.224,0.225]}"},
        {"DeiTImageProcessor", "facebook/deit-base-distilled-patch16-224",
            "{\"image_processor_type\":\"DeiTImageProcessor\",\"size\":256,\"crop_size\":224,\"resample\":3}"},
        {"BeitImageProcessor", "microsoft/beit-base-patch16-224",
            "{\"image_processor_type\":\"BeitImageProcessor\",\"size\":224,\"do_center_crop\":false,\"resample\":2}"},
        {"ConvNextImageProcessor", "facebook/convnext-tiny-224",
            "{\"image_processor_type\":\"ConvNextImageProcessor\",\"size\":224,\"crop_pct\":0.875,\"resample\":3,"
                    + "\"image_mean\":[0.485,0.456,0.406],\"image_std\":[0.229,0.224,0.225]}"},
        {"BitImageProcessor", "facebook/dinov2-small-imagenet1k-1-layer",
            "{\"image_processor_type\":\"BitImageProcessor\",\"size\":{\"shortest_edge\":256},"
                    + "\"crop_size\":{\"height\":224,\"width\":224},\"resample\":3,"
                    + "\"image_mean\":[0.485,0.456,0.406],\"image_std\":[0.229,0.224,0.225]}"},
        {"CLIPImageProcessor", "openai/clip-vit-base-patch32",
            "{\"image_processor_type\":\"CLIPImageProcessor\",\"size\":224,\"crop_size\":224,\"resample\":3}"},
        {"MobileViTImageProcessor", "apple/mobilevit-small",
            "{\"image_processor_type\":\"MobileViTImageProcessor\",\"size\":288,\"crop_size\":256,\"resample\":2}"},
        {"EfficientNetImageProcessor", "google/efficientnet-b0",
            "{\"image_processor_type\":\"EfficientNetImageProcessor\",\"size\":{\"height\":224,\"width\":224},"
                    + "\"resample\":0,\"image_mean\":[0.485,0.456,0.406],\"image_std\":[0.47853944,0.4732864,0.47434163]}"},
    };

    private ProcessorBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path folder = Files.createTempDirectory("vitserve-processor-bench");
        String python = System.getProperty("vitserve.bench.python", "/usr/bin/python3");
        Path tools = dev.vitserve.testkit.Fixtures.root().resolve("..").resolve("tools").normalize();
        try {
            Process make = new ProcessBuilder(python, tools.resolve("pillow-preprocess-timer.py").toString(), "make",
                    folder.toString()).inheritIO().start();
            if (make.waitFor() != 0) {
                throw new IOException("making the images failed");
            }
            List<Path> files = List.of(folder.resolve("photo-600x400.jpg"), folder.resolve("photo-600x400.png"),
                    folder.resolve("photo-12mp.jpg"));
            ImageDecoder decoder = new ImageDecoder(Long.MAX_VALUE);
            Map<String, List<Double>> java = new LinkedHashMap<>();
            Map<String, List<Double>> pillow = new LinkedHashMap<>();
            Map<Path, List<Double>> decodeOnly = new LinkedHashMap<>();
            try (PillowTimer timer = new PillowTimer(python, tools.resolve("pillow-preprocess-timer.py"))) {
                for (int round = 0; round < ROUNDS; round++) {
                    for (Path file : files) {
                        decodeOnly.computeIfAbsent(file, k -> new ArrayList<>()).addAll(timeDecode(decoder, file));
                    }
                    for (String[] p : PROCESSORS) {
                        Path config = folder.resolve(p[0].replaceAll("[^A-Za-z]", "") + ".json");
                        Files.writeString(config, p[2]);
                        Preprocessor preprocessor = new Preprocessor(PreprocessorConfig.read(config));
                        for (Path file : files) {
                            String key = p[0] + "|" + file.getFileName();
                            java.computeIfAbsent(key, k -> new ArrayList<>()).addAll(time(decoder, preprocessor, file));
                            pillow.computeIfAbsent(key, k -> new ArrayList<>()).addAll(timer.time(file, RUNS, config));
                        }
                    }
                }
            }
            System.out.printf(Locale.ROOT, "%nDecode + preprocess, one thread, median ms of %d runs (%d rounds, interleaved)%n%n",
                    ROUNDS * RUNS, ROUNDS);
            StringBuilder header = new StringBuilder("| processor (settings of) |");
            StringBuilder rule = new StringBuilder("|---|");
            for (Path file : files) {
                header.append(" ").append(file.getFileName()).append(" vitserve | Pillow |");
                rule.append("---:|---:|");
            }
            System.out.println(header);
            System.out.println(rule);
            for (String[] p : PROCESSORS) {
                StringBuilder row = new StringBuilder("| " + p[0] + " (" + p[1] + ") |");
                for (Path file : files) {
                    String key = p[0] + "|" + file.getFileName();
                    row.append(String.format(Locale.ROOT, " %.2f | %.2f |", median(java.get(key)), median(pillow.get(key))));
                }
                System.out.println(row);
            }
            StringBuilder decodeRow = new StringBuilder("| vitserve's decode alone |");
            for (Path file : files) {
                decodeRow.append(String.format(Locale.ROOT, " %.2f | |", median(decodeOnly.get(file))));
            }
            System.out.println(decodeRow);
        } finally {
            try (var walk = Files.walk(folder)) {
                walk.sorted((a, b) -> b.compareTo(a)).forEach(f -> f.toFile().delete());
            }
        }
    }

    private static List<Double> time(ImageDecoder decoder, Preprocessor preprocessor, Path file) throws Exception {
        byte[] bytes = Files.readAllBytes(file);
        FloatBuffer tensor = FloatBuffer.allocate(preprocessor.tensorLength());
        long warmUntil = System.nanoTime() + 1_000_000_000L;
        for (int i = 0; i < 3 || System.nanoTime() < warmUntil; i++) {
            prepare(decoder, preprocessor, bytes, tensor);
        }
        List<Double> times = new ArrayList<>();
        for (int i = 0; i < RUNS; i++) {
            long t0 = System.nanoTime();
            prepare(decoder, preprocessor, bytes, tensor);
            times.add((System.nanoTime() - t0) / 1e6);
        }
        return times;
    }

    private static List<Double> timeDecode(ImageDecoder decoder, Path file) throws Exception {
        byte[] bytes = Files.readAllBytes(file);
        long warmUntil = System.nanoTime() + 1_000_000_000L;
        for (int i = 0; i < 3 || System.nanoTime() < warmUntil; i++) {
            decoder.decodeForPreprocessing(bytes).close();
        }
        List<Double> times = new ArrayList<>();
        for (int i = 0; i < RUNS; i++) {
            long t0 = System.nanoTime();
            decoder.decodeForPreprocessing(bytes).close();
            times.add((System.nanoTime() - t0) / 1e6);
        }
        return times;
    }

    private static void prepare(ImageDecoder decoder, Preprocessor preprocessor, byte[] bytes, FloatBuffer tensor)
            throws Exception {
        tensor.clear();
        try (DecodedImage image = decoder.decodeForPreprocessing(bytes)) {
            preprocessor.writeTensor(image, tensor);
        }
    }

    private static double median(List<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return sorted[sorted.length / 2];
    }

    /** The Pillow timer's serve mode, with a preprocessor_config.json per request. */
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

        List<Double> time(Path file, int runs, Path config) throws IOException {
            in.write(file.toAbsolutePath() + " " + runs + " " + config.toAbsolutePath() + "\n");
            in.flush();
            String line = out.readLine();
            if (line == null) {
                throw new IOException("the Pillow timer stopped");
            }
            return Arrays.stream(line.trim().split(" ")).map(pair -> Double.parseDouble(pair.split(":")[0])).toList();
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
