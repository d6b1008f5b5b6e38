package dev.vitserve.server.bench;

import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendProvider;
import dev.vitserve.api.Logits;
import dev.vitserve.api.NetworkBuild;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.api.TextEncoder;
import dev.vitserve.core.model.BackendRegistry;
import dev.vitserve.core.model.LoadedModel;
import dev.vitserve.core.model.ModelLoader;
import dev.vitserve.core.text.TextTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * fp32 against int8 on a CLIP or SigLIP model, each tower alone (no HTTP, no decoding): the image tower on one image
 * and the text tower on a batch of labels, in alternating rounds (fp32 first, then int8 first in the next round) so
 * that a drifting host weighs on both alike; each round prints both latencies and the speed-up (fp32 latency over
 * int8's), then the medians; before the rounds, the embeddings' smallest cosine of int8 to fp32.
 */
@Command(name = "clip-precision-benchmark", mixinStandardHelpOptions = true,
        description = "CLIP/SigLIP image and text tower latency, int8 against fp32, in one run.")
public final class ClipPrecisionBenchmark implements java.util.concurrent.Callable<Integer> {

    @Option(names = "--model", defaultValue = "/tmp/vitserve-zero-shot-bench/clip",
            description = "A CLIP or SigLIP folder with model.safetensors and its tokenizer. Default: ${DEFAULT-VALUE}.")
    Path model;

    @Option(names = "--backend", defaultValue = "onnx", description = "Default: ${DEFAULT-VALUE}.")
    String backend;

    @Option(names = "--threads", defaultValue = "2", description = "Engine threads. Default: ${DEFAULT-VALUE}.")
    int threads;

    @Option(names = "--labels", defaultValue = "10", description = "Texts in the text batch. Default: ${DEFAULT-VALUE}.")
    int labels;

    @Option(names = "--rounds", defaultValue = "5", description = "Alternating rounds. Default: ${DEFAULT-VALUE}.")
    int rounds;

    @Option(names = "--seconds", defaultValue = "3",
            description = "Seconds per tower and precision in each round. Default: ${DEFAULT-VALUE}.")
    double seconds;

    /** One round: the median latency in ms of each tower in each precision. */
    record Round(double imageFp32, double imageInt8, double textFp32, double textInt8) {
    }

    /** One precision's towers and the inputs they run on. */
    private record Towers(Backend backend, TextEncoder text) {
    }

    /** Runs the benchmark: {@code --help} for its options. */
    public static void main(String[] args) {
        System.exit(new CommandLine(new ClipPrecisionBenchmark()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        LoadedModel loaded = ModelLoader.load(model, model.toString());
        if (loaded.text().isEmpty()) {
            throw new IllegalArgumentException(model + " is not a CLIP or SigLIP model");
        }
        TextTokenizer tokenizer = loaded.text().get().tokenizer();
        TextTokenizer.Tokens tokens = tokenizer.encode(IntStream.range(0, labels)
                .mapToObj(i -> "a photo of label number " + i + ", a new one").toList());
        PixelBatch image = EngineBenchmark.randomBatch(loaded.files().clip().orElseThrow().vision(), 1);
        BackendProvider provider = BackendRegistry.discover(ClipPrecisionBenchmark.class.getClassLoader()).get(backend);
        System.out.printf(Locale.ROOT, "CLIP towers, fp32 against int8: %s (%s, %s), %d engine threads, image batch 1,"
                + " text batch %d x %d tokens; %d alternating rounds of %.1f s per tower and precision%n", model,
                loaded.files().clip().orElseThrow().family().className(), backend, threads, tokens.batchSize(),
                tokens.length(), rounds, seconds);
        StolenTime start = StolenTime.now();
        try (PrecisionBenchmark.Engines engines = PrecisionBenchmark.open(provider, loaded, threads, 1)) {
            NetworkBuild int8 = engines.int8().build();
            System.out.printf(Locale.ROOT, "   load: fp32 %.0f ms, int8 %.0f ms (of which quantizing %d ms)%n",
                    engines.fp32LoadMs(), engines.int8LoadMs(), int8.quantizeMillis());
            System.out.println("   int8: " + int8.quantizedLayers() + "; " + int8.operators());
            Towers fp32 = new Towers(engines.fp32(), engines.fp32().text().orElseThrow());
            Towers quantized = new Towers(engines.int8(), engines.int8().text().orElseThrow());
            System.out.printf(Locale.ROOT, "   smallest cosine int8/fp32: image embedding %.6f, text embeddings %.6f%n",
                    Logits.cosineSimilarity(fp32.backend().infer(image).embedding(0),
                            quantized.backend().infer(image).embedding(0)),
                    smallestTextCosine(fp32.text(), quantized.text(), tokens));
            for (int i = 0; i < 3; i++) {
                for (Towers towers : List.of(fp32, quantized)) {
                    towers.backend().infer(image);
                    towers.text().encode(tokens.ids(), tokens.batchSize(), tokens.length());
                }
            }
            List<Round> done = new ArrayList<>();
            System.out.println("   round   image fp32 ms   image int8 ms   fp32/int8   text fp32 ms   text int8 ms"
                    + "   fp32/int8");
            for (int round = 0; round < rounds; round++) {
                boolean fp32First = round % 2 == 0;
                Towers first = fp32First ? fp32 : quantized;
                Towers second = fp32First ? quantized : fp32;
                double imageFirst = median(() -> first.backend().infer(image));
                double imageSecond = median(() -> second.backend().infer(image));
                double textFirst = median(() -> first.text().encode(tokens.ids(), tokens.batchSize(), tokens.length()));
                double textSecond = median(() -> second.text().encode(tokens.ids(), tokens.batchSize(), tokens.length()));
                Round r = fp32First ? new Round(imageFirst, imageSecond, textFirst, textSecond)
                        : new Round(imageSecond, imageFirst, textSecond, textFirst);
                done.add(r);
                System.out.printf(Locale.ROOT, "   %5d   %13.2f   %13.2f   %9.2f   %12.2f   %12.2f   %9.2f%n", round + 1,
                        r.imageFp32(), r.imageInt8(), r.imageFp32() / r.imageInt8(), r.textFp32(), r.textInt8(),
                        r.textFp32() / r.textInt8());
            }
            System.out.printf(Locale.ROOT, "   medians: image tower fp32 %.2f ms, int8 %.2f ms, speed-up fp32/int8 %.2f"
                            + " (median of the rounds' ratios); text tower fp32 %.2f ms, int8 %.2f ms, speed-up %.2f;"
                            + " %s; load average %s%n",
                    median(done, Round::imageFp32), median(done, Round::imageInt8),
                    median(done, r -> r.imageFp32() / r.imageInt8()), median(done, Round::textFp32),
                    median(done, Round::textInt8), median(done, r -> r.textFp32() / r.textInt8()),
                    StolenTime.label(StolenTime.percentSince(start, StolenTime.now())), loadAverage());
        } finally {
            loaded.closeText();
        }
        return 0;
    }

    @FunctionalInterface
    private interface Run {
        void once() throws Exception;
    }

    /** The median latency of {@code run} over {@link #seconds} seconds (at least 3 runs). */
    private double median(Run run) throws Exception {
        List<Double> millis = new ArrayList<>();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() < end || millis.size() < 3) {
            long t0 = System.nanoTime();
            run.once();
            millis.add((System.nanoTime() - t0) / 1e6);
        }
        return Stats.of(millis).median();
    }

    private static double median(List<Round> rounds, java.util.function.ToDoubleFunction<Round> figure) {
        double[] values = rounds.stream().mapToDouble(figure).sorted().toArray();
        return values.length % 2 == 1 ? values[values.length / 2]
                : (values[values.length / 2 - 1] + values[values.length / 2]) / 2;
    }

    private static double smallestTextCosine(TextEncoder fp32, TextEncoder int8, TextTokenizer.Tokens tokens)
            throws Exception {
        float[] a = fp32.encode(tokens.ids(), tokens.batchSize(), tokens.length());
        float[] b = int8.encode(tokens.ids(), tokens.batchSize(), tokens.length());
        int d = fp32.dimensions();
        double smallest = 1;
        for (int r = 0; r < tokens.batchSize(); r++) {
            smallest = Math.min(smallest, Logits.cosineSimilarity(java.util.Arrays.copyOfRange(a, r * d, (r + 1) * d),
                    java.util.Arrays.copyOfRange(b, r * d, (r + 1) * d)));
        }
        return smallest;
    }

    private static String loadAverage() {
        try {
            return java.nio.file.Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (java.io.IOException e) {
            return "-";
        }
    }
}
