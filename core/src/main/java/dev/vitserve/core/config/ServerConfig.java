package dev.vitserve.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vitserve.api.DeviceRequest;
import dev.vitserve.api.Precision;
import dev.vitserve.core.http.AccessLog;
import dev.vitserve.core.hub.HubSettings;
import dev.vitserve.core.inference.PreprocessPriority;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;

/**
 * Every setting of a vitserve server. Each option can be given as a flag, as an environment
 * variable ({@code VITSERVE_} + the flag's name in upper case, dashes as underscores) or as a
 * key of the {@code --config} file; flags win over the environment, which wins over the file.
 */
@Command(name = "vitserve", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        sortOptions = false, usageHelpWidth = 100,
        description = {
            "Serves a Hugging Face Vision Transformer image classifier over REST and a web page.",
            "",
            "Every option can also be set with an environment variable (VITSERVE_ + the option's name in",
            "upper case with underscores, e.g. VITSERVE_MAX_BODY_SIZE=50MB) or in the --config file",
            "(YAML or JSON, keys as the option names, e.g. max-body-size: 50MB).",
            "Flags win over environment variables, which win over the config file.",
            ""})
public final class ServerConfig {

    /** The model served when none is given. */
    public static final String DEFAULT_MODEL = "google/vit-base-patch16-224";

    @Option(names = "--model", paramLabel = "[NAME=]ID|DIR",
            description = "Hugging Face Hub id (org/name), downloaded into the huggingface_hub cache like "
                    + "from_pretrained does (HF_ENDPOINT, HF_HUB_CACHE or HF_HOME, HF_TOKEN, HF_HUB_OFFLINE=1 "
                    + "apply), or a model folder in the Hugging Face layout (config.json, preprocessor_config.json, "
                    + "model.safetensors); an existing folder wins. Repeat it to serve several models; NAME= names "
                    + "one (default: the Hub id, or the folder's name). The first model is the default one. "
                    + "Default: " + DEFAULT_MODEL + ".")
    private List<String> model = new ArrayList<>();

    @Option(names = "--model-repository", paramLabel = "DIR",
            description = "Serve every subfolder of DIR that holds a config.json, named after the subfolder, "
                    + "after the models given with --model.")
    private Path modelRepository;

    @Option(names = "--admin-model-roots", paramLabel = "DIR", split = ",",
            description = "Folders a model loaded through the management API may be read from (comma-separated); a "
                    + "folder elsewhere is refused, and another name is a Hub id. Default: --model-repository and the "
                    + "Hugging Face cache.")
    private List<Path> adminModelRoots;

    @Option(names = "--max-models", paramLabel = "N", defaultValue = "16",
            description = "Most models loaded at once (those at start and those loaded with the admin API); "
                    + "a load beyond it is refused with 409. Default: ${DEFAULT-VALUE}.")
    private int maxModels;

    @Option(names = "--revision", paramLabel = "REV", defaultValue = ModelSettings.DEFAULT_REVISION,
            description = "Branch, tag or commit hash of the Hub repository (Hub ids only: a local folder with "
                    + "another revision is refused). Default: ${DEFAULT-VALUE}.")
    private String revision;

    @Option(names = "--backend", paramLabel = "ID", defaultValue = "onnx",
            description = "Inference engine: onnx (ONNX Runtime) or djl (DJL + PyTorch), or the id of any backend "
                    + "on the classpath. Default: ${DEFAULT-VALUE}.")
    private String backend;

    @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "auto", converter = DeviceConverter.class,
            description = "auto, cpu, gpu or gpu:N. auto takes a GPU when the backend can use one, else the CPU; "
                    + "gpu fails at start-up when no usable GPU is there. Default: ${DEFAULT-VALUE}.")
    private DeviceRequest device;

    @Option(names = "--precision", paramLabel = "fp32|int8|bf16|fp16|auto", defaultValue = "fp32",
            converter = PrecisionConverter.class,
            description = "Number format of the network: fp32; int8 (onnx backend, CPU: the encoder's linear layers "
                    + "quantized at load time from model.safetensors, about 3x the images per second; answers close to "
                    + "fp32, not identical); bf16 (djl backend, on CPUs with AVX-512 BF16 or AMX-BF16, or a GPU; refused "
                    + "elsewhere); fp16 (djl backend, GPU only); auto (the fastest of these that passes its check at load "
                    + "on this machine, logged and shown in /v1/models). Default: ${DEFAULT-VALUE}.")
    private Precision precision;

    @Option(names = "--network-from", paramLabel = "auto|export|safetensors", defaultValue = "auto",
            converter = NetworkChoiceConverter.class,
            description = "Which network runs when a model folder has both an export (model.pt for djl, "
                    + "onnx/model.onnx for onnx) and model.safetensors: auto (the export), export, or safetensors "
                    + "(the network vitserve builds, which gives embeddings). Default: ${DEFAULT-VALUE}.")
    private dev.vitserve.api.NetworkChoice networkFrom;

    @Option(names = "--threads", paramLabel = "N",
            description = "Threads the engine uses for one inference (intra-op). Default: the number of cores.")
    private Integer threads;

    @Option(names = "--host", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
            description = "Address to listen on; 0.0.0.0 for every interface. Default: ${DEFAULT-VALUE}.")
    private String host;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "8080",
            description = "TCP port to listen on; 0 picks a free one. Default: ${DEFAULT-VALUE}.")
    private int port;

    @Option(names = "--grpc-port", paramLabel = "PORT",
            description = "Also serve the Open Inference Protocol over gRPC (inference.GRPCInferenceService) on this "
                    + "port of --host; 0 picks a free one. Default: off.")
    private Integer grpcPort;

    @Option(names = "--max-body-size", paramLabel = "SIZE", defaultValue = "20MB", converter = ByteSizeConverter.class,
            description = "Largest request body, and largest image fetched from a URL (e.g. 20MB). "
                    + "Larger ones get 413. Default: ${DEFAULT-VALUE}.")
    private long maxBodySize;

    @Option(names = "--max-megapixels", paramLabel = "MP", defaultValue = "40",
            description = "Largest image, in millions of pixels, read from the image header before decoding. "
                    + "Larger ones get 413. Default: ${DEFAULT-VALUE}.")
    private double maxMegapixels;

    @Option(names = "--max-request-megapixels", paramLabel = "MP",
            description = "Most pixels, in millions, all images of one request may have together, read from their "
                    + "headers before any is decoded; more get 413. Default: 160, or --max-megapixels if larger.")
    private Double maxRequestMegapixels;

    @Option(names = "--max-decode-ms", paramLabel = "MS", defaultValue = "3000",
            description = "CPU time one image may take to decode; then it is stopped and gets 415 (decode_timeout), "
                    + "or 503 when the machine was too busy to give it that time within 4 times as long on the clock. "
                    + "Default: ${DEFAULT-VALUE}.")
    private long maxDecodeMs;

    @Option(names = "--max-files", paramLabel = "N", defaultValue = "16",
            description = "Most images in one multipart request. Default: ${DEFAULT-VALUE}.")
    private int maxFiles;

    @Option(names = "--allow-private-urls", arity = "0..1", fallbackValue = "true", defaultValue = "false",
            paramLabel = "true|false",
            description = "Let image URLs point at loopback, private and link-local addresses (intranets, tests). "
                    + "Off by default: fetching them from a public server is a server-side request forgery risk.")
    private boolean allowPrivateUrls;

    @Option(names = "--url-allow", paramLabel = "HOST", split = ",",
            description = "Fetch image URLs only from these hosts (comma-separated; *.example.com allows its subdomains). "
                    + "Default: any public host.")
    private List<String> urlAllow = new ArrayList<>();

    @Option(names = "--no-url-fetch", arity = "0..1", fallbackValue = "true", defaultValue = "false",
            paramLabel = "true|false", description = "Never fetch image URLs; clients must upload images.")
    private boolean noUrlFetch;

    @Option(names = "--url-connect-timeout-ms", paramLabel = "MS", defaultValue = "5000",
            description = "Time to connect to an image URL's host. Default: ${DEFAULT-VALUE}.")
    private long urlConnectTimeoutMs;

    @Option(names = "--url-timeout-ms", paramLabel = "MS", defaultValue = "20000",
            description = "Total time to fetch an image URL, redirects included. Default: ${DEFAULT-VALUE}.")
    private long urlTimeoutMs;

    @Option(names = "--max-batch", paramLabel = "N",
            description = "Most images the engine runs at once; requests queued together are batched. "
                    + "Default: 2 on a CPU (2-4%% more images/s than 1 under load, no wait at low load), 8 on a GPU.")
    private Integer maxBatch;

    @Option(names = "--max-batch-delay-ms", paramLabel = "MS",
            description = "How long the first image of a batch may wait for others. "
                    + "Default: 0 on a CPU, 5 on a GPU.")
    private Integer maxBatchDelayMs;

    @Option(names = "--max-queue", paramLabel = "N", defaultValue = "64",
            description = "Images that may wait for the engine; when full, requests get 503 with Retry-After. "
                    + "Default: ${DEFAULT-VALUE}.")
    private int maxQueue;

    @Option(names = "--max-queue-wait-ms", paramLabel = "MS", defaultValue = "20000",
            description = "Longest an image may wait for the engine; then 503 with Retry-After. Default: ${DEFAULT-VALUE}.")
    private long maxQueueWaitMs;

    @Option(names = "--max-requests", paramLabel = "N", defaultValue = "64",
            description = "Classify requests being read, decoded or waiting at once; beyond it, 503 with Retry-After "
                    + "before the body is read. Default: ${DEFAULT-VALUE}.")
    private int maxRequests;

    @Option(names = "--body-timeout-ms", paramLabel = "MS", defaultValue = "60000",
            description = "Longest a request may take to send its body, from the end of its headers; then 408 and the "
                    + "connection is closed. Default: ${DEFAULT-VALUE} (20 MB at 3 Mbit/s).")
    private long bodyTimeoutMs;

    @Option(names = "--max-receiving", paramLabel = "N", defaultValue = "256",
            description = "Requests whose body is still arriving; beyond it, 503 with Retry-After. They hold no "
                    + "--max-requests slot until their body is complete. Default: ${DEFAULT-VALUE}.")
    private int maxReceiving;

    @Option(names = "--max-receiving-size", paramLabel = "SIZE", defaultValue = "512MB", converter = ByteSizeConverter.class,
            description = "Memory the bodies still arriving may hold together, counted from their Content-Length "
                    + "(--max-body-size when chunked); beyond it, 503 with Retry-After. Default: ${DEFAULT-VALUE}.")
    private long maxReceivingSize;

    @Option(names = "--max-receiving-per-client", paramLabel = "N", defaultValue = "64",
            description = "gRPC calls from one client address whose message is still arriving; beyond it, "
                    + "RESOURCE_EXHAUSTED. Default: ${DEFAULT-VALUE}.")
    private int maxReceivingPerClient;

    @Option(names = "--max-url-fetches", paramLabel = "N", defaultValue = "64",
            description = "Image URL fetches in progress at once; beyond it, 503 with Retry-After. A request waiting for "
                    + "its URL holds none of the --max-requests slots. Default: ${DEFAULT-VALUE}.")
    private int maxUrlFetches;

    @Option(names = "--memory-budget", paramLabel = "SIZE", converter = ByteSizeConverter.class,
            description = "Memory all requests together may hold: bodies arriving and held, images fetched from URLs, "
                    + "decoded pixels (from the header, before decoding), resize buffers and tensors in flight; beyond "
                    + "it, 503 with Retry-After. Default: 60%% of the JVM's max heap (-Xmx).")
    private Long memoryBudget;

    @Option(names = "--text-cache-size", paramLabel = "SIZE", defaultValue = "16MB", converter = ByteSizeConverter.class,
            description = "Bytes of text embeddings each zero-shot model keeps, by the exact text (a label in its "
                    + "template), least recently used out first: a request whose labels are cached runs no text tower. "
                    + "Default: ${DEFAULT-VALUE}.")
    private long textCacheSize;

    @Option(names = "--max-connections", paramLabel = "N",
            description = "Open connections; past it the connection idle longest is closed to make room, or the new one "
                    + "when none is idle. Default: half the process's file descriptor limit, at most 10000.")
    private Integer maxConnections;

    @Option(names = "--max-connections-per-client", paramLabel = "N", defaultValue = "256",
            description = "Open connections from one client address; more are closed as they arrive (raise it "
                    + "behind a proxy that is the only client). Default: ${DEFAULT-VALUE}.")
    private int maxConnectionsPerClient;

    @Option(names = "--preprocess-threads", paramLabel = "N",
            description = "Threads that decode and preprocess images, beside the engine's threads. "
                    + "Default: the number of cores at idle --preprocess-priority, else half the cores, at least 1.")
    private Integer preprocessThreads;

    @Option(names = "--preprocess-priority", paramLabel = "idle|normal",
            description = "How the preprocessing threads share the cores with the engine: idle (Linux's SCHED_IDLE: "
                    + "they run only on cores the engine leaves idle, so they hardly slow it down, but they also give "
                    + "way to other busy programs on the machine) or normal. Default: idle where the system allows "
                    + "it, else normal with a warning.")
    private PreprocessPriority preprocessPriority;

    @Option(names = "--warmup-inferences", paramLabel = "N", defaultValue = "2",
            description = "Before reporting ready, decode and preprocess a generated photo 20 times and run it through "
                    + "the engine N times, so that the first requests do not wait for JIT compilation and the engine's "
                    + "first-run allocations; 0 skips warming up. Default: ${DEFAULT-VALUE}.")
    private int warmupInferences;

    @Option(names = "--shutdown-grace-ms", paramLabel = "MS", defaultValue = "5000",
            description = "On SIGTERM, how long the server goes on serving new requests while /health/ready answers "
                    + "503, so that load balancers and Kubernetes take it out of rotation before it refuses anything; "
                    + "set it to at least the balancer's health-check interval times its fall count. "
                    + "Then requests in progress drain (--drain-timeout-ms). Ctrl-C skips it. Default: ${DEFAULT-VALUE}.")
    private long shutdownGraceMs;

    @Option(names = "--drain-timeout-ms", paramLabel = "MS", defaultValue = "30000",
            description = "On SIGTERM, after --shutdown-grace-ms, how long requests in progress may take to finish "
                    + "before the server stops. Default: ${DEFAULT-VALUE}.")
    private long drainTimeoutMs;

    @Option(names = "--api-key", paramLabel = "KEY",
            description = "Require 'Authorization: Bearer KEY' on the API (/v1/*, /predict_image_class). "
                    + "Health, metrics, the page and /openapi.json stay open. Default: no key.")
    private String apiKey;

    @Option(names = "--admin-port", paramLabel = "PORT",
            description = "Port of the management API (/admin/models: load, unload, reload models); 0 picks a "
                    + "free one. Default: off.")
    private Integer adminPort;

    @Option(names = "--admin-host", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
            description = "Address the management API listens on. Default: ${DEFAULT-VALUE}.")
    private String adminHost;

    @Option(names = "--admin-api-key", paramLabel = "KEY",
            description = "Require 'Authorization: Bearer KEY' on the management API. Default: no key.")
    private String adminApiKey;

    @Option(names = "--cors-origins", paramLabel = "ORIGIN", split = ",",
            description = "Origins allowed to call the API from browsers (comma-separated, e.g. https://app.example.com). "
                    + "Default: none (CORS off).")
    private List<String> corsOrigins = new ArrayList<>();

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "PEM certificate chain (the server's certificate first): every listener then speaks TLS, "
                    + "HTTP/2 or HTTP/1.1 through ALPN. Needs --tls-key. Reloaded without dropping connections on "
                    + "SIGHUP and when the file changes (checked every 5 s). Default: plain HTTP.")
    private Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE",
            description = "PEM private key of --tls-cert (PKCS#8, or PKCS#1 RSA), unencrypted.")
    private Path tlsKey;

    @Option(names = "--access-log", paramLabel = "off|common|combined", arity = "0..1", fallbackValue = "combined",
            defaultValue = "off",
            description = "Log one line per request to the logger vitserve.access, on standard output: the common or "
                    + "combined log format, then the request id (X-Request-Id, taken from the client when it is a "
                    + "token of at most 128 characters, else made) and the time taken in ms. --access-log alone "
                    + "means combined. Default: ${DEFAULT-VALUE}.")
    private AccessLog.Format accessLog;

    @Option(names = "--log-format", paramLabel = "text|json", defaultValue = "text",
            description = "text: lines for people; json: one flat JSON object per line for log pipelines "
                    + "(ISO-8601 timestamp, access log fields typed). Default: ${DEFAULT-VALUE}.")
    private LogFormat logFormat;

    @Option(names = "--config", paramLabel = "FILE",
            description = "YAML or JSON file with any of these options (keys as the option names).")
    private Path configFile;

    /** Hub settings from the HF_* environment variables, set by {@link ConfigLoader}. */
    private HubSettings hub;

    /** The config file's {@code models:} list, set by {@link ConfigLoader} when no flag names a model. */
    private JsonNode fileModels;

    /** Every model to serve at start, the default one first; set by {@link #validate}. */
    private List<ModelSettings> models = List.of();

    /** Reads flags, environment variables ({@code VITSERVE_*}) and the config file, flags first. */
    public static ServerConfig fromArgs(String... args) throws ConfigException {
        return ConfigLoader.load(args, System.getenv());
    }

    /** The command line {@link #fromArgs} parses with, for {@code --help} and for early errors. */
    public static picocli.CommandLine commandLine() {
        return ConfigLoader.commandLine(new ServerConfig());
    }

    /** As {@link #fromArgs} with a given environment (tests). */
    public static ServerConfig fromArgs(Map<String, String> environment, String... args) throws ConfigException {
        return ConfigLoader.load(args, environment);
    }

    void validate() throws ConfigException {
        if (model.stream().anyMatch(String::isBlank)) {
            throw new ConfigException("no model given: pass --model with a Hugging Face Hub id (org/name) or a "
                    + "folder with config.json, preprocessor_config.json and model.safetensors, or set VITSERVE_MODEL");
        }
        SettingRange.MAX_MODELS.checkFlag(maxModels);
        check(adminPort == null || adminPort >= 0 && adminPort <= 65535, "--admin-port must be between 0 and 65535");
        check(adminApiKey == null || adminApiKey.length() >= 16, "--admin-api-key must be at least 16 characters long");
        check(port >= 0 && port <= 65535, "--port must be between 0 and 65535, got " + port);
        check(grpcPort == null || (grpcPort >= 0 && grpcPort <= 65535), "--grpc-port must be between 0 and 65535, got "
                + grpcPort);
        SettingRange.THREADS.checkFlag(threads);
        check(maxMegapixels > 0, "--max-megapixels must be positive");
        check(maxRequestMegapixels == null || maxRequestMegapixels >= maxMegapixels,
                "--max-request-megapixels must be at least --max-megapixels");
        SettingRange.MAX_DECODE_MS.checkFlag(maxDecodeMs);
        SettingRange.MAX_FILES.checkFlag(maxFiles);
        SettingRange.URL_CONNECT_TIMEOUT_MS.checkFlag(urlConnectTimeoutMs);
        SettingRange.URL_TIMEOUT_MS.checkFlag(urlTimeoutMs);
        SettingRange.MAX_BATCH.checkFlag(maxBatch);
        SettingRange.MAX_BATCH_DELAY_MS.checkFlag(maxBatchDelayMs);
        SettingRange.MAX_QUEUE.checkFlag(maxQueue);
        SettingRange.PREPROCESS_THREADS.checkFlag(preprocessThreads);
        SettingRange.MAX_QUEUE_WAIT_MS.checkFlag(maxQueueWaitMs);
        check(maxBatchDelayMs == null || maxBatchDelayMs < maxQueueWaitMs, "--max-batch-delay-ms (" + maxBatchDelayMs
                + ") must be shorter than --max-queue-wait-ms (" + maxQueueWaitMs + ")");
        SettingRange.MAX_REQUESTS.checkFlag(maxRequests);
        SettingRange.BODY_TIMEOUT_MS.checkFlag(bodyTimeoutMs);
        SettingRange.MAX_RECEIVING.checkFlag(maxReceiving);
        check(maxReceivingSize >= maxBodySize, "--max-receiving-size must be at least --max-body-size");
        SettingRange.MAX_RECEIVING_PER_CLIENT.checkFlag(maxReceivingPerClient);
        SettingRange.MAX_URL_FETCHES.checkFlag(maxUrlFetches);
        SettingRange.MEMORY_BUDGET.checkFlag(memoryBudget);
        SettingRange.TEXT_CACHE_SIZE.checkFlag(textCacheSize);
        SettingRange.MAX_CONNECTIONS.checkFlag(maxConnections);
        SettingRange.MAX_CONNECTIONS_PER_CLIENT.checkFlag(maxConnectionsPerClient);
        SettingRange.DRAIN_TIMEOUT_MS.checkFlag(drainTimeoutMs);
        SettingRange.SHUTDOWN_GRACE_MS.checkFlag(shutdownGraceMs);
        SettingRange.WARMUP_INFERENCES.checkFlag(warmupInferences);
        check(apiKey == null || apiKey.length() >= 16, "--api-key must be at least 16 characters long");
        for (String origin : corsOrigins) {
            check(origin.matches("https?://[^/\\s]+"), "--cors-origins: '" + origin
                    + "' is not an origin such as https://app.example.com");
        }
        check((tlsCert == null) == (tlsKey == null), "--tls-cert and --tls-key go together: give both or neither");
        check(!backend.isBlank(), "--backend must not be empty");
        check(revision != null && !revision.isBlank(), "--revision must not be empty");
        models = StartModels.of(this, model, fileModels, modelRepository);
        check(models.size() <= maxModels, models.size() + " models are to be served at start but --max-models is "
                + maxModels);
    }

    private static void check(boolean condition, String message) throws ConfigException {
        if (!condition) {
            throw new ConfigException(message);
        }
    }

    private static int cores() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** The default model's folder or Hub id. */
    public String model() {
        return models.isEmpty() ? DEFAULT_MODEL : models.get(0).model();
    }

    /** Every model to serve at start, in order; the first is the default model. */
    public List<ModelSettings> models() {
        return models;
    }

    /** The top-level settings every model starts from, for a model of that name and source. */
    public ModelSettings modelDefaults(String name, String source) {
        return new ModelSettings(name, source, revision, backend, device, threads(), maxBatch, maxBatchDelayMs,
                maxQueue, precision);
    }

    /** The folder whose model subfolders are served at start and loadable by name, if any. */
    public Optional<Path> modelRepository() {
        return Optional.ofNullable(modelRepository);
    }

    /** The model folders of {@code --model-repository} (subfolders with a config.json), by name; none without it. */
    public List<Path> modelRepositoryFolders() throws IOException {
        return modelRepository == null ? List.of() : StartModels.modelFolders(modelRepository);
    }

    /** Most models loaded at once. */
    public int maxModels() {
        return maxModels;
    }

    /** The management API's port, or empty when it is off. */
    public Optional<Integer> adminPort() {
        return Optional.ofNullable(adminPort);
    }

    public String adminHost() {
        return adminHost;
    }

    /** The key the management API requires, or empty. */
    public Optional<String> adminApiKey() {
        return Optional.ofNullable(adminApiKey).filter(key -> !key.isEmpty());
    }

    /** The {@code --model} values as parsed, before the defaults and the file's list apply. */
    List<String> modelFlags() {
        return List.copyOf(model);
    }

    void fileModels(JsonNode models) {
        this.fileModels = models;
    }

    /** The branch, tag or commit of a Hub model. */
    public String revision() {
        return revision;
    }

    /** Where and how Hub models are fetched (HF_ENDPOINT, the cache, the token, offline mode). */
    public HubSettings hub() {
        return hub;
    }

    /** The folders a management-API load may read: {@code --admin-model-roots}, else the repository and the cache. */
    public List<Path> adminModelRoots() {
        if (adminModelRoots != null && !adminModelRoots.isEmpty()) {
            return adminModelRoots;
        }
        List<Path> roots = new java.util.ArrayList<>();
        modelRepository().ifPresent(roots::add);
        roots.add(hub.cacheDir());
        return roots;
    }

    void hub(HubSettings settings) {
        this.hub = settings;
    }

    public String backend() {
        return backend;
    }

    public DeviceRequest device() {
        return device;
    }

    /** The number format the network runs in. */
    public Precision precision() {
        return precision;
    }

    /** Which network a backend runs when a folder has both an export and model.safetensors. */
    public dev.vitserve.api.NetworkChoice networkFrom() {
        return networkFrom;
    }

    /** Intra-op threads of the engine. */
    public int threads() {
        return threads != null ? threads : cores();
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    /** Largest request body or fetched image, in bytes. */
    public long maxBodySize() {
        return maxBodySize;
    }

    /** Largest image, in pixels. */
    public long maxPixels() {
        return Math.round(maxMegapixels * 1_000_000);
    }

    /** Most pixels of all images of one request together. */
    public long maxRequestPixels() {
        return maxRequestMegapixels != null ? Math.round(maxRequestMegapixels * 1_000_000)
                : Math.max(160_000_000L, maxPixels());
    }

    /** CPU time one image may take to decode, in milliseconds. */
    public long maxDecodeMs() {
        return maxDecodeMs;
    }

    public int maxFiles() {
        return maxFiles;
    }

    public boolean allowPrivateUrls() {
        return allowPrivateUrls;
    }

    /** Hosts image URLs may come from; empty means any public host. */
    public List<String> urlAllow() {
        return List.copyOf(urlAllow);
    }

    /** Whether image URLs are fetched at all. */
    public boolean urlFetchEnabled() {
        return !noUrlFetch;
    }

    public Duration urlConnectTimeout() {
        return Duration.ofMillis(urlConnectTimeoutMs);
    }

    public Duration urlTimeout() {
        return Duration.ofMillis(urlTimeoutMs);
    }

    /** Largest batch; {@code gpu} says whether the engine runs on a GPU, which changes the default. */
    public int maxBatch(boolean gpu) {
        return maxBatch != null ? maxBatch : gpu ? 8 : 2;
    }

    /** Longest wait for a batch to fill, in milliseconds. */
    public int maxBatchDelayMs(boolean gpu) {
        return maxBatchDelayMs != null ? maxBatchDelayMs : gpu ? 5 : 0;
    }

    public int maxQueue() {
        return maxQueue;
    }

    public Duration maxQueueWait() {
        return Duration.ofMillis(maxQueueWaitMs);
    }

    public int maxRequests() {
        return maxRequests;
    }

    /** Longest a request may take to send its body. */
    public Duration bodyTimeout() {
        return Duration.ofMillis(bodyTimeoutMs);
    }

    /** Requests whose body may be arriving at once. */
    public int maxReceiving() {
        return maxReceiving;
    }

    /** Bytes the bodies still arriving may hold together. */
    public long maxReceivingSize() {
        return maxReceivingSize;
    }

    /** gRPC calls from one client address whose message is still arriving. */
    public int maxReceivingPerClient() {
        return maxReceivingPerClient;
    }

    /** Image URL fetches in progress at once. */
    public int maxUrlFetches() {
        return maxUrlFetches;
    }

    /** The memory budget in bytes: as given, else {@value dev.vitserve.core.memory.MemoryBudget#HEAP_PERCENT}% of the max heap. */
    public long memoryBudget() {
        return memoryBudget != null ? memoryBudget : dev.vitserve.core.memory.MemoryBudget.fromHeap();
    }

    /** Bytes of text embeddings each zero-shot model may keep ({@code --text-cache-size}). */
    public long textCacheSize() {
        return textCacheSize;
    }

    /** Whether {@code --memory-budget} was given (else it follows the heap). */
    public boolean memoryBudgetGiven() {
        return memoryBudget != null;
    }

    /** Open connections: as given, else half the file descriptor limit, at most 10000. */
    public int maxConnections() {
        if (maxConnections != null) {
            return maxConnections;
        }
        long descriptors = java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.UnixOperatingSystemMXBean unix ? unix.getMaxFileDescriptorCount() : 20_000;
        return (int) Math.max(64, Math.min(10_000, descriptors / 2));
    }

    /** Open connections from one client address. */
    public int maxConnectionsPerClient() {
        return maxConnectionsPerClient;
    }

    public Duration drainTimeout() {
        return Duration.ofMillis(drainTimeoutMs);
    }

    /** How long the server serves on after SIGTERM, not ready, before it drains. */
    public Duration shutdownGrace() {
        return Duration.ofMillis(shutdownGraceMs);
    }

    /** The API key clients must send, or empty. */
    /** The port of the gRPC service, when it is on. */
    public Optional<Integer> grpcPort() {
        return Optional.ofNullable(grpcPort);
    }

    public Optional<String> apiKey() {
        return Optional.ofNullable(apiKey).filter(key -> !key.isEmpty());
    }

    /** Origins allowed by CORS; empty means CORS is off. */
    public List<String> corsOrigins() {
        return List.copyOf(corsOrigins);
    }

    /** Inferences on a generated photo before the server reports ready; 0 for no warm-up. */
    public int warmupInferences() {
        return warmupInferences;
    }

    /** The preprocessing threads' priority if given; empty for the default. */
    public Optional<PreprocessPriority> preprocessPriority() {
        return Optional.ofNullable(preprocessPriority);
    }

    /**
     * Threads that decode and preprocess: as given, else every core when they run at idle priority
     * (they then only use cores the engine leaves idle), else half the cores.
     */
    public int preprocessThreads(PreprocessPriority priority) {
        if (preprocessThreads != null) {
            return preprocessThreads;
        }
        return priority == PreprocessPriority.IDLE ? cores() : Math.max(1, cores() / 2);
    }

    /** The PEM certificate chain to serve TLS with, if any (then {@link #tlsKey()} is there too). */
    public Optional<Path> tlsCertificate() {
        return Optional.ofNullable(tlsCert);
    }

    /** The PEM private key of {@link #tlsCertificate()}. */
    public Optional<Path> tlsKey() {
        return Optional.ofNullable(tlsKey);
    }

    /** Whether and how requests are logged. */
    public AccessLog.Format accessLog() {
        return accessLog;
    }

    /** How log lines are written. */
    public LogFormat logFormat() {
        return logFormat;
    }

    /** How log lines are written: for people or for log pipelines. */
    public enum LogFormat {
        /** Plain lines. */
        TEXT,
        /** One JSON object per line. */
        JSON
    }

    /** The config file read, if any. */
    public Path configFile() {
        return configFile;
    }

    /** Converts {@code --device} values. */
    static final class DeviceConverter implements ITypeConverter<DeviceRequest> {
        @Override
        public DeviceRequest convert(String value) {
            try {
                return DeviceRequest.parse(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** Converts {@code --network-from} values. */
    static final class NetworkChoiceConverter implements ITypeConverter<dev.vitserve.api.NetworkChoice> {
        @Override
        public dev.vitserve.api.NetworkChoice convert(String value) {
            try {
                return dev.vitserve.api.NetworkChoice.parse(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** Converts {@code --precision} values. */
    static final class PrecisionConverter implements ITypeConverter<Precision> {
        @Override
        public Precision convert(String value) {
            try {
                return Precision.parse(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    @Override
    public String toString() {
        return "models=" + models.stream().map(ModelSettings::name).toList() + " revision=" + revision + " backend="
                + backend + " device=" + device + " precision=" + precision.id() + " host=" + host
                + " port=" + port + (apiKey != null ? " api-key=(set)" : "");
    }
}
