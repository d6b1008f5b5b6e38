package dev.vitserve.core.hub;

import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/** What the Hub tests share: the stand-in Hub, a cache in a temporary folder, resolvers pointed at both. */
final class HubTestSupport {

    static final String REPO = "org/tiny-vit";
    static final String[] MODEL_FILES = {"config.json", "preprocessor_config.json", "model.safetensors"};

    final Vertx vertx;
    final FakeHub hub;
    final Path home;
    final Path cache;
    final List<String> statuses = new CopyOnWriteArrayList<>();
    final List<String> logLines = new CopyOnWriteArrayList<>();

    HubTestSupport(Vertx vertx, FakeHub hub, Path temporary) {
        this.vertx = vertx;
        this.hub = hub;
        this.home = temporary.resolve("hf-home");
        this.cache = temporary.resolve("hub-cache");
    }

    /** Serves the tiny fixture model as {@link #REPO}. */
    FakeHub.Repo tinyVit() {
        return hub.repo(REPO).addFrom(Fixtures.tinyVit(), MODEL_FILES);
    }

    /** The environment a test runs with: the stand-in as HF_ENDPOINT, a private cache and HF_HOME, plus extras. */
    Map<String, String> env(String... extra) {
        Map<String, String> env = new HashMap<>(Map.of("HF_ENDPOINT", hub.endpoint(), "HF_HUB_CACHE",
                cache.toString(), "HF_HOME", home.toString()));
        for (int i = 0; i < extra.length; i += 2) {
            env.put(extra[i], extra[i + 1]);
        }
        return env;
    }

    HubSettings settings(String... extra) {
        return HubSettings.fromEnvironment(env(extra));
    }

    ModelResolver resolver(String... extra) {
        return new ModelResolver(vertx, settings(extra), statuses::add,
                new DownloadProgress.Output(null, logLines::add), System::nanoTime, 10);
    }

    /** Fetches single files of a repository, as the model fetcher does, with the given token. */
    HubFileFetcher files(HubClient client, HubSettings settings, String repo) {
        return new HubFileFetcher(client, settings, RepoId.parse(repo).orElseThrow(), statuses::add,
                new DownloadProgress.Output(null, logLines::add), System::nanoTime, 10);
    }

    Path repoFolder(String repo) {
        return cache.resolve(RepoId.parse(repo).orElseThrow().cacheFolderName());
    }
}
