package dev.vitserve.server.bench;

import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.BackendProvider;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.core.TemporaryFolder;
import dev.vitserve.core.model.ModelLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The network a backend builds from model.safetensors against the exported file of the same
 * model (onnx/model.onnx or model.pt), on one backend: load time and speed, measured in turns so
 * that whatever else the machine does weighs on both alike.
 */
final class WeightsBenchmark {

    /** Medians of both, in milliseconds, and images per second at batch 4. */
    record Result(Stats exportedLoad, Stats builtLoad, Stats exportedBatch1, Stats builtBatch1,
                  double exportedBatch4PerSecond, double builtBatch4PerSecond) {
    }

    private WeightsBenchmark() {
    }

    /** A folder beside the model that has only what the Hub has: configs and model.safetensors. */
    private static Path weightsOnly(Path model, Path folder) throws Exception {
        for (String file : List.of("config.json", "preprocessor_config.json", "model.safetensors")) {
            Files.createSymbolicLink(folder.resolve(file), model.toAbsolutePath().resolve(file));
        }
        return folder;
    }

    static Result run(BackendProvider provider, Path model, BackendOptions options, int loads, int runs)
            throws Exception {
        try (TemporaryFolder folder = TemporaryFolder.create("vitserve-weights-only-")) {
            return compare(provider, model, weightsOnly(model, folder.path()), options, loads, runs);
        }
    }

    private static Result compare(BackendProvider provider, Path model, Path weightsOnly, BackendOptions options,
                                  int loads, int runs) throws Exception {
        ModelFiles exported = ModelLoader.load(model, model.toString()).files();
        ModelFiles built = ModelLoader.load(weightsOnly, model.toString()).files();
        List<Double> exportedLoads = new ArrayList<>();
        List<Double> builtLoads = new ArrayList<>();
        provider.open(exported, options).close();
        provider.open(built, options).close();
        for (int i = 0; i < loads; i++) {
            exportedLoads.add(timeLoad(provider, exported, options));
            builtLoads.add(timeLoad(provider, built, options));
        }
        try (Backend a = provider.open(exported, options); Backend b = provider.open(built, options)) {
            PixelBatch one = EngineBenchmark.randomBatch(exported.config(), 1);
            PixelBatch four = EngineBenchmark.randomBatch(exported.config(), 4);
            for (int i = 0; i < 2; i++) {
                a.infer(one);
                b.infer(one);
            }
            List<Double> a1 = new ArrayList<>();
            List<Double> b1 = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                a1.add(time(a, one));
                b1.add(time(b, one));
            }
            double a4 = 0;
            double b4 = 0;
            for (int i = 0; i < Math.max(2, runs / 4); i++) {
                a4 += time(a, four);
                b4 += time(b, four);
            }
            int batches4 = Math.max(2, runs / 4);
            return new Result(Stats.of(exportedLoads), Stats.of(builtLoads), Stats.of(a1), Stats.of(b1),
                    4000.0 * batches4 / a4, 4000.0 * batches4 / b4);
        }
    }

    private static double timeLoad(BackendProvider provider, ModelFiles files, BackendOptions options) throws Exception {
        long t0 = System.nanoTime();
        Backend backend = provider.open(files, options);
        double ms = (System.nanoTime() - t0) / 1e6;
        backend.close();
        return ms;
    }

    private static double time(Backend backend, PixelBatch batch) throws Exception {
        long t0 = System.nanoTime();
        backend.infer(batch);
        return (System.nanoTime() - t0) / 1e6;
    }
}
