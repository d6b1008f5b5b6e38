package dev.vitserve.server.bench;

import dev.vitserve.api.Backend;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.api.VitConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** The backend alone, without HTTP or preprocessing: latency and throughput per batch size. */
final class EngineBenchmark {

    /** Figures for one batch size. */
    record Result(int batchSize, Stats latency, double imagesPerSecond) {
    }

    private EngineBenchmark() {
    }

    /**
     * Measures every batch size in turns, {@code rounds} times, so that slow phases of a shared
     * machine weigh on all sizes alike.
     */
    static List<Result> run(Backend backend, VitConfig shape, int[] batchSizes, double secondsEach) throws Exception {
        int rounds = 3;
        List<PixelBatch> batches = new ArrayList<>();
        List<List<Double>> latencies = new ArrayList<>();
        double[] busySeconds = new double[batchSizes.length];
        for (int batchSize : batchSizes) {
            PixelBatch batch = randomBatch(shape, batchSize);
            for (int i = 0; i < 2; i++) {
                backend.infer(batch);
            }
            batches.add(batch);
            latencies.add(new ArrayList<>());
        }
        for (int round = 0; round < rounds; round++) {
            for (int b = 0; b < batchSizes.length; b++) {
                long end = System.nanoTime() + (long) (secondsEach / rounds * 1e9);
                int runs = 0;
                while (System.nanoTime() < end || runs < 2) {
                    long t0 = System.nanoTime();
                    backend.infer(batches.get(b));
                    double ms = (System.nanoTime() - t0) / 1e6;
                    latencies.get(b).add(ms);
                    busySeconds[b] += ms / 1000;
                    runs++;
                }
            }
        }
        List<Result> results = new ArrayList<>();
        for (int b = 0; b < batchSizes.length; b++) {
            results.add(new Result(batchSizes[b], Stats.of(latencies.get(b)),
                    latencies.get(b).size() * batchSizes[b] / busySeconds[b]));
        }
        return results;
    }

    static PixelBatch randomBatch(VitConfig shape, int batchSize) {
        int count = batchSize * shape.numChannels() * shape.imageHeight() * shape.imageWidth();
        FloatBuffer pixels = ByteBuffer.allocateDirect(count * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        Random random = new Random(42);
        for (int i = 0; i < count; i++) {
            pixels.put(random.nextFloat() * 2 - 1);
        }
        pixels.flip();
        return new PixelBatch(pixels, batchSize, shape.numChannels(), shape.imageHeight(), shape.imageWidth());
    }
}
