package dev.vitserve.server.bench;

import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.BackendProvider;
import dev.vitserve.api.DeviceRequest;
import dev.vitserve.api.Logits;
import dev.vitserve.api.NetworkBuild;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.api.Precision;
import dev.vitserve.api.VitConfig;
import dev.vitserve.core.image.DecodedImage;
import dev.vitserve.core.image.ImageDecoder;
import dev.vitserve.core.image.Preprocessor;
import dev.vitserve.core.model.LoadedModel;
import dev.vitserve.core.model.ModelLoader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * fp32 against int8 on one backend: load times, then the engine alone at each batch size in alternating rounds
 * (fp32 then int8, int8 then fp32 in the next round), so that a drifting host weighs on both alike and each round
 * gives a ratio of measurements seconds apart; and the answers on a trained model: accuracy of both and top-1
 * agreement on its labelled validation images ({@code <index>_<label>.png}).
 */
final class PrecisionBenchmark {

    /** One round at one batch size: images per second of each precision. */
    record Round(int batchSize, double fp32PerSecond, double int8PerSecond) {

        double ratio() {
            return int8PerSecond / fp32PerSecond;
        }
    }

    /** Accuracy in percent of both precisions and their top-1 agreement, on {@code images} images. */
    record Accuracy(int images, double fp32, double int8, double agreement) {
    }

    /** The two engines, loaded side by side. */
    record Engines(Backend fp32, Backend int8, double fp32LoadMs, double int8LoadMs) implements AutoCloseable {

        @Override
        public void close() {
            fp32.close();
            int8.close();
        }
    }

    /** The figures the ratios section repeats. */
    record Summary(double medianRatioAtDefaultBatch, double medianFp32AtDefaultBatch, Accuracy accuracy) {
    }

    /** The CPU's default largest batch ({@code --max-batch}), where the int8 goal is set. */
    static final int DEFAULT_CPU_BATCH = 2;

    private PrecisionBenchmark() {
    }

    /**
     * Measures and prints part 1c: loads, the rounds at the CPU default batch and at batch 1, the cosine of the
     * logits on the benchmark's photos, and the trained model's accuracy in both precisions when it is there.
     */
    static Summary run(BackendProvider provider, LoadedModel model, int threads, int rounds, double secondsEach,
                       List<Path> photos, Path trainedModel) throws Exception {
        System.out.printf(Locale.ROOT, "1c. fp32 against int8 (%s, the engine alone, %d alternating rounds of %.0f s per"
                + " precision and batch size)%n", provider.id(), rounds, secondsEach);
        List<Round> done;
        double cosine;
        StolenTime start = StolenTime.now();
        try (Engines engines = open(provider, model, threads, DEFAULT_CPU_BATCH)) {
            NetworkBuild int8 = engines.int8().build();
            System.out.printf(Locale.ROOT, "   load: fp32 %.0f ms (%s), int8 %.0f ms (%s), of which quantizing %d ms%n",
                    engines.fp32LoadMs(), engines.fp32().weightsFile().getFileName(), engines.int8LoadMs(),
                    engines.int8().weightsFile().getFileName(), int8.quantizeMillis());
            System.out.println("   int8: " + int8.quantizedLayers() + "; " + int8.operators());
            done = speed(engines, model.files().config(), new int[] {DEFAULT_CPU_BATCH, 1}, rounds, secondsEach);
            Preprocessor preprocessor = new Preprocessor(model.preprocessing());
            ImageDecoder decoder = new ImageDecoder(Long.MAX_VALUE);
            List<PixelBatch> tensors = new ArrayList<>();
            for (Path photo : photos) {
                tensors.add(preprocessed(decoder, preprocessor, photo));
            }
            cosine = smallestCosine(engines, tensors);
        }
        System.out.println("   round   batch   fp32 images/s   int8 images/s   int8/fp32");
        for (int i = 0; i < done.size(); i++) {
            Round r = done.get(i);
            System.out.printf(Locale.ROOT, "   %5d   %5d   %13.2f   %13.2f   %9.2f%n", i / 2 + 1, r.batchSize(),
                    r.fp32PerSecond(), r.int8PerSecond(), r.ratio());
        }
        double ratio2 = median(done, DEFAULT_CPU_BATCH, Round::ratio);
        double fp32At2 = median(done, DEFAULT_CPU_BATCH, Round::fp32PerSecond);
        System.out.printf(Locale.ROOT, "   median int8/fp32: batch %d (CPU default) %.2f (goal >= 2.5), batch 1 %.2f;"
                        + " medians fp32 %.2f and int8 %.2f images/s at batch %d; %s%n", DEFAULT_CPU_BATCH, ratio2,
                median(done, 1, Round::ratio), fp32At2, median(done, DEFAULT_CPU_BATCH, Round::int8PerSecond),
                DEFAULT_CPU_BATCH, StolenTime.label(StolenTime.percentSince(start, StolenTime.now())));
        System.out.printf(Locale.ROOT, "   logits on the %d benchmark photos: smallest cosine similarity int8/fp32 %.5f%n",
                photos.size(), cosine);
        Accuracy accuracy = null;
        if (Files.isDirectory(trainedModel.resolve("val-images"))) {
            accuracy = accuracy(provider, trainedModel, threads);
            System.out.printf(Locale.ROOT, "   trained model %s, %d validation images: accuracy fp32 %.2f%%, int8 %.2f%%"
                            + " (goal: within 0.5 points), top-1 agreement %.2f%% (goal >= 99%%)%n", trainedModel,
                    accuracy.images(), accuracy.fp32(), accuracy.int8(), accuracy.agreement());
        } else {
            System.out.println("   (no trained model with val-images/ at " + trainedModel + ": accuracy not measured)");
        }
        System.out.println();
        return new Summary(ratio2, fp32At2, accuracy);
    }

    private static double median(List<Round> rounds, int batchSize, java.util.function.ToDoubleFunction<Round> figure) {
        double[] values = rounds.stream().filter(r -> r.batchSize() == batchSize).mapToDouble(figure).sorted().toArray();
        return values.length % 2 == 1 ? values[values.length / 2]
                : (values[values.length / 2 - 1] + values[values.length / 2]) / 2;
    }

    static Engines open(BackendProvider provider, LoadedModel model, int threads, int maxBatch) throws Exception {
        long t0 = System.nanoTime();
        Backend fp32 = provider.open(model.files(), new BackendOptions(DeviceRequest.CPU, threads, maxBatch, Precision.FP32));
        long t1 = System.nanoTime();
        try {
            Backend int8 = provider.open(model.files(), new BackendOptions(DeviceRequest.CPU, threads, maxBatch, Precision.INT8));
            return new Engines(fp32, int8, (t1 - t0) / 1e6, (System.nanoTime() - t1) / 1e6);
        } catch (Exception | Error e) {
            fp32.close();
            throw e;
        }
    }

    /** {@code rounds} rounds; in each, every batch size with both precisions for {@code secondsEach} each. */
    static List<Round> speed(Engines engines, VitConfig shape, int[] batchSizes, int rounds, double secondsEach)
            throws Exception {
        List<Round> done = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            for (int batchSize : batchSizes) {
                PixelBatch batch = EngineBenchmark.randomBatch(shape, batchSize);
                if (round == 0) {
                    for (int i = 0; i < 2; i++) {
                        engines.fp32().infer(batch);
                        engines.int8().infer(batch);
                    }
                }
                boolean fp32First = round % 2 == 0;
                double first = perSecond(fp32First ? engines.fp32() : engines.int8(), batch, secondsEach);
                double second = perSecond(fp32First ? engines.int8() : engines.fp32(), batch, secondsEach);
                done.add(new Round(batchSize, fp32First ? first : second, fp32First ? second : first));
            }
        }
        return done;
    }

    private static double perSecond(Backend engine, PixelBatch batch, double seconds) throws Exception {
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        int runs = 0;
        while (System.nanoTime() < end || runs < 2) {
            engine.infer(batch);
            runs++;
        }
        return runs * batch.batchSize() / ((System.nanoTime() - start) / 1e9);
    }

    /** The smallest cosine similarity of int8 to fp32 logits over the given preprocessed images. */
    static double smallestCosine(Engines engines, List<PixelBatch> images) throws Exception {
        double smallest = 1;
        for (PixelBatch image : images) {
            smallest = Math.min(smallest, Logits.cosineSimilarity(engines.fp32().infer(image).row(0), engines.int8().infer(image).row(0)));
        }
        return smallest;
    }

    /**
     * Both precisions on a trained model's validation images, decoded and preprocessed as the server does, one
     * image a batch.
     */
    static Accuracy accuracy(BackendProvider provider, Path trainedModel, int threads) throws Exception {
        LoadedModel model = ModelLoader.load(trainedModel, trainedModel.toString());
        List<Path> files;
        try (Stream<Path> listed = Files.list(trainedModel.resolve("val-images"))) {
            files = listed.filter(file -> file.getFileName().toString().endsWith(".png")).sorted().toList();
        }
        Preprocessor preprocessor = new Preprocessor(model.preprocessing());
        ImageDecoder decoder = new ImageDecoder(Long.MAX_VALUE);
        int fp32Right = 0;
        int int8Right = 0;
        int agreeing = 0;
        try (Engines engines = open(provider, model, threads, 1)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                String label = name.substring(name.indexOf('_') + 1, name.length() - ".png".length());
                PixelBatch pixels = preprocessed(decoder, preprocessor, file);
                String fp32 = model.labels().get(best(engines.fp32().infer(pixels)));
                String int8 = model.labels().get(best(engines.int8().infer(pixels)));
                fp32Right += fp32.equals(label) ? 1 : 0;
                int8Right += int8.equals(label) ? 1 : 0;
                agreeing += fp32.equals(int8) ? 1 : 0;
            }
        }
        int n = files.size();
        return new Accuracy(n, 100.0 * fp32Right / n, 100.0 * int8Right / n, 100.0 * agreeing / n);
    }

    /** One image as the server's pipeline makes its tensor. */
    static PixelBatch preprocessed(ImageDecoder decoder, Preprocessor preprocessor, Path file) throws Exception {
        FloatBuffer tensor = ByteBuffer.allocateDirect(preprocessor.tensorLength() * Float.BYTES)
                .order(ByteOrder.nativeOrder()).asFloatBuffer();
        try (DecodedImage image = decoder.decodeForPreprocessing(Files.readAllBytes(file))) {
            preprocessor.writeTensor(image, tensor);
        }
        return new PixelBatch(tensor.flip(), 1, 3, preprocessor.height(), preprocessor.width());
    }

    private static int best(Logits logits) {
        float[] row = logits.row(0);
        int best = 0;
        for (int i = 1; i < row.length; i++) {
            if (row[i] > row[best]) {
                best = i;
            }
        }
        return best;
    }
}
