package dev.vitserve.server.bench;

import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.BackendProvider;
import dev.vitserve.api.DeviceRequest;
import dev.vitserve.api.Precision;
import dev.vitserve.core.TemporaryFolder;
import dev.vitserve.core.image.Preprocessor;
import dev.vitserve.core.inference.PreprocessPriority;
import dev.vitserve.core.model.BackendRegistry;
import dev.vitserve.core.model.LoadedModel;
import dev.vitserve.core.model.ModelLoader;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * One command that measures vitserve on a model and prints, in one run: the engine alone per
 * batch size; decoding and preprocessing per image kind next to Pillow; the server over HTTP
 * under 1, 4 and 16 clients; the ratios the performance goals are stated in; and, on request,
 * a soak run with the server's resident memory over time.
 */
@Command(name = "vitserve-benchmark", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Measures vitserve on a model: engine, preprocessing (and Pillow), HTTP end to end, soak.")
public final class Benchmark implements Callable<Integer> {

    /** The parts that can be run. */
    enum Part { ENGINE, WEIGHTS, PRECISION, PREPROCESS, BESIDE, HTTP, SOAK, ZERO_SHOT, EXPLAIN }

    /** Part names as written on the command line: {@code zero-shot} for {@link Part#ZERO_SHOT}. */
    static final class PartConverter implements CommandLine.ITypeConverter<Part> {
        @Override
        public Part convert(String value) {
            return Part.valueOf(value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        }
    }

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model folder to measure.")
    Path model;

    @Option(names = "--backend", defaultValue = "onnx", description = "Backend id. Default: ${DEFAULT-VALUE}.")
    String backend;

    @Option(names = "--threads", description = "Engine intra-op threads. Default: the number of cores.")
    Integer threads;

    @Option(names = "--photo", defaultValue = "testkit/fixtures/images/coffee.jpg", paramLabel = "FILE",
            description = "Photo the test images are made from. Default: ${DEFAULT-VALUE}.")
    Path photo;

    @Option(names = "--parts", split = ",", defaultValue = "engine,precision,preprocess,beside,http",
            converter = PartConverter.class,
            description = "Parts to run: engine, weights (network built from model.safetensors against the exported "
                    + "file), precision (fp32 against int8 in alternating rounds, and their accuracy on a trained model), "
                    + "preprocess, beside (the engine slowed by preprocessing beside it, per thread priority), "
                    + "http, soak, zero-shot (a CLIP model against a ViT of its image tower, see --zero-shot-models), "
                    + "explain (attention rollout against classify in alternating rounds, then occlusion). "
                    + "Default: ${DEFAULT-VALUE}.")
    Set<Part> parts = EnumSet.noneOf(Part.class);

    @Option(names = "--batches", split = ",", defaultValue = "1,2,4,8", description = "Engine batch sizes.")
    int[] batches;

    @Option(names = "--clients", split = ",", defaultValue = "1,4,16", description = "Concurrent HTTP clients.")
    int[] clients;

    @Option(names = "--seconds", defaultValue = "15",
            description = "Measuring time of each HTTP step, and of each round of the steps in rounds, after a warm-up.")
    double seconds;

    @Option(names = "--warmup-seconds", defaultValue = "30",
            description = "Load before the first HTTP step, so that it measures a warm server: the JIT goes on compiling "
                    + "the HTTP path for about a minute, taking CPU from the engine. Later steps get 3 s. "
                    + "Default: ${DEFAULT-VALUE}.")
    double warmupSeconds;

    @Option(names = "--rounds", defaultValue = "3",
            description = "Rounds of the 600x400 steps at 1 and 4 clients, each between two measurements of the "
                    + "engine alone (half of --engine-seconds each): a shared machine's speed drifts within minutes, and "
                    + "a ratio of measurements seconds apart stays comparable. The ratios are the medians over rounds. "
                    + "Default: ${DEFAULT-VALUE}.")
    int rounds;

    @Option(names = "--precision-rounds", defaultValue = "5",
            description = "Rounds of the precision part: in each, fp32 and int8 in turns at the CPU's default batch (2)"
                    + " and at batch 1. Default: ${DEFAULT-VALUE}.")
    int precisionRounds;

    @Option(names = "--precision-seconds", defaultValue = "6",
            description = "Measuring time of each precision and batch size in each round. Default: ${DEFAULT-VALUE}.")
    double precisionSeconds;

    @Option(names = "--trained-model", defaultValue = "testkit/fixtures/digits-vit", paramLabel = "DIR",
            description = "A really trained model with labelled validation images (val-images/<index>_<label>.png), "
                    + "whose accuracy the precision part measures in fp32 and int8. Default: ${DEFAULT-VALUE}.")
    Path trainedModel;

    @Option(names = "--zero-shot-models", defaultValue = "/tmp/vitserve-zero-shot-bench", paramLabel = "DIR",
            description = "Folder with clip/ (a CLIPModel) and vit/ (a ViTForImageClassification of the same image "
                    + "network) for the zero-shot part, as testkit/tools/zero-shot-bench-models.py makes them. "
                    + "Default: ${DEFAULT-VALUE}.")
    Path zeroShotModels;

    @Option(names = "--zero-shot-rounds", defaultValue = "3",
            description = "Rounds of the zero-shot part (classify, cached labels, new labels in turns). Default: ${DEFAULT-VALUE}.")
    int zeroShotRounds;

    @Option(names = "--zero-shot-seconds", defaultValue = "8",
            description = "Measuring time of each case in each zero-shot round. Default: ${DEFAULT-VALUE}.")
    double zeroShotSeconds;

    @Option(names = "--explain-rounds", defaultValue = "5",
            description = "Rounds of the explain part over HTTP (classify and rollout in turns; 0: the engine pairs only)."
                    + " Default: ${DEFAULT-VALUE}.")
    int explainRounds;

    @Option(names = "--explain-pairs", defaultValue = "30",
            description = "Engine runs with and without the rollout, in turns, in the explain part. Default: ${DEFAULT-VALUE}.")
    int explainPairs;

    @Option(names = "--explain-seconds", defaultValue = "8",
            description = "Measuring time of each case in each explain round. Default: ${DEFAULT-VALUE}.")
    double explainSeconds;

    @Option(names = "--beside-inferences", defaultValue = "60",
            description = "Inferences of each case of the beside part. Default: ${DEFAULT-VALUE}.")
    int besideInferences;

    @Option(names = "--engine-seconds", defaultValue = "8", description = "Measuring time of each engine batch size.")
    double engineSeconds;

    /** Where the HTTP part's load comes from. */
    enum LoadGenerator { auto, java, wrk }

    @Option(names = "--load-generator", defaultValue = "auto", paramLabel = "auto|java|wrk",
            description = "HTTP load for part 3: Debian's wrk, a C load generator that takes little from the server's "
                    + "cores, or a Java client on Vert.x (counts answers inside the window, checks every status; "
                    + "about 2 ms more per request at 1 client here); auto takes wrk when installed. The soak always "
                    + "uses the Java client. Default: ${DEFAULT-VALUE}.")
    LoadGenerator loadGenerator;

    @Option(names = "--soak-clients", defaultValue = "4", description = "Clients of the soak run.")
    int soakClients;

    @Option(names = "--soak-seconds", defaultValue = "600", description = "Length of the soak run.")
    int soakSeconds;

    @Option(names = "--server-arg", paramLabel = "ARG", description = "Extra argument for the server (repeatable).")
    List<String> serverArgs = new ArrayList<>();

    private final Map<String, Double> figures = new LinkedHashMap<>();
    /** The engine's best batch size in part 1. */
    private int bestBatch = 1;
    /** The highest share of CPU time the host took in any part or step, in percent. */
    private double worstSteal = Double.NaN;

    public static void main(String[] args) {
        System.exit(new CommandLine(new Benchmark()).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (rounds < 1) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--rounds must be at least 1, got " + rounds);
        }
        LoadedModel loaded = ModelLoader.load(model, model.toString());
        int engineThreads = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        System.out.printf(Locale.ROOT, "vitserve benchmark: model %s (%dx%d, %d labels), backend %s, %d engine threads,"
                        + " Java %s, %d cores%n%n", model, loaded.preprocessing().width(), loaded.preprocessing().height(),
                loaded.labels().size(), backend, engineThreads, System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors());
        try (TemporaryFolder folder = TemporaryFolder.create("vitserve-bench-")) {
            measure(loaded, engineThreads, BenchImages.make(photo, folder.path()));
        }
        ratios();
        return 0;
    }

    private void measure(LoadedModel loaded, int engineThreads, Map<String, Path> images) throws Exception {
        Backend engine = null;
        try {
            if (parts.contains(Part.ENGINE) || parts.contains(Part.BESIDE) || parts.contains(Part.EXPLAIN)) {
                engine = BackendRegistry.discover(Benchmark.class.getClassLoader()).get(backend).open(loaded.files(),
                        new BackendOptions(DeviceRequest.CPU, engineThreads, java.util.Arrays.stream(batches).max().orElse(1)));
            }
            if (parts.contains(Part.ENGINE)) {
                engine(engine, loaded);
            }
            if (parts.contains(Part.WEIGHTS)) {
                weights(engineThreads);
            }
            if (parts.contains(Part.PRECISION)) {
                precision(loaded, engineThreads, images);
            }
            if (parts.contains(Part.PREPROCESS)) {
                preprocess(loaded, images);
            }
            if (parts.contains(Part.BESIDE)) {
                beside(engine, loaded, images);
            }
            if (parts.contains(Part.ZERO_SHOT)) {
                zeroShot(engineThreads, images.get("600x400 JPEG"));
            }
            if (parts.contains(Part.EXPLAIN)) {
                explain(engineThreads, images.get("600x400 JPEG"), engine, loaded);
            }
            if (parts.contains(Part.HTTP) || parts.contains(Part.SOAK)) {
                List<String> args = new ArrayList<>(List.of("--model", model.toString(), "--backend", backend,
                        "--threads", String.valueOf(engineThreads), "--device", "cpu"));
                args.addAll(serverArgs);
                try (ServerUnderTest server = ServerUnderTest.start(args)) {
                    if (parts.contains(Part.HTTP)) {
                        http(server, images, engine, loaded);
                    }
                    if (parts.contains(Part.SOAK)) {
                        soak(server, images.get("600x400 JPEG"));
                    }
                }
            }
        } finally {
            if (engine != null) {
                engine.close();
            }
        }
    }

    private void engine(Backend engine, LoadedModel loaded) throws Exception {
        System.out.println("1. Engine only (" + engine.engine() + ", " + engine.device().detail() + ")");
        System.out.println("   batch   latency p50 ms   images/s");
        double best = 0;
        StolenTime start = StolenTime.now();
        for (EngineBenchmark.Result r : EngineBenchmark.run(engine, loaded.files().config(), batches, engineSeconds)) {
            System.out.printf(Locale.ROOT, "   %5d   %14.1f   %8.2f%n", r.batchSize(), r.latency().median(), r.imagesPerSecond());
            if (r.batchSize() == 1) {
                figures.put("engine.latency.batch1", r.latency().median());
            }
            if (r.imagesPerSecond() > best) {
                best = r.imagesPerSecond();
                bestBatch = r.batchSize();
            }
        }
        figures.put("engine.best", best);
        System.out.printf(Locale.ROOT, "   best throughput: %.2f images/s (batch %d); %s%n%n", best, bestBatch, stolenSince(start));
    }

    /**
     * The engine alone at one batch size again, in the benchmark's JVM while the server idles, right
     * before the HTTP step it is compared with: a shared machine drifts by more than the overheads
     * measured over the minutes between part 1 and part 3.
     */
    private EngineBenchmark.Result engineAgain(Backend engine, LoadedModel loaded, int batchSize, double secondsAlone)
            throws Exception {
        return EngineBenchmark.run(engine, loaded.files().config(), new int[] {batchSize}, secondsAlone).get(0);
    }

    private void weights(int engineThreads) throws Exception {
        BackendProvider provider = BackendRegistry.discover(Benchmark.class.getClassLoader()).get(backend);
        WeightsBenchmark.Result r = WeightsBenchmark.run(provider, model,
                new BackendOptions(DeviceRequest.CPU, engineThreads, 4), 3, 20);
        System.out.println("1b. Network built from model.safetensors against the exported file (" + backend
                + ", measured in turns; medians)");
        System.out.println("                      exported     built    built/exported");
        System.out.printf(Locale.ROOT, "   load ms           %8.0f  %8.0f    %6.2f   (goal < 2)%n",
                r.exportedLoad().median(), r.builtLoad().median(), r.builtLoad().median() / r.exportedLoad().median());
        System.out.printf(Locale.ROOT, "   batch 1 ms        %8.1f  %8.1f    %6.3f   (goal <= 1.05)%n",
                r.exportedBatch1().median(), r.builtBatch1().median(),
                r.builtBatch1().median() / r.exportedBatch1().median());
        System.out.printf(Locale.ROOT, "   batch 4 images/s  %8.2f  %8.2f    %6.3f   (goal >= 0.95)%n%n",
                r.exportedBatch4PerSecond(), r.builtBatch4PerSecond(), r.builtBatch4PerSecond() / r.exportedBatch4PerSecond());
    }

    private void precision(LoadedModel loaded, int engineThreads, Map<String, Path> images) throws Exception {
        BackendProvider provider = BackendRegistry.discover(Benchmark.class.getClassLoader()).get(backend);
        try {
            provider.checkPrecision(Precision.INT8);
        } catch (BackendException e) {
            System.out.println("1c. fp32 against int8: not measured, " + e.getMessage() + "\n");
            return;
        }
        PrecisionBenchmark.Summary summary = PrecisionBenchmark.run(provider, loaded, engineThreads, precisionRounds,
                precisionSeconds, new ArrayList<>(images.values()), trainedModel);
        figures.put("precision.ratio", summary.medianRatioAtDefaultBatch());
        figures.put("precision.fp32", summary.medianFp32AtDefaultBatch());
        if (summary.accuracy() != null) {
            figures.put("precision.accuracy.fp32", summary.accuracy().fp32());
            figures.put("precision.accuracy.int8", summary.accuracy().int8());
            figures.put("precision.agreement", summary.accuracy().agreement());
        }
    }

    private void zeroShot(int engineThreads, Path image) throws Exception {
        Path clip = zeroShotModels.resolve("clip");
        Path vit = zeroShotModels.resolve("vit");
        if (!Files.isDirectory(clip) || !Files.isDirectory(vit)) {
            throw new CommandLine.ParameterException(new CommandLine(this), zeroShotModels + " has no clip/ and vit/: "
                    + "make them with /usr/bin/python3 testkit/tools/zero-shot-bench-models.py --out " + zeroShotModels);
        }
        List<String> args = new ArrayList<>(List.of("--model", "vit=" + vit, "--model", "clip=" + clip,
                "--backend", backend, "--threads", String.valueOf(engineThreads), "--device", "cpu"));
        args.addAll(serverArgs);
        System.out.println("Z. Zero-shot (CLIP " + clip + ") against classify (ViT " + vit + ", the same image network),"
                + " one server, 1 client, 600x400 JPEG as base64 JSON, " + zeroShotRounds + " rounds of "
                + zeroShotSeconds + " s per case; latency medians");
        try (ServerUnderTest server = ServerUnderTest.start(args)) {
            ZeroShotBenchmark.Summary s = ZeroShotBenchmark.run(server.port(), "vit", "clip", image, zeroShotRounds,
                    zeroShotSeconds, Math.max(3, Math.min(warmupSeconds, 10)));
            figures.put("zeroshot.cached.ratio", s.cachedRatio());
            figures.put("zeroshot.new.ratio", s.newRatio());
            System.out.printf(Locale.ROOT, "   medians over rounds: classify %.1f ms, zero-shot cached %.1f ms (%.3fx, goal <= 1.1),"
                    + " zero-shot 10 new labels %.1f ms (%.3fx)%n%n", s.classifyMs(), s.cachedMs(), s.cachedRatio(),
                    s.newMs(), s.newRatio());
        }
    }

    private void explain(int engineThreads, Path image, Backend engine, LoadedModel loaded) throws Exception {
        if (engine.rollsOut()) {
            System.out.println("X. Explain: the engine's run with the attention rollout against without it");
            figures.put("explain.engine.ratio", ExplainBenchmark.engine(engine, loaded.files().config(), explainPairs));
        }
        if (explainRounds < 1) {
            return;
        }
        List<String> args = new ArrayList<>(List.of("--model", "explained=" + model, "--backend", backend,
                "--threads", String.valueOf(engineThreads), "--device", "cpu"));
        args.addAll(serverArgs);
        System.out.println("   Explain (attention rollout) against classify over HTTP, " + model + ", one server, 1 client,"
                + " 600x400 JPEG as base64 JSON, " + explainRounds + " rounds of " + explainSeconds
                + " s per case; latency medians");
        try (ServerUnderTest server = ServerUnderTest.start(args)) {
            ExplainBenchmark.Summary s = ExplainBenchmark.run(server.port(), "explained", image, explainRounds,
                    explainSeconds, Math.max(3, Math.min(warmupSeconds, 10)));
            figures.put("explain.rollout.ratio", s.rolloutRatio());
            figures.put("explain.occlusion.ratio", s.occlusionRatio());
            System.out.printf(Locale.ROOT, "   medians over rounds: classify %.1f ms, rollout %.1f ms (%.3fx, goal <= 1.15),"
                    + " occlusion on " + ExplainBenchmark.OCCLUSION_GRID + " %.1f ms (%.1fx)%n%n", s.classifyMs(), s.rolloutMs(), s.rolloutRatio(), s.occlusionMs(),
                    s.occlusionRatio());
        }
    }

    private void preprocess(LoadedModel loaded, Map<String, Path> images) throws Exception {
        Preprocessor preprocessor = new Preprocessor(loaded.preprocessing());
        String python = PillowBaseline.findPython();
        Map<Path, Double> pillow = python == null ? Map.of()
                : PillowBaseline.run(python, new ArrayList<>(images.values()), loaded.preprocessing(), 21);
        StolenTime start = StolenTime.now();
        System.out.println("2. Decode + preprocess, one image on one thread (median ms)");
        System.out.println("   image           bytes      decode   decode+preprocess   Pillow   vitserve/Pillow");
        for (Map.Entry<String, Path> image : images.entrySet()) {
            PreprocessBenchmark.Result r = PreprocessBenchmark.run(image.getValue(), preprocessor,
                    image.getKey().startsWith("12") ? 11 : 41);
            Double baseline = pillow.get(image.getValue());
            System.out.printf(Locale.ROOT, "   %-14s %8d   %7.2f   %17.2f   %6s   %15s%n", image.getKey(),
                    Files.size(image.getValue()), r.decode().median(), r.total().median(),
                    baseline == null ? "-" : String.format(Locale.ROOT, "%.2f", baseline),
                    baseline == null ? "-" : String.format(Locale.ROOT, "%.2f", r.total().median() / baseline));
            figures.put("preprocess." + image.getKey(), r.total().median());
            if (baseline != null) {
                figures.put("pillow." + image.getKey(), baseline);
            }
        }
        System.out.println(python == null ? "   (Pillow not found: apt-get install python3-pil python3-numpy)"
                : "   Pillow: " + python + ", same files, decode + EXIF + RGB + BILINEAR resize + rescale + normalize");
        System.out.println("   " + stolenSince(start) + "\n");
    }

    private void beside(Backend engine, LoadedModel loaded, Map<String, Path> images) throws Exception {
        System.out.printf(Locale.ROOT, "2b. The engine beside preprocessing: one image decoded and preprocessed during each"
                + " batch-1 inference, by a thread at each priority (the cases take turns)%n");
        List<PreprocessPriority> priorities = new ArrayList<>();
        for (PreprocessPriority priority : PreprocessPriority.values()) {
            priority.unavailableReason().ifPresentOrElse(
                    reason -> System.out.println("   (" + priority + " priority not available: " + reason + ")"),
                    () -> priorities.add(priority));
        }
        System.out.println("   image          case                     inferences   engine p50 ms   vs alone   "
                + "decode+preprocess p50 ms (wall time)");
        for (String kind : List.of("600x400 JPEG", "12 MP JPEG")) {
            int inferences = kind.startsWith("12") ? Math.max(1, besideInferences / 4) : besideInferences;
            StolenTime start = StolenTime.now();
            BesideEngineBenchmark.Result r = BesideEngineBenchmark.run(engine, loaded.files().config(),
                    new Preprocessor(loaded.preprocessing()), Files.readAllBytes(images.get(kind)), inferences, priorities);
            String stolen = stolenSince(start);
            System.out.printf(Locale.ROOT, "   %-14s engine alone             %10d   %13.1f%n", kind, inferences,
                    r.alone().median());
            for (BesideEngineBenchmark.Case c : r.beside()) {
                double ratio = c.engine().median() / r.alone().median();
                System.out.printf(Locale.ROOT, "   %-14s beside, %-6s priority  %10d   %13.1f   %8.3f   %11.1f%n", "",
                        c.priority().name().toLowerCase(Locale.ROOT), inferences, c.engine().median(), ratio,
                        c.preprocessing().median());
                figures.put("beside." + kind + "." + c.priority(), ratio);
            }
            System.out.println("   " + stolen);
        }
        System.out.println();
    }

    private void http(ServerUnderTest server, Map<String, Path> images, Backend engine, LoadedModel loaded) throws Exception {
        boolean wrk = loadGenerator == LoadGenerator.wrk || loadGenerator == LoadGenerator.auto && WrkLoad.available();
        if (wrk && !WrkLoad.available()) {
            throw new IllegalStateException("wrk is not installed (apt-get install wrk)");
        }
        String url = "http://127.0.0.1:" + server.port() + "/v1/classify";
        System.out.println("3. End to end over HTTP (POST /v1/classify, raw JPEG body, closed-loop clients, server in its own"
                + " JVM, load from " + (wrk ? "wrk" : "a Java client") + ")");
        System.out.println("   image           clients   images/s   (" + (wrk ? "wrk" : "client") + ")   p50 ms   p99 ms   server: engine ms   busy"
                + "   decode+preprocess ms   host");
        Duration warmup = Duration.ofMillis((long) (warmupSeconds * 1000));
        for (String kind : List.of("600x400 JPEG", "12 MP JPEG")) {
            Path image = images.get(kind);
            for (int c : clients) {
                if (wrk) {
                    if (!warmup.isZero()) {
                        WrkLoad.run(url, image, "image/jpeg", c, warmup);
                    }
                    ServerTimings.awaitIdle(server.port());
                } else if (!warmup.isZero()) {
                    HttpLoad.run(URI.create(url), Files.readAllBytes(image), "image/jpeg", c, Duration.ZERO, warmup);
                }
                warmup = Duration.ofSeconds(3);
                boolean paired = engine != null && kind.startsWith("600") && (c == 1 || c == 4);
                int stepRounds = paired ? rounds : 1;
                // whole seconds for every round: at 5 images/s a 5 s window counts 24 or 25 answers, a 4% step
                Duration measure = Duration.ofMillis((long) (seconds * 1000));
                ServerTimings before = ServerTimings.read(server.port());
                StolenTime stepStart = StolenTime.now();
                List<Round> done = new ArrayList<>();
                int aloneBatch = c == 1 ? 1 : bestBatch;
                EngineBenchmark.Result alone = paired ? engineAgain(engine, loaded, aloneBatch, engineSeconds / 2) : null;
                for (int r = 0; r < stepRounds; r++) {
                    LoadStep load = LoadStep.run(wrk, server.port(), url, image, c, measure);
                    EngineBenchmark.Result next = paired ? engineAgain(engine, loaded, aloneBatch, engineSeconds / 2) : null;
                    done.add(new Round(load, alone, next));
                    alone = next;
                }
                String stolen = stolenSince(stepStart);
                ServerTimings after = ServerTimings.read(server.port());
                double inServer = after.meanMsSince(before, "inference");
                double prepared = after.meanMsSince(before, "decode") + after.meanMsSince(before, "preprocess");
                LoadStep step = LoadStep.medianOf(done.stream().map(Round::load).toList());
                System.out.printf(Locale.ROOT, "   %-14s %8d   %8.2f   %8.2f   %6.1f   %6.1f   %17.1f   %3.0f%%   %20.1f   %s%s%n",
                        kind, c, step.engine().imagesPerSecond(), step.rate(), step.p50(), step.p99(), inServer,
                        step.engine().busy() * 100, prepared, stolen, step.failures());
                String key = "http." + kind + "." + c;
                figures.put(key + ".throughput", step.engine().imagesPerSecond());
                figures.put(key + ".p50", step.p50());
                figures.put(key + ".engine", inServer);
                figures.put(key + ".prepared", prepared);
                // per round, so that both medians come from the same seconds of a drifting host
                figures.put(key + ".overhead", LoadStep.overheadOf(done.stream().map(Round::load).toList()));
                if (paired) {
                    pairedFigures(c, done);
                }
            }
        }
        System.out.println("   (median of the rounds. images/s: the server's steady rate, counted by its metrics between two"
                + " batch ends in the middle of the load; (" + (wrk ? "wrk" : "client") + "): answers over the load generator's"
                + " whole run, lower by up to a batch time over its length, as the first answers take a batch time to come."
                + " server: means of the server's own timers over the step, engine per batch; busy: share of the steady"
                + " window the engine was running)");
        System.out.printf(Locale.ROOT, "   server resident memory after the runs: %.0f MB%n%n", server.residentMb());
    }

    /**
     * Prints each round of a step measured against the engine alone, and keeps the median of the
     * per-round ratios: each ratio compares two measurements seconds apart, so a host whose speed
     * drifts over minutes changes both alike.
     */
    private void pairedFigures(int clients, List<Round> done) {
        List<Double> ratios = new ArrayList<>();
        List<Double> overheads = new ArrayList<>();
        for (int r = 0; r < done.size(); r++) {
            Round round = done.get(r);
            LoadStep load = round.load();
            ServerTimings.EngineUse use = load.engine();
            ratios.add(use.imagesPerSecond() / round.aloneImagesPerSecond());
            overheads.add(load.p50() - round.aloneP50());
            System.out.printf(Locale.ROOT, "        round %d: %.2f images/s (%.2f over the load's run), p50 %.1f ms (engine in"
                            + " the answers %.1f ms); engine alone before/after (batch %d): %.2f/%.2f images/s, p50 %.1f/%.1f ms"
                            + " -> %.3fx, %+.1f ms%n",
                    r + 1, use.imagesPerSecond(), load.rate(), load.p50(), load.engineP50(), round.before().batchSize(),
                    round.before().imagesPerSecond(), round.after().imagesPerSecond(), round.before().latency().median(),
                    round.after().latency().median(), ratios.get(r), overheads.get(r));
            // the ratio is the engine's busy share times its speed in the server against alone
            double aloneMsPerImage = 1000 / round.aloneImagesPerSecond();
            System.out.printf(Locale.ROOT, "                 server's engine busy %.1f%% of the time, %.2f images a batch,"
                            + " %.1f ms an image (alone %.1f) -> speed in the server %.3fx%n", use.busy() * 100,
                    use.meanBatch(), use.msPerImage(), aloneMsPerImage, aloneMsPerImage / use.msPerImage());
        }
        if (clients == 4) {
            figures.put("paired.throughput.ratio", Stats.of(ratios).median());
        } else {
            figures.put("paired.latency.overhead", Stats.of(overheads).median());
        }
    }

    /**
     * One round of a paired step: the load, and the engine alone measured right before and right
     * after it, whose mean cancels a host speeding up or slowing down steadily across the round.
     */
    private record Round(LoadStep load, EngineBenchmark.Result before, EngineBenchmark.Result after) {

        double aloneImagesPerSecond() {
            return (before.imagesPerSecond() + after.imagesPerSecond()) / 2;
        }

        double aloneP50() {
            return (before.latency().median() + after.latency().median()) / 2;
        }
    }

    private void soak(ServerUnderTest server, Path image) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + server.port() + "/v1/classify");
        byte[] body = Files.readAllBytes(image);
        System.out.printf(Locale.ROOT, "4. Soak: %d clients for %d s, 600x400 JPEG; resident memory every 30 s%n",
                soakClients, soakSeconds);
        System.out.println("   time s   images/s   p50 ms   p99 ms   statuses   503 without Retry-After   failed   RSS MB");
        List<Double> rss = new ArrayList<>();
        boolean onlyOkOrRetry = true;
        for (int elapsed = 0; elapsed < soakSeconds; elapsed += 30) {
            int step = Math.min(30, soakSeconds - elapsed);
            HttpLoad.Result r = HttpLoad.run(uri, body, "image/jpeg", soakClients, Duration.ZERO, Duration.ofSeconds(step));
            double mb = server.residentMb();
            rss.add(mb);
            onlyOkOrRetry &= r.statuses().keySet().stream().allMatch(s -> s == 200 || s == 503)
                    && r.unavailableWithoutRetryAfter() == 0 && r.failedConnections() == 0;
            System.out.printf(Locale.ROOT, "   %6d   %8.2f   %6.1f   %6.1f   %-10s %23d   %6d   %6.0f%n", elapsed + step,
                    r.okPerSecond(), r.latencyOf200().median(), r.latencyOf200().percentile(99), r.statuses(),
                    r.unavailableWithoutRetryAfter(), r.failedConnections(), mb);
        }
        double half = rss.get((rss.size() - 1) / 2);
        double last = rss.get(rss.size() - 1);
        System.out.printf(Locale.ROOT, "   resident memory over the second half (after the heap has grown to its working size): "
                + "%.0f MB -> %.0f MB (%+.1f%%)%n", half, last, (last - half) / half * 100);
        System.out.println("   every answer 200, or 503 with Retry-After, no failed connection: " + (onlyOkOrRetry ? "yes" : "NO"));
        System.out.println();
    }

    /**
     * The host's share of CPU time since {@code start}, as a label for the step's output, kept
     * for the verdict under the ratios.
     */
    private String stolenSince(StolenTime start) {
        double percent = StolenTime.percentSince(start, StolenTime.now());
        if (!Double.isNaN(percent) && !(percent <= worstSteal)) {
            worstSteal = percent;
        }
        return StolenTime.label(percent);
    }

    private void ratios() {
        System.out.println("5. Ratios (goals for a full-size ViT-B/16, fp32, ONNX, 2 cores)");
        if (!Double.isNaN(worstSteal)) {
            System.out.printf(Locale.ROOT, "   CPU time taken by the host (steal), worst part or step: %.1f%%%s%n", worstSteal,
                    worstSteal > StolenTime.NOISY_PERCENT ? ": the host was busy, so these ratios are not comparable"
                            + " with a quiet machine's; run again later" : "");
        }
        Double zeroShotCached = figures.get("zeroshot.cached.ratio");
        if (zeroShotCached != null) {
            System.out.printf(Locale.ROOT, "   zero-shot, 10 cached labels / classify (median of rounds): %.3f   (goal <= 1.1)%n",
                    zeroShotCached);
            System.out.printf(Locale.ROOT, "   zero-shot, 10 new labels / classify (median of rounds):    %.3f   (reported)%n",
                    figures.get("zeroshot.new.ratio"));
        }
        Double rollout = figures.get("explain.rollout.ratio");
        Double rolloutEngine = figures.get("explain.engine.ratio");
        if (rolloutEngine != null) {
            System.out.printf(Locale.ROOT, "   engine run with rollout / without (median of pairs): %.3f%n", rolloutEngine);
        }
        if (rollout != null) {
            System.out.printf(Locale.ROOT, "   explain rollout / classify (median of rounds):      %.3f   (goal <= 1.15)%n",
                    rollout);
            System.out.printf(Locale.ROOT, "   explain occlusion / classify:                      %.1f   (reported: one engine"
                    + " image per cell, 7x7)%n", figures.get("explain.occlusion.ratio"));
        }
        Double best = figures.get("engine.best");
        Double pairedRatio = figures.get("paired.throughput.ratio");
        Double serverAt4 = figures.get("http.600x400 JPEG.4.throughput");
        if (best != null && serverAt4 != null) {
            System.out.printf(Locale.ROOT, "   server throughput at 4 clients / engine best:      %.3f   (goal >= 0.95)%s%n",
                    serverAt4 / best, pairedRatio == null ? "" : String.format(Locale.ROOT,
                            "; against the engine alone in alternating rounds: %.3f", pairedRatio));
        }
        Double engineLatency = figures.get("engine.latency.batch1");
        Double pairedOverhead = figures.get("paired.latency.overhead");
        Double p50 = figures.get("http.600x400 JPEG.1.p50");
        if (engineLatency != null && p50 != null) {
            System.out.printf(Locale.ROOT, "   p50 at 1 client - engine latency (600x400 JPEG):   %+.1f ms (goal <= 10 ms)%s%n",
                    p50 - engineLatency, pairedOverhead == null ? "" : String.format(Locale.ROOT,
                            "; against the engine alone in alternating rounds: %+.1f ms", pairedOverhead));
        }
        Double prepared = figures.get("http.600x400 JPEG.1.prepared");
        Double overhead = figures.get("http.600x400 JPEG.1.overhead");
        if (overhead != null && !overhead.isNaN() && prepared != null) {
            System.out.printf(Locale.ROOT, "   the same against the engine time of the same requests (p50): %+.1f ms, of which"
                    + " decode+preprocess %.1f ms%n", overhead, prepared);
        }
        for (String kind : List.of("600x400 JPEG", "12 MP JPEG", "600x400 PNG")) {
            Double java = figures.get("preprocess." + kind);
            Double pillow = figures.get("pillow." + kind);
            if (java != null && pillow != null) {
                System.out.printf(Locale.ROOT, "   vitserve/Pillow decode+preprocess, %-13s %.2f   (goal <= 1.00)%n",
                        kind + ":", java / pillow);
            }
        }
        for (String kind : List.of("600x400 JPEG", "12 MP JPEG")) {
            for (PreprocessPriority priority : PreprocessPriority.values()) {
                Double slowdown = figures.get("beside." + kind + "." + priority);
                if (slowdown != null) {
                    System.out.printf(Locale.ROOT, "   engine beside a %-12s at %-6s priority / alone: %.3f%n", kind,
                            priority.name().toLowerCase(Locale.ROOT), slowdown);
                }
            }
        }
        Double int8 = figures.get("precision.ratio");
        if (int8 != null) {
            System.out.printf(Locale.ROOT, "   int8 / fp32 images/s at batch %d, median of rounds: %.2f   (goal >= 2.5)%n",
                    PrecisionBenchmark.DEFAULT_CPU_BATCH, int8);
        }
        Double agreement = figures.get("precision.agreement");
        if (agreement != null) {
            System.out.printf(Locale.ROOT, "   trained model: accuracy fp32 %.2f%%, int8 %.2f%% (goal: within 0.5 points);"
                            + " top-1 agreement %.2f%%   (goal >= 99%%)%n", figures.get("precision.accuracy.fp32"),
                    figures.get("precision.accuracy.int8"), agreement);
        }
        Double small = figures.get("preprocess.600x400 JPEG");
        if (small != null) {
            System.out.printf(Locale.ROOT, "   decode+preprocess of a 600x400 JPEG:               %.2f ms (goal < 3 ms)%n", small);
        }
    }
}
