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

    static List<Result> run(Backend backend, VitConfig shape, int[] batchSizes, double secondsEach) throws Exception {
        List<Result> results = new ArrayList<>();
        for (int batchSize : batchSizes) {
            PixelBatch batch = randomBatch(shape, batchSize);
            for (int i = 0; i < 2; i++) {
                backend.infer(batch);
            }
            List<Double> latencies = new ArrayList<>();
            long start = System.nanoTime();
            long end = start + (long) (secondsEach * 1e9);
            while (System.nanoTime() < end || latencies.size() < 5) {
                long t0 = System.nanoTime();
                backend.infer(batch);
                latencies.add((System.nanoTime() - t0) / 1e6);
            }
            double elapsed = (System.nanoTime() - start) / 1e9;
            results.add(new Result(batchSize, Stats.of(latencies), latencies.size() * batchSize / elapsed));
        }
        return results;
    }

    private static PixelBatch randomBatch(VitConfig shape, int batchSize) {
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
