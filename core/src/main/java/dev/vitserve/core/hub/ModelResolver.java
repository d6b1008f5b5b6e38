package dev.vitserve.core.hub;

import dev.vitserve.core.hub.HubException.Kind;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns {@code --model} into a folder to load: an existing folder as it is, else a Hub id
 * ({@code org/name}) fetched into huggingface_hub's cache (or found there), whose snapshot folder is then
 * read like any local folder. Blocks the calling thread, which must not be an event loop.
 */
public final class ModelResolver {

    private static final Logger LOG = LoggerFactory.getLogger(ModelResolver.class);
    static final long RETRY_DELAY_MS = 1000;

    private final Vertx vertx;
    private final HubSettings settings;
    private final Consumer<String> status;
    private final DownloadProgress.Output progressOutput;
    private final LongSupplier clock;
    private final long retryDelayMs;

    /**
     * @param status receives what is going on ("downloading google/vit-base-patch16-224: model.safetensors 40% ..."),
     *     for {@code /health/ready}
     */
    public ModelResolver(Vertx vertx, HubSettings settings, Consumer<String> status) {
        this(vertx, settings, status, DownloadProgress.Output.forThisProcess(), System::nanoTime, RETRY_DELAY_MS);
    }

    ModelResolver(Vertx vertx, HubSettings settings, Consumer<String> status, DownloadProgress.Output progressOutput,
                  LongSupplier clock, long retryDelayMs) {
        this.vertx = vertx;
        this.settings = settings;
        this.status = status;
        this.progressOutput = progressOutput;
        this.clock = clock;
        this.retryDelayMs = retryDelayMs;
    }

    /**
     * The folder to load.
     *
     * @param model a folder or a Hub id
     * @param revision a branch, tag or commit hash of the Hub repository (ignored for a folder)
     */
    public Path resolve(String model, String revision) throws HubException {
        return resolve(model, revision, true);
    }

    /**
     * As {@link #resolve(String, String)}; with {@code folders} false the model is a Hub id only, even where a folder
     * of that name exists.
     */
    public Path resolve(String model, String revision, boolean folders) throws HubException {
        Optional<Path> folder = folders ? existingFolder(model) : Optional.empty();
        if (folder.isPresent()) {
            return folder.get();
        }
        RepoId repo = RepoId.parse(model).orElseThrow(() -> new HubException(Kind.OTHER, looksLikePath(model)
                ? "model folder " + model + " does not exist"
                : "--model '" + model + "' is neither an existing folder nor a Hugging Face Hub id such as "
                + "google/vit-base-patch16-224"));
        checkRevision(revision);
        LOG.info("model {} at revision {}: {} (cache {})", repo, revision, settings.offline()
                ? "from the cache only (HF_HUB_OFFLINE=1)" : "from " + settings.endpoint(), settings.cacheDir());
        HubClient client = new HubClient(vertx, settings, settings.offline() ? Optional.empty() : settings.token());
        try {
            HubFileFetcher files = new HubFileFetcher(client, settings, repo, status, progressOutput, clock,
                    retryDelayMs);
            Path snapshot = new HubModelFetcher(files, repo).fetch(revision);
            LOG.info("model {} at revision {} is in {}", repo, revision, snapshot);
            return snapshot;
        } catch (HubException e) {
            if (e.kind() == Kind.REPO_NOT_FOUND) {
                throw new HubException(e.kind(), e.getMessage() + " (there is no local folder " + model + " either)",
                        e);
            }
            throw e;
        } finally {
            try {
                client.close().await();
            } catch (RuntimeException e) {
                LOG.debug("closing the Hub client: {}", e.getMessage());
            }
        }
    }

    private static Optional<Path> existingFolder(String model) {
        try {
            Path path = Path.of(model);
            return Files.isDirectory(path) ? Optional.of(path) : Optional.empty();
        } catch (InvalidPathException e) {
            return Optional.empty();
        }
    }

    /** Whether a model name is written as a path (absolute, ./, ~, backslashes, or more than one /), not a Hub id. */
    public static boolean looksLikePath(String model) {
        return model.startsWith("/") || model.startsWith(".") || model.startsWith("~") || model.contains("\\")
                || model.chars().filter(c -> c == '/').count() > 1;
    }

    private static void checkRevision(String revision) throws HubException {
        boolean safe = revision != null && !revision.isBlank() && !revision.startsWith("/") && !revision.endsWith("/")
                && !revision.contains("..") && !revision.contains("\\") && !revision.contains("//")
                && revision.chars().noneMatch(c -> c < 0x20 || c == 0x7f);
        if (!safe) {
            throw new HubException(Kind.OTHER, "--revision '" + revision + "' is not a branch, tag or commit hash");
        }
    }
}
