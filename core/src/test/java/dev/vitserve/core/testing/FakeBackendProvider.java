package dev.vitserve.core.testing;

import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.BackendProvider;
import dev.vitserve.api.Device;
import dev.vitserve.api.DeviceRequest;
import dev.vitserve.api.Logits;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.PixelBatch;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend that lives only in core's tests, registered in their META-INF/services: it proves
 * that a provider from another jar is found on the classpath, and lets HTTP tests run without
 * a real engine. Logit {@code i} is the mean of channel {@code i % 3} times {@code (i + 1)}, so
 * answers depend on the image; tests can slow it down or hold its loading.
 */
public final class FakeBackendProvider implements BackendProvider {

    /** Milliseconds each batch takes (a child JVM sets it with -Dvitserve.fake.delay-ms). */
    public static volatile long inferDelayMs = Long.getLong("vitserve.fake.delay-ms", 0);
    /** When set, {@code open} waits for it: the server stays "loading". */
    public static volatile CountDownLatch openGate;
    /** Batches run so far. */
    public static final AtomicInteger BATCHES = new AtomicInteger();

    @Override
    public String id() {
        return "fake";
    }

    @Override
    public Backend open(ModelFiles model, BackendOptions options) throws BackendException {
        CountDownLatch gate = openGate;
        if (gate != null) {
            try {
                gate.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (options.device().kind() == DeviceRequest.Kind.GPU) {
            throw new BackendException("the fake backend has no GPU");
        }
        return new FakeBackend(model.config().numLabels(), model.directory().resolve("config.json"));
    }

    private static final class FakeBackend implements Backend {
        private final int numLabels;
        private final Path weights;

        FakeBackend(int numLabels, Path weights) {
            this.numLabels = numLabels;
            this.weights = weights;
        }

        @Override
        public Logits infer(PixelBatch batch) {
            BATCHES.incrementAndGet();
            if (inferDelayMs > 0) {
                try {
                    Thread.sleep(inferDelayMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            FloatBuffer pixels = batch.pixels();
            int plane = batch.height() * batch.width();
            float[] out = new float[batch.batchSize() * numLabels];
            for (int n = 0; n < batch.batchSize(); n++) {
                double[] means = new double[batch.channels()];
                for (int c = 0; c < batch.channels(); c++) {
                    int base = pixels.position() + (n * batch.channels() + c) * plane;
                    double sum = 0;
                    for (int i = 0; i < plane; i++) {
                        sum += pixels.get(base + i);
                    }
                    means[c] = sum / plane;
                }
                for (int i = 0; i < numLabels; i++) {
                    out[n * numLabels + i] = (float) (means[i % batch.channels()] * (i + 1));
                }
            }
            return new Logits(out, batch.batchSize(), numLabels);
        }

        @Override
        public Device device() {
            return Device.cpu("fake, for tests");
        }

        @Override
        public Path weightsFile() {
            return weights;
        }

        @Override
        public String engine() {
            return "fake engine";
        }

        @Override
        public void close() {
        }
    }
}
