package dev.vitserve.backend.onnx;

import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.DeviceRequest;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.api.VitConfig;
import dev.vitserve.testkit.FixtureModels;
import dev.vitserve.testkit.TestSafetensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/**
 * Compares the network built from model.safetensors with the exported onnx/model.onnx of the same model:
 * load time (median of 3 loads each, after a warm-up load of each) and speed at batch 1 and 4, runs of the
 * two alternating so the noise of a shared machine falls on both. Not a test: run it by hand on a full-size
 * model, from the root:
 * <pre>
 * mvn -q -B -pl backend-onnx -am test-compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
 * java -cp backend-onnx/target/test-classes:backend-onnx/target/classes:$(cat backend-onnx/target/classpath.txt) \
 *     dev.vitserve.backend.onnx.BuiltGraphBenchmark /work/models/vit-base 2 20
 * </pre>
 * (arguments: model folder with config.json, model.safetensors and onnx/model.onnx; intra-op threads; runs at batch 1).
 */
public final class BuiltGraphBenchmark {

    private static final com.sun.management.OperatingSystemMXBean CPU =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();

    private BuiltGraphBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path directory = Path.of(args.length > 0 ? args[0] : "/work/models/vit-base");
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        BackendOptions options = new BackendOptions(DeviceRequest.CPU, threads, 4);
        VitConfig config = FixtureModels.config(directory);
        ModelFiles exported = new ModelFiles("exported", directory, config);
        Path buildOnly = Files.createTempDirectory("vitserve-build-only");
        ModelFiles built = new ModelFiles("built", buildOnly, config,
                Optional.of(TestSafetensors.open(directory.resolve("model.safetensors"))));
        System.out.printf("%s: %d layers, hidden %d, %d threads; exported %s vs built from %s%n", directory,
                config.numLayers(), config.hiddenSize(), threads, directory.resolve("onnx/model.onnx"),
                directory.resolve("model.safetensors"));
        try {
            loads(exported, built, options);
            speed(exported, built, options, config, runs);
        } finally {
            Files.delete(buildOnly);
        }
    }

    private static void loads(ModelFiles exported, ModelFiles built, BackendOptions options) throws BackendException {
        loadMillis(exported, options); // warm-up: loading ONNX Runtime's library, JIT
        loadMillis(built, options);
        long[] exportedMs = new long[3];
        long[] builtMs = new long[3];
        for (int i = 0; i < 3; i++) {
            exportedMs[i] = loadMillis(exported, options);
            builtMs[i] = loadMillis(built, options);
        }
        System.out.printf("load ms: exported %s, built %s; median exported %d, built %d, ratio %.2f%n",
                Arrays.toString(exportedMs), Arrays.toString(builtMs), median(exportedMs), median(builtMs),
                (double) median(builtMs) / median(exportedMs));
    }

    private static long loadMillis(ModelFiles model, BackendOptions options) throws BackendException {
        long start = System.nanoTime();
        Backend backend = new OnnxBackendProvider().open(model, options);
        long millis = (System.nanoTime() - start) / 1_000_000;
        backend.close();
        return millis;
    }

    private static void speed(ModelFiles exported, ModelFiles built, BackendOptions options, VitConfig config, int runs)
            throws BackendException {
        try (Backend fromExport = new OnnxBackendProvider().open(exported, options);
             Backend fromWeights = new OnnxBackendProvider().open(built, options)) {
            for (int batch : new int[] {1, 4}) {
                PixelBatch pixels = FixtureModels.pixels(config, 0, batch);
                int count = batch == 1 ? runs : Math.max(3, runs / 2);
                for (int i = 0; i < 3; i++) {
                    fromExport.infer(pixels);
                    fromWeights.infer(pixels);
                }
                long[][] exportedNs = new long[2][count];
                long[][] builtNs = new long[2][count];
                for (int i = 0; i < count; i++) {
                    time(fromExport, pixels, exportedNs, i);
                    time(fromWeights, pixels, builtNs, i);
                }
                System.out.printf("batch %d, %d runs each (wall ms median / mean / min, process CPU ms median):%n", batch, count);
                report("exported", batch, exportedNs);
                report("built", batch, builtNs);
                System.out.printf("  built/exported: wall median %.3f, mean %.3f, min %.3f; CPU median %.3f%n",
                        (double) median(builtNs[0]) / median(exportedNs[0]), mean(builtNs[0]) / mean(exportedNs[0]),
                        (double) min(builtNs[0]) / min(exportedNs[0]), (double) median(builtNs[1]) / median(exportedNs[1]));
            }
        }
    }

    /** Wall time into {@code nanos[0][i]}, CPU time of the whole process (ONNX Runtime's threads too) into {@code nanos[1][i]}. */
    private static void time(Backend backend, PixelBatch pixels, long[][] nanos, int i) throws BackendException {
        long cpu = CPU.getProcessCpuTime();
        long start = System.nanoTime();
        backend.infer(pixels);
        nanos[0][i] = System.nanoTime() - start;
        nanos[1][i] = CPU.getProcessCpuTime() - cpu;
    }

    private static void report(String what, int batch, long[][] nanos) {
        System.out.printf("  %-8s %7.1f / %7.1f / %7.1f, CPU %7.1f  (%.2f img/s by mean)%n", what, median(nanos[0]) / 1e6,
                mean(nanos[0]) / 1e6, min(nanos[0]) / 1e6, median(nanos[1]) / 1e6, batch * 1e9 / mean(nanos[0]));
    }

    private static long min(long[] values) {
        return Arrays.stream(values).min().orElse(0);
    }

    private static long median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static double mean(long[] values) {
        return Arrays.stream(values).average().orElse(0);
    }
}
