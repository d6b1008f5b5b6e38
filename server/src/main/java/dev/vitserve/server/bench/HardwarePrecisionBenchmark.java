package dev.vitserve.server.bench;

import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.CpuFeatures;
import dev.vitserve.api.DeviceRequest;
import dev.vitserve.api.Logits;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.api.Precision;
import dev.vitserve.core.model.BackendRegistry;
import dev.vitserve.core.image.ImageDecoder;
import dev.vitserve.core.image.Preprocessor;
import dev.vitserve.core.model.LoadedModel;
import dev.vitserve.core.model.ModelLoader;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * bf16 and int8 against fp32 at the hardware's pace: the engines alone (onnx fp32 and int8, djl fp32 and bf16) and
 * plain PyTorch outside vitserve ({@code testkit/tools/torch-precision-peer.py}: fp32, bf16, dynamic int8), in
 * alternating rounds of one run (the order turns each round, so a shared host's drift weighs on all alike), at each
 * batch size; then the medians, the ratios to fp32, the share of the CPU's peak each reaches (from the model's FLOPs,
 * the core count, the clock and the per-cycle rates printed), and the smallest cosine of each precision's logits to
 * its backend's fp32 on the photos. From the root, after {@code mvn -pl server -am package -DskipTests}:
 * <pre>
 * java -cp server/target/vitserve.jar dev.vitserve.server.bench.HardwarePrecisionBenchmark --model /tmp/vit-base
 * </pre>
 */
@Command(name = "precision-hw", mixinStandardHelpOptions = true,
        description = "bf16 and int8 against fp32 on this CPU, and against plain PyTorch, in alternating rounds.")
public final class HardwarePrecisionBenchmark implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "A ViT folder with config.json and model.safetensors.")
    Path model;

    @Option(names = "--threads", defaultValue = "2", description = "Intra-op threads of every engine.")
    int threads;

    @Option(names = "--rounds", defaultValue = "3", description = "Alternating rounds.")
    int rounds;

    @Option(names = "--seconds", defaultValue = "5", description = "Measuring time of each engine, batch and round.")
    double seconds;

    @Option(names = "--batches", split = ",", defaultValue = "1,4", description = "Batch sizes.")
    int[] batches;

    @Option(names = "--peer", defaultValue = "testkit/tools/torch-precision-peer.py",
            description = "The PyTorch peer script, or 'none'.")
    String peer;

    @Option(names = "--python", defaultValue = "/usr/bin/python3", description = "The python with torch.")
    String python;

    @Option(names = "--peer-modes", split = ",", defaultValue = "fp32@1,bf16,int8",
            description = "The peer's precisions, each at every batch size or, as mode@N, at batch N only (its fp32"
                    + " takes tens of seconds an image in Debian's torch 1.13). Default: ${DEFAULT-VALUE}.")
    List<String> peerModes;

    @Option(names = "--photos", defaultValue = "testkit/fixtures/images", description = "Photos for the cosines.")
    Path photos;

    @Option(names = "--gflop", defaultValue = "35.1",
            description = "GFLOP of one image (ViT-B/16 at 224: 17.56 GMAC). Default: ${DEFAULT-VALUE}.")
    double gflop;

    @Option(names = "--ghz", description = "Core clock for the peak. Default: cpu MHz of /proc/cpuinfo.")
    Double ghz;

    /** A way of running a batch: an engine of vitserve or the peer in one precision. */
    private interface Runner {
        double perSecond(int batchSize, double seconds) throws Exception;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new HardwarePrecisionBenchmark()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        LoadedModel loaded = ModelLoader.load(model, model.toString());
        CpuFeatures cpu = CpuFeatures.detect();
        System.out.printf(Locale.ROOT, "precision at the hardware's pace: %s, %d threads, %d cores, CPU bf16 %s int8 %s%n",
                model, threads, Runtime.getRuntime().availableProcessors(), cpu.bf16Flags(), cpu.int8Flags());
        Map<String, Backend> engines = new LinkedHashMap<>();
        Map<String, Runner> runners = new LinkedHashMap<>();
        Process peerProcess = null;
        try {
            for (String[] engine : new String[][] {{"onnx", "fp32"}, {"onnx", "int8"}, {"djl", "fp32"}, {"djl", "bf16"}}) {
                long start = System.nanoTime();
                Backend backend = BackendRegistry.discover(getClass().getClassLoader()).get(engine[0]).open(
                        loaded.files(), new BackendOptions(DeviceRequest.CPU, threads, Arrays.stream(batches).max()
                                .orElse(1), Precision.parse(engine[1])));
                String name = engine[0] + " " + engine[1];
                engines.put(name, backend);
                runners.put(name, (batch, time) -> engineRate(backend, EngineBenchmark.randomBatch(
                        loaded.files().config(), batch), time));
                System.out.printf(Locale.ROOT, "   %-10s loaded in %.0f ms; %s%n", name, (System.nanoTime() - start) / 1e6,
                        backend.build().operators().isEmpty() ? "float32" : backend.build().operators());
            }
            if (!"none".equals(peer)) {
                peerProcess = new ProcessBuilder(python, peer, "--threads", Integer.toString(threads))
                        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
                BufferedReader answers = new BufferedReader(new InputStreamReader(peerProcess.getInputStream(),
                        StandardCharsets.UTF_8));
                PrintWriter asks = new PrintWriter(peerProcess.getOutputStream(), true, StandardCharsets.UTF_8);
                System.out.println("   peer: " + answers.readLine());
                for (String spec : peerModes) {
                    String mode = spec.split("@")[0];
                    Integer only = spec.contains("@") ? Integer.valueOf(spec.split("@")[1]) : null;
                    runners.put("torch " + mode, (batch, time) -> {
                        if (only != null && only != batch) {
                            return Double.NaN;
                        }
                        asks.printf(Locale.ROOT, "%s %d %.1f%n", mode, batch, time);
                        String answer = answers.readLine();
                        if (answer == null) {
                            throw new IOException("the PyTorch peer ended");
                        }
                        return Double.parseDouble(answer.trim());
                    });
                }
            }
            cosines(loaded, engines);
            Map<String, List<Double>> rates = rounds(runners);
            report(rates, cpu);
        } finally {
            engines.values().forEach(Backend::close);
            if (peerProcess != null) {
                peerProcess.destroy();
            }
        }
        return 0;
    }

    /** The rounds: every runner at every batch size, the order turned by one each round. */
    private Map<String, List<Double>> rounds(Map<String, Runner> runners) throws Exception {
        List<String> names = new ArrayList<>(runners.keySet());
        Map<String, List<Double>> rates = new LinkedHashMap<>();
        StolenTime start = StolenTime.now();
        for (int round = 0; round < rounds; round++) {
            StringBuilder line = new StringBuilder("   round " + (round + 1) + ":");
            for (int batch : batches) {
                for (int i = 0; i < names.size(); i++) {
                    String name = names.get((i + round) % names.size());
                    double rate = runners.get(name).perSecond(batch, seconds);
                    if (Double.isNaN(rate)) {
                        continue;
                    }
                    rates.computeIfAbsent(name + " @" + batch, k -> new ArrayList<>()).add(rate);
                    line.append(String.format(Locale.ROOT, " %s b%d %.2f;", name, batch, rate));
                }
            }
            System.out.println(line);
        }
        System.out.println("   " + StolenTime.label(StolenTime.percentSince(start, StolenTime.now())));
        return rates;
    }

    private void report(Map<String, List<Double>> rates, CpuFeatures cpu) throws IOException {
        double clock = ghz != null ? ghz : cpuGhz();
        int cores = Runtime.getRuntime().availableProcessors();
        // per-core, per-cycle rates assumed: AVX-512 fp32 2 FMA ports x 16 lanes x 2; AMX-BF16 1024 and AMX-INT8 2048
        // operations per cycle (Intel's figures for the TMUL unit); AVX-512 VNNI int8 256, AVX-512 BF16 128
        double fp32Peak = cores * clock * 64;
        double bf16Peak = cores * clock * (cpu.has("amx_bf16") ? 1024 : cpu.has("avx512_bf16") ? 128 : 64);
        double int8Peak = cores * clock * (cpu.has("amx_int8") ? 2048 : cpu.has("avx512_vnni") ? 256 : 64);
        System.out.printf(Locale.ROOT, "%n   peak assumed (%d cores x %.2f GHz): fp32 %.0f GFLOP/s (AVX-512, 64/cycle),"
                        + " bf16 %.0f GFLOP/s (%s), int8 %.0f GOP/s (%s); %.1f GFLOP an image%n", cores, clock, fp32Peak,
                bf16Peak, cpu.has("amx_bf16") ? "AMX, 1024/cycle" : "AVX-512 BF16", int8Peak,
                cpu.has("amx_int8") ? "AMX, 2048/cycle" : "VNNI", gflop);
        System.out.println("   engine        batch   median img/s   x onnx fp32   x own fp32   share of peak");
        for (Map.Entry<String, List<Double>> entry : rates.entrySet()) {
            String[] parts = entry.getKey().split(" @");
            String engine = parts[0];
            String batch = parts[1];
            double median = median(entry.getValue());
            double onnxFp32 = median(rates.getOrDefault("onnx fp32 @" + batch, List.of(Double.NaN)));
            double ownFp32 = median(rates.getOrDefault(engine.split(" ")[0] + " fp32 @" + batch, List.of(Double.NaN)));
            double peak = engine.endsWith("bf16") ? bf16Peak : engine.endsWith("int8") ? int8Peak : fp32Peak;
            System.out.printf(Locale.ROOT, "   %-12s %5s   %12.2f   %11.2f   %10.2f   %12.1f%%%n", engine, batch, median,
                    median / onnxFp32, median / ownFp32, 100 * median * gflop / peak);
        }
    }

    /** The smallest cosine of each engine's logits to its own backend's fp32 logits, over the photos. */
    private void cosines(LoadedModel loaded, Map<String, Backend> engines) throws Exception {
        List<Path> files;
        try (Stream<Path> listed = Files.list(photos)) {
            files = listed.filter(Files::isRegularFile).filter(f -> f.toString().matches(".*\\.(png|jpg)$")).sorted()
                    .toList();
        }
        Preprocessor preprocessor = new Preprocessor(loaded.preprocessing());
        ImageDecoder decoder = new ImageDecoder(Long.MAX_VALUE);
        List<PixelBatch> tensors = new ArrayList<>();
        for (Path file : files) {
            tensors.add(PrecisionBenchmark.preprocessed(decoder, preprocessor, file));
        }
        for (String name : engines.keySet()) {
            if (name.endsWith("fp32")) {
                continue;
            }
            Backend fp32 = engines.get(name.split(" ")[0] + " fp32");
            double smallest = 1;
            for (PixelBatch image : tensors) {
                smallest = Math.min(smallest, Logits.cosineSimilarity(fp32.infer(image).row(0),
                        engines.get(name).infer(image).row(0)));
            }
            System.out.printf(Locale.ROOT, "   %s: smallest logits cosine to fp32 over %d photos %.5f%n", name,
                    tensors.size(), smallest);
        }
    }

    private static double engineRate(Backend engine, PixelBatch batch, double seconds) throws Exception {
        engine.infer(batch);
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        int runs = 0;
        while (System.nanoTime() < end || runs < 2) {
            engine.infer(batch);
            runs++;
        }
        return runs * batch.batchSize() / ((System.nanoTime() - start) / 1e9);
    }

    private static double cpuGhz() throws IOException {
        for (String line : Files.readAllLines(CpuFeatures.CPUINFO)) {
            if (line.startsWith("cpu MHz")) {
                return Double.parseDouble(line.substring(line.indexOf(':') + 1).trim()) / 1000;
            }
        }
        return Double.NaN;
    }

    private static double median(List<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    }
}
