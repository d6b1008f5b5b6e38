package dev.vitserve.backend.djl;

import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.DeviceRequest;
import dev.vitserve.api.Logits;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.api.Precision;
import dev.vitserve.api.VitConfig;
import dev.vitserve.testkit.FixtureModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/**
 * By hand, not a test: the ViT built from model.safetensors in float32 and in bfloat16 on DJL's libtorch, batch-1
 * latency and batch-4 time in alternating rounds (a shared machine's load falls on both), and the cosine of the
 * bfloat16 logits and embeddings to float32's. Arguments: the model folder, [rounds, 5], [intra-op threads, 2].
 */
public final class Bf16SpeedCheck {

    private Bf16SpeedCheck() {
    }

    public static void main(String[] args) throws BackendException, IOException {
        Path folder = Paths.get(args[0]);
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        VitConfig config = FixtureModels.config(folder);
        Path empty = Files.createTempDirectory("vitserve-bf16");
        ModelFiles files = FixtureModels.withWeights(folder.getFileName().toString(), empty, config,
                folder.resolve("model.safetensors"));
        PixelBatch one = FixtureModels.pixels(config, 0, 1);
        PixelBatch four = FixtureModels.pixels(config, 0, 4);
        List<Precision> precisions = List.of(Precision.FP32, Precision.BF16);
        List<Backend> backends = new ArrayList<>();
        try {
            for (Precision precision : precisions) {
                long start = System.nanoTime();
                backends.add(new DjlBackendProvider().open(files, new BackendOptions(DeviceRequest.CPU, threads, 8,
                        precision)));
                System.out.printf("%s: open %.0f ms; %s%n", precision.id(), (System.nanoTime() - start) / 1e6,
                        backends.get(backends.size() - 1).build());
            }
            Logits fp32 = backends.get(0).infer(four);
            Logits bf16 = backends.get(1).infer(four);
            for (int i = 0; i < 4; i++) {
                System.out.printf("image %d: logits cosine %.6f, embedding cosine %.6f%n", i,
                        Logits.cosineSimilarity(fp32.row(i), bf16.row(i)),
                        Logits.cosineSimilarity(fp32.embedding(i), bf16.embedding(i)));
            }
            for (Backend backend : backends) {
                backend.infer(one);
            }
            double[][] single = new double[2][rounds];
            double[][] singleCpu = new double[2][rounds];
            double[][] batchCpu = new double[2][rounds];
            double[][] batch = new double[2][rounds];
            for (int round = 0; round < rounds; round++) {
                StringBuilder line = new StringBuilder("round " + round + ":");
                for (int p = 0; p < 2; p++) {
                    long cpu = cpuNanos();
                    long start = System.nanoTime();
                    backends.get(p).infer(one);
                    single[p][round] = (System.nanoTime() - start) / 1e6;
                    singleCpu[p][round] = (cpuNanos() - cpu) / 1e6;
                    cpu = cpuNanos();
                    start = System.nanoTime();
                    backends.get(p).infer(four);
                    batch[p][round] = (System.nanoTime() - start) / 1e6;
                    batchCpu[p][round] = (cpuNanos() - cpu) / 1e6;
                    line.append(String.format(" %s b1 %.0f ms (cpu %.0f), b4 %.0f ms (cpu %.0f);", precisions.get(p).id(),
                            single[p][round], singleCpu[p][round], batch[p][round], batchCpu[p][round]));
                }
                System.out.println(line);
            }
            for (int p = 0; p < 2; p++) {
                System.out.printf("%s: batch 1 median %.0f ms (cpu %.0f ms); batch 4 median %.0f ms (cpu %.0f ms, %.2f"
                        + " img/s)%n", precisions.get(p).id(), median(single[p]), median(singleCpu[p]), median(batch[p]),
                        median(batchCpu[p]), 4000 / median(batch[p]));
            }
            System.out.printf("bf16 vs fp32 speed-up: batch 1 %.2fx (cpu time %.2fx), batch 4 %.2fx (cpu time %.2fx)%n",
                    median(single[0]) / median(single[1]), median(singleCpu[0]) / median(singleCpu[1]),
                    median(batch[0]) / median(batch[1]), median(batchCpu[0]) / median(batchCpu[1]));
        } finally {
            backends.forEach(Backend::close);
            Files.delete(empty);
        }
    }

    /** CPU time of the whole process (libtorch's threads included): a busy machine inflates it less than wall time. */
    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
