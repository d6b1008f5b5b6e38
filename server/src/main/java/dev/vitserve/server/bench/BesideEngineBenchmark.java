package dev.vitserve.server.bench;

import dev.vitserve.api.Backend;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.api.VitConfig;
import dev.vitserve.core.image.ImageDecoder;
import dev.vitserve.core.image.Preprocessor;
import dev.vitserve.core.inference.PreprocessPriority;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;

/**
 * How much decoding and preprocessing an image during an inference slows the engine, with the
 * preprocessing thread at each {@link PreprocessPriority}. The cases take turns inference by
 * inference, so a host whose speed drifts weighs on all of them alike.
 */
final class BesideEngineBenchmark {

    /** The engine's latencies alone and beside preprocessing, and the preprocessing's own wall times. */
    record Result(Stats alone, List<Case> beside) {
    }

    /** The engine beside a preprocessing thread at one priority. */
    record Case(PreprocessPriority priority, Stats engine, Stats preprocessing) {
    }

    private BesideEngineBenchmark() {
    }

    static Result run(Backend backend, VitConfig shape, Preprocessor preprocessor, byte[] jpeg, int inferencesEach,
                      List<PreprocessPriority> priorities) throws Exception {
        PixelBatch batch = EngineBenchmark.randomBatch(shape, 1);
        List<Preparer> preparers = new ArrayList<>();
        try {
            for (PreprocessPriority priority : priorities) {
                preparers.add(new Preparer(priority, preprocessor, jpeg));
            }
            List<Double> alone = new ArrayList<>();
            List<List<Double>> beside = new ArrayList<>();
            preparers.forEach(p -> beside.add(new ArrayList<>()));
            backend.infer(batch);
            int cases = preparers.size() + 1;
            for (int i = 0; i < inferencesEach * cases; i++) {
                int c = (i + i / cases) % cases; // rotate the order every turn
                Preparer preparer = c == 0 ? null : preparers.get(c - 1);
                if (preparer != null) {
                    preparer.startOne();
                }
                long t0 = System.nanoTime();
                backend.infer(batch);
                double ms = (System.nanoTime() - t0) / 1e6;
                if (preparer != null) {
                    preparer.awaitOne();
                }
                (c == 0 ? alone : beside.get(c - 1)).add(ms);
            }
            List<Case> results = new ArrayList<>();
            for (int p = 0; p < preparers.size(); p++) {
                results.add(new Case(priorities.get(p), Stats.of(beside.get(p)), Stats.of(preparers.get(p).wallMs)));
            }
            return new Result(Stats.of(alone), results);
        } finally {
            preparers.forEach(Preparer::stop);
        }
    }

    /** A thread at one priority that decodes and preprocesses the image once per request. */
    private static final class Preparer {
        private final SynchronousQueue<Boolean> requests = new SynchronousQueue<>();
        private final SynchronousQueue<Object> done = new SynchronousQueue<>();
        private final List<Double> wallMs = new ArrayList<>();
        private final Thread thread;

        Preparer(PreprocessPriority priority, Preprocessor preprocessor, byte[] jpeg) throws Exception {
            thread = new Thread(() -> loop(priority, preprocessor, jpeg), "bench-preprocess-" + priority);
            thread.setDaemon(true);
            thread.start();
            Object first = done.take();
            if (first instanceof Exception e) {
                throw e;
            }
        }

        private void loop(PreprocessPriority priority, Preprocessor preprocessor, byte[] jpeg) {
            ImageDecoder decoder = new ImageDecoder(Long.MAX_VALUE);
            FloatBuffer tensor = FloatBuffer.allocate(preprocessor.tensorLength());
            try {
                priority.applyToCurrentThread();
                PreprocessBenchmark.warmUp(decoder, preprocessor, jpeg, tensor);
                done.put("ready");
                while (requests.take()) {
                    long t0 = System.nanoTime();
                    PreprocessBenchmark.prepare(decoder, preprocessor, jpeg, tensor);
                    wallMs.add((System.nanoTime() - t0) / 1e6);
                    done.put("done");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                try {
                    done.put(e);
                } catch (InterruptedException stopped) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        void startOne() throws InterruptedException {
            requests.put(true);
        }

        void awaitOne() throws Exception {
            Object result = done.poll(60, TimeUnit.SECONDS);
            if (result instanceof Exception e) {
                throw e;
            }
            if (result == null) {
                throw new IllegalStateException(thread.getName() + " did not finish an image within 60 s");
            }
        }

        void stop() {
            thread.interrupt();
        }
    }
}
