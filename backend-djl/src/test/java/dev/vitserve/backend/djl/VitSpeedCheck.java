package dev.vitserve.backend.djl;

import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.DeviceRequest;
import dev.vitserve.api.Logits;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.api.VitConfig;
import dev.vitserve.testkit.FixtureModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/**
 * By hand, not a test: load time, batch-1 latency and batch-4 throughput of the ViT built from model.safetensors and,
 * when the folder has one, of its TorchScript model.pt, measured in alternation so that a shared machine's load falls
 * on both alike; then native memory (RSS) over many calls of the built network.
 * Arguments: the model folder, [rounds, default 5], [intra-op threads, default 2], [calls for the memory check, 200].
 */
public final class VitSpeedCheck {

    private VitSpeedCheck() {
    }

    public static void main(String[] args) throws BackendException, IOException {
        Path folder = Paths.get(args[0]);
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int memoryCalls = args.length > 3 ? Integer.parseInt(args[3]) : 200;
        VitConfig config = FixtureModels.config(folder);
        BackendOptions options = new BackendOptions(DeviceRequest.CPU, threads, 8);
        Path withoutTorchScript = Files.createTempDirectory("vitserve-speed");
        ModelFiles builtFiles = FixtureModels.withWeights(folder.getFileName().toString(), withoutTorchScript, config,
                folder.resolve("model.safetensors"));
        PixelBatch one = FixtureModels.pixels(config, 0, 1);
        PixelBatch four = FixtureModels.pixels(config, 0, 4);
        long engineStart = System.nanoTime();
        PyTorchRuntime.start(threads);
        System.out.printf("PyTorch engine started in %.0f ms; RSS before loading: %d MB%n", millisSince(engineStart),
                rssMegabytes());

        List<Runner> runners = new ArrayList<>();
        long start = System.nanoTime();
        runners.add(new Runner("built", new DjlBackendProvider().open(builtFiles, options)));
        System.out.printf("built: open (read and check the tensors, copy them, run one blank image) %.0f ms, RSS %d MB (%s)%n",
                millisSince(start), rssMegabytes(), rssDetail());
        if (Files.isRegularFile(folder.resolve("model.pt"))) {
            start = System.nanoTime();
            runners.add(new Runner("TorchScript", new DjlBackendProvider().open(new ModelFiles("ts", folder, config), options)));
            System.out.printf("TorchScript: open (load, run one blank image) %.0f ms, RSS %d MB (%s)%n", millisSince(start), rssMegabytes(), rssDetail());
        }
        try {
            for (Runner runner : runners) {
                runner.backend.infer(one);
                runner.backend.infer(four);
            }
            for (int round = 0; round < rounds; round++) {
                StringBuilder line = new StringBuilder("round " + round + ":");
                for (Runner runner : runners) {
                    line.append(runner.round(one, four));
                }
                System.out.println(line);
            }
            for (Runner runner : runners) {
                System.out.printf("%s: batch 1 best %.0f ms, median %.0f ms; batch 4 best %.2f img/s, median %.2f img/s%n",
                        runner.name, min(runner.single), median(runner.single), 4000 / min(runner.batch),
                        4000 / median(runner.batch));
            }
            if (runners.size() == 2) {
                Logits built = runners.get(0).backend.infer(four);
                Logits torchScript = runners.get(1).backend.infer(four);
                double max = 0;
                for (int i = 0; i < built.values().length; i++) {
                    max = Math.max(max, Math.abs(built.values()[i] - torchScript.values()[i]));
                }
                System.out.printf("max |built - TorchScript| over 4 images x %d logits: %.3g%n", config.numLabels(), max);
            }
            memory(runners.get(0).backend, one, memoryCalls);
        } finally {
            runners.forEach(runner -> runner.backend.close());
        }
    }

    /** One backend and its timings. */
    private static final class Runner {

        final String name;
        final Backend backend;
        final List<Double> single = new ArrayList<>();
        final List<Double> batch = new ArrayList<>();

        Runner(String name, Backend backend) {
            this.name = name;
            this.backend = backend;
        }

        String round(PixelBatch one, PixelBatch four) throws BackendException {
            long cpu = processCpuNanos();
            long start = System.nanoTime();
            backend.infer(one);
            double latency = millisSince(start);
            double latencyCpu = (processCpuNanos() - cpu) / 1e6;
            cpu = processCpuNanos();
            start = System.nanoTime();
            backend.infer(four);
            double batchTime = millisSince(start);
            double batchCpu = (processCpuNanos() - cpu) / 1e6;
            single.add(latency);
            batch.add(batchTime);
            return String.format(" %s b1 %.0f ms (cpu %.0f), b4 %.0f ms (cpu %.0f);", name, latency, latencyCpu, batchTime,
                    batchCpu);
        }
    }

    private static void memory(Backend backend, PixelBatch one, int calls) throws BackendException, IOException {
        StringBuilder samples = new StringBuilder();
        for (int i = 1; i <= calls; i++) {
            backend.infer(one);
            if (i % Math.max(1, calls / 5) == 0) {
                samples.append(' ').append(i).append(':').append(rssMegabytes());
            }
        }
        System.out.println("built: RSS (MB) after calls" + samples + "; at the end " + rssDetail());
    }

    /** CPU time of the whole process: on a busy machine it inflates less than wall time. */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static double min(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    private static double median(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).sorted().skip(values.size() / 2).findFirst().orElse(Double.NaN);
    }

    private static double millisSince(long start) {
        return (System.nanoTime() - start) / 1e6;
    }

    private static long rssMegabytes() throws IOException {
        for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
            }
        }
        return -1;
    }

    /** Anonymous (heap, libtorch) and file-backed (mapped weights) resident memory, from /proc/self/status. */
    private static String rssDetail() throws IOException {
        StringBuilder detail = new StringBuilder();
        for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
            if (line.startsWith("RssAnon:") || line.startsWith("RssFile:")) {
                detail.append(' ').append(line.substring(0, line.indexOf(':'))).append(' ')
                        .append(Long.parseLong(line.replaceAll("\\D", "")) / 1024).append(" MB");
            }
        }
        return detail.toString().trim();
    }
}
