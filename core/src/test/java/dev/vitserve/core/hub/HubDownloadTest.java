package dev.vitserve.core.hub;

import static dev.vitserve.core.hub.HubTestSupport.MODEL_FILES;
import static dev.vitserve.core.hub.HubTestSupport.REPO;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.model.LoadedModel;
import dev.vitserve.core.model.ModelLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Downloads from a stand-in Hub into huggingface_hub's cache layout, and the cache used again. */
@Timeout(60)
class HubDownloadTest extends StandInHubTest {

    @Test
    void downloadsIntoTheHuggingFaceCacheLayout() throws Exception {
        FakeHub.Repo repo = support.tinyVit();
        Path snapshot = support.resolver().resolve(REPO, "main");

        Path folder = support.repoFolder(REPO);
        assertEquals(support.cache.resolve("models--org--tiny-vit"), folder);
        assertEquals(folder.resolve("snapshots").resolve(repo.commit), snapshot);
        assertEquals(repo.commit, Files.readString(folder.resolve("refs").resolve("main")));
        for (String file : MODEL_FILES) {
            byte[] bytes = repo.files.get(file);
            String etag = file.endsWith(".safetensors") ? FakeHub.sha256(bytes) : FakeHub.gitSha1(bytes);
            Path pointer = snapshot.resolve(file);
            assertTrue(Files.isSymbolicLink(pointer), file + " is a symlink");
            assertEquals(Path.of("..", "..", "blobs", etag), Files.readSymbolicLink(pointer), file);
            assertArrayEquals(bytes, Files.readAllBytes(folder.resolve("blobs").resolve(etag)), file);
            assertArrayEquals(bytes, Files.readAllBytes(pointer), file);
        }
        try (Stream<Path> blobs = Files.list(folder.resolve("blobs"))) {
            assertEquals(3, blobs.count(), "three blobs and no .incomplete left");
        }

        List<String> calls = hub.requests.stream().map(r -> r.method() + " " + r.path()).toList();
        assertEquals(List.of(
                "HEAD /org/tiny-vit/resolve/main/config.json",
                "GET /org/tiny-vit/resolve/main/config.json",
                "HEAD /org/tiny-vit/resolve/" + repo.commit + "/preprocessor_config.json",
                "GET /org/tiny-vit/resolve/" + repo.commit + "/preprocessor_config.json",
                "HEAD /org/tiny-vit/resolve/" + repo.commit + "/model.safetensors",
                "GET /cdn/" + FakeHub.sha256(repo.files.get("model.safetensors"))), calls);

        LoadedModel model = ModelLoader.load(snapshot, REPO);
        assertEquals(10, model.labels().size());
        assertTrue(model.files().weights().isPresent(), "the safetensors weights are read from the snapshot");
    }

    @Test
    void aWarmStartRevalidatesWithOneHeadAndACommitHashWithNone() throws Exception {
        FakeHub.Repo repo = support.tinyVit();
        Path first = support.resolver().resolve(REPO, "main");
        hub.requests.clear();

        assertEquals(first, support.resolver().resolve(REPO, "main"));
        assertEquals(List.of(new FakeHub.Request("HEAD", "/org/tiny-vit/resolve/main/config.json", null, null, false)),
                hub.requests, "one HEAD for config.json; the other files are pinned to its commit and cached");

        hub.requests.clear();
        assertEquals(first, support.resolver().resolve(REPO, repo.commit));
        assertEquals(List.of(), hub.requests, "a commit hash whose snapshot is complete needs no request");
    }

    @Test
    void offlineModeUsesTheCacheWithoutASingleRequest() throws Exception {
        FakeHub.Repo repo = support.tinyVit();
        Path first = support.resolver().resolve(REPO, "main");
        hub.requests.clear();
        hub.close();

        assertEquals(first, support.resolver("HF_HUB_OFFLINE", "1").resolve(REPO, "main"));
        assertEquals(first, support.resolver("HF_HUB_OFFLINE", "true").resolve(REPO, repo.commit));
        assertEquals(List.of(), hub.requests);
    }

    @Test
    void offlineModeSaysWhatIsMissing() throws Exception {
        HubException nothing = assertThrows(HubException.class,
                () -> support.resolver("HF_HUB_OFFLINE", "1").resolve(REPO, "main"));
        assertEquals(HubException.Kind.NOT_IN_CACHE, nothing.kind());
        assertTrue(nothing.getMessage().startsWith("org/tiny-vit is not in the cache at " + support.cache
                + " and offline mode is on (HF_HUB_OFFLINE=1)"), nothing.getMessage());

        FakeHub.Repo repo = support.tinyVit();
        Path snapshot = support.resolver().resolve(REPO, "main");
        Files.delete(snapshot.resolve("model.safetensors"));
        HubException weights = assertThrows(HubException.class,
                () -> support.resolver("HF_HUB_OFFLINE", "1").resolve(REPO, "main"));
        assertTrue(weights.getMessage().startsWith("model.safetensors of org/tiny-vit at commit " + repo.commit
                + " is not in the cache"), weights.getMessage());

        HubException revision = assertThrows(HubException.class,
                () -> support.resolver("HF_HUB_OFFLINE", "1").resolve(REPO, "v2"));
        assertTrue(revision.getMessage().startsWith("revision v2 of org/tiny-vit is not in the cache"),
                revision.getMessage());
        assertEquals(0, hub.requests.stream().filter(r -> r.path().contains("v2")).count());
    }

    @Test
    void whenTheHubCannotBeReachedTheCachedSnapshotServes() throws Exception {
        support.tinyVit();
        Path first = support.resolver().resolve(REPO, "main");
        hub.close();

        assertEquals(first, support.resolver().resolve(REPO, "main"));
    }

    @Test
    void aCacheFilledByPythonIsUsedAsIs() throws Exception {
        FakeHub.Repo repo = support.tinyVit();
        // the layout hf_hub_download leaves, made by hand
        Path folder = support.repoFolder(REPO);
        Path snapshot = folder.resolve("snapshots").resolve(repo.commit);
        Files.createDirectories(snapshot);
        Files.createDirectories(folder.resolve("blobs"));
        Files.createDirectories(folder.resolve("refs"));
        Files.writeString(folder.resolve("refs").resolve("main"), repo.commit);
        for (String file : MODEL_FILES) {
            byte[] bytes = repo.files.get(file);
            String etag = file.endsWith(".safetensors") ? FakeHub.sha256(bytes) : FakeHub.gitSha1(bytes);
            Files.write(folder.resolve("blobs").resolve(etag), bytes);
            Files.createSymbolicLink(snapshot.resolve(file), Path.of("../../blobs/" + etag));
        }

        assertEquals(snapshot, support.resolver().resolve(REPO, "main"));
        assertEquals(List.of("HEAD"), hub.requests.stream().map(FakeHub.Request::method).toList());
        assertEquals(snapshot, support.resolver("HF_HUB_OFFLINE", "1").resolve(REPO, "main"));
        assertEquals(1, hub.requests.size());
    }

    @Test
    void aDownloadCutShortIsResumedWithRange() throws Exception {
        byte[] large = FakeHub.randomBytes(5 << 20, 7);
        hub.repo("org/big").add("large.bin", large);
        hub.cutsLeft.set(1);
        hub.cutAfter = 1_500_000;

        Path file = fetchLarge();

        assertArrayEquals(large, Files.readAllBytes(file));
        List<FakeHub.Request> cdn = hub.requestsTo("/cdn/");
        assertEquals(2, cdn.size(), cdn.toString());
        assertNull(cdn.get(0).range());
        assertTrue(cdn.get(1).range() != null && cdn.get(1).range().matches("bytes=\\d+-"), cdn.toString());
        long resumedAt = Long.parseLong(cdn.get(1).range().replaceAll("\\D", ""));
        assertTrue(resumedAt > 0 && resumedAt <= 1_500_000, "resumed at " + resumedAt);
        assertFalse(Files.exists(support.repoFolder("org/big").resolve("blobs")
                .resolve(FakeHub.sha256(large) + ".incomplete")));
        assertTrue(support.logLines.stream().anyMatch(line -> line.startsWith("large.bin of org/big: ")
                && line.contains("(100%)")), support.logLines.toString());
        assertTrue(support.statuses.stream().anyMatch(s -> s.startsWith("downloading org/big: large.bin ")),
                support.statuses.toString());
    }

    @Test
    void aPartialFileLeftByAnEarlierRunIsResumedFromItsSize() throws Exception {
        byte[] large = FakeHub.randomBytes(5 << 20, 8);
        hub.repo("org/big").add("large.bin", large);
        Path blobs = support.repoFolder("org/big").resolve("blobs");
        Files.createDirectories(blobs);
        byte[] half = new byte[2_000_000];
        System.arraycopy(large, 0, half, 0, half.length);
        Files.write(blobs.resolve(FakeHub.sha256(large) + ".incomplete"), half);

        Path file = fetchLarge();

        assertArrayEquals(large, Files.readAllBytes(file));
        List<FakeHub.Request> cdn = hub.requestsTo("/cdn/");
        assertEquals(1, cdn.size());
        assertEquals("bytes=2000000-", cdn.get(0).range());
    }

    @Test
    void aServerThatIgnoresRangeMakesTheDownloadStartOver() throws Exception {
        byte[] large = FakeHub.randomBytes(3 << 20, 9);
        hub.repo("org/big").add("large.bin", large);
        Path blobs = support.repoFolder("org/big").resolve("blobs");
        Files.createDirectories(blobs);
        Files.write(blobs.resolve(FakeHub.sha256(large) + ".incomplete"), new byte[1000]);
        hub.ignoreRange = true;

        assertArrayEquals(large, Files.readAllBytes(fetchLarge()));
    }

    @Test
    void aCorruptedDownloadIsRefusedDeletedAndNeverUsed() throws Exception {
        FakeHub.Repo repo = support.tinyVit();
        hub.corrupt = true;

        HubException e = assertThrows(HubException.class, () -> support.resolver().resolve(REPO, "main"));
        assertEquals(HubException.Kind.CORRUPTED, e.kind());
        String sha = FakeHub.sha256(repo.files.get("model.safetensors"));
        assertTrue(e.getMessage().startsWith("the download of model.safetensors of org/tiny-vit is corrupted: its "
                + "sha256 is "), e.getMessage());
        assertTrue(e.getMessage().contains("where the Hub announced " + sha + "; it was deleted and not used"),
                e.getMessage());
        Path folder = support.repoFolder(REPO);
        assertFalse(Files.exists(folder.resolve("snapshots").resolve(repo.commit).resolve("model.safetensors")));
        assertFalse(Files.exists(folder.resolve("blobs").resolve(sha)));
        assertFalse(Files.exists(folder.resolve("blobs").resolve(sha + ".incomplete")));

        hub.corrupt = false;
        Path snapshot = support.resolver().resolve(REPO, "main");
        assertArrayEquals(repo.files.get("model.safetensors"), Files.readAllBytes(snapshot.resolve("model.safetensors")));
    }

    @Test
    void theTokenGoesToTheHubOnlyNeverToAnotherHost() throws Exception {
        try (FakeHub elsewhere = FakeHub.start(vertx, true)) {
            HubTestSupport split = new HubTestSupport(vertx, elsewhere, temporary.resolve("split"));
            FakeHub.Repo repo = split.tinyVit();
            repo.requiredToken = "hf_secret_token";

            Path snapshot = split.resolver("HF_TOKEN", "hf_secret_token").resolve(REPO, "main");

            assertTrue(Files.isRegularFile(snapshot.resolve("model.safetensors")));
            List<FakeHub.Request> toHub = elsewhere.requests.stream().filter(r -> !r.cdn()).toList();
            List<FakeHub.Request> toCdn = elsewhere.requestsTo("/cdn/");
            assertEquals(5, toHub.size());
            assertTrue(toHub.stream().allMatch(r -> "Bearer hf_secret_token".equals(r.authorization())), toHub.toString());
            assertEquals(1, toCdn.size());
            assertNull(toCdn.get(0).authorization(), "no token for the CDN on another host");
            assertTrue(split.statuses.stream().noneMatch(s -> s.contains("hf_secret")));
            assertTrue(split.logLines.stream().noneMatch(s -> s.contains("hf_secret")));
        }
    }

    @Test
    void theTokenSavedByTheLoginIsUsedAndSentToTheSameHost() throws Exception {
        FakeHub.Repo repo = support.tinyVit();
        repo.requiredToken = "hf_saved_token";
        Files.createDirectories(support.home);
        Files.writeString(support.home.resolve("token"), "hf_saved_token\n");

        support.resolver().resolve(REPO, "main");

        assertTrue(hub.requests.stream().allMatch(r -> "Bearer hf_saved_token".equals(r.authorization())),
                "the CDN on the Hub's own host gets the token too, as with huggingface_hub: " + hub.requests);
    }

    private Path fetchLarge() throws Exception {
        HubSettings settings = support.settings();
        HubClient client = new HubClient(vertx, settings, Optional.empty());
        try {
            return support.files(client, settings, "org/big").fetch("main", "large.bin").path();
        } finally {
            client.close().await(10, TimeUnit.SECONDS);
        }
    }
}
