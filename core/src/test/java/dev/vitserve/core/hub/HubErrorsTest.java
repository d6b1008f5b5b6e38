package dev.vitserve.core.hub;

import static dev.vitserve.core.hub.HubTestSupport.REPO;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.hub.HubException.Kind;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.http.HttpServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/** Every way fetching a model can fail says, in one sentence, what went wrong and what to do. */
@Timeout(60)
class HubErrorsTest extends StandInHubTest {

    @Test
    void anUnknownRepositorySaysSoAndMentionsTheToken() {
        HubException anonymous = failure(() -> support.resolver().resolve("org/no-such-model", "main"));
        assertEquals(Kind.REPO_NOT_FOUND, anonymous.kind());
        assertEquals("repository org/no-such-model was not found on " + hub.endpoint() + " (HTTP 401): check the id, "
                + "and if it is private set HF_TOKEN to a token that may read it (there is no local folder "
                + "org/no-such-model either)", anonymous.getMessage());

        HubException withToken = failure(() -> support.resolver("HF_TOKEN", "hf_abc").resolve("org/no-such-model", "main"));
        assertEquals("repository org/no-such-model was not found on " + hub.endpoint() + " (HTTP 404): check the id, "
                + "and that the token in HF_TOKEN may read it if it is private (there is no local folder "
                + "org/no-such-model either)", withToken.getMessage());
        assertFalse(withToken.getMessage().contains("hf_abc"));
    }

    @Test
    void aPrivateRepositoryWithoutTheRightTokenAsksForOne() {
        support.tinyVit().requiredToken = "hf_right";
        HubException e = failure(() -> support.resolver().resolve(REPO, "main"));
        assertTrue(e.getMessage().contains("if it is private set HF_TOKEN to a token that may read it"), e.getMessage());
        HubException wrong = failure(() -> support.resolver("HF_TOKEN", "hf_wrong").resolve(REPO, "main"));
        assertTrue(wrong.getMessage().contains("that the token in HF_TOKEN may read it"), wrong.getMessage());
    }

    @Test
    void aGatedModelSaysToAcceptItsTerms() {
        support.tinyVit().gated = true;
        HubException e = failure(() -> support.resolver().resolve(REPO, "main"));
        assertEquals(Kind.ACCESS, e.kind());
        assertEquals("org/tiny-vit is a gated model (HTTP 401): accept its terms on " + hub.endpoint() + "/org/tiny-vit "
                + "while logged in, then set HF_TOKEN to a token of that account", e.getMessage());
    }

    @Test
    void aMissingFileOrRevisionIsNamed() {
        hub.repo(REPO).addFrom(Fixtures.tinyVit(), "config.json", "model.safetensors");
        HubException file = failure(() -> support.resolver().resolve(REPO, "main"));
        assertEquals(Kind.ENTRY_NOT_FOUND, file.kind());
        assertTrue(file.getMessage().startsWith("org/tiny-vit has no preprocessor_config.json at revision main: "
                + "vitserve needs it to prepare images exactly as Hugging Face does"), file.getMessage());

        HubException revision = failure(() -> support.resolver().resolve(REPO, "v9"));
        assertEquals(Kind.REVISION_NOT_FOUND, revision.kind());
        assertEquals("revision 'v9' does not exist in org/tiny-vit: check --revision (a branch, a tag or a full "
                + "commit hash)", revision.getMessage());
    }

    @Test
    void pytorchOnlyWeightsSayHowToConvert() {
        FakeHub.Repo repo = hub.repo(REPO).addFrom(Fixtures.tinyVit(), "config.json", "preprocessor_config.json")
                .add("pytorch_model.bin", new byte[] {1, 2, 3});
        HubException e = failure(() -> support.resolver().resolve(REPO, "main"));
        assertEquals(Kind.UNSUPPORTED, e.kind());
        assertTrue(e.getMessage().startsWith("org/tiny-vit has only PyTorch weights (pytorch_model.bin) and vitserve "
                + "reads safetensors weights only: convert them"), e.getMessage());
        List<String> heads = hub.requests.stream().filter(r -> r.method().equals("HEAD")).map(FakeHub.Request::path)
                .toList();
        assertTrue(heads.contains("/org/tiny-vit/resolve/" + repo.commit + "/pytorch_model.bin"), heads.toString());
        assertFalse(hub.requests.stream().anyMatch(r -> r.method().equals("GET") && r.path().endsWith(".bin")),
                "the PyTorch weights are only looked at, never downloaded");
        assertTrue(Files.exists(support.repoFolder(REPO).resolve(".no_exist").resolve(repo.commit)
                .resolve("model.safetensors")), "the missing file is remembered as huggingface_hub does");

        HubException offline = failure(() -> support.resolver("HF_HUB_OFFLINE", "1").resolve(REPO, "main"));
        assertEquals(Kind.ENTRY_NOT_FOUND, offline.kind());
        assertTrue(offline.getMessage().startsWith("org/tiny-vit has no model.safetensors at revision "),
                offline.getMessage());
    }

    @Test
    void shardedWeightsAreNotSupportedYet() {
        hub.repo(REPO).addFrom(Fixtures.tinyVit(), "config.json", "preprocessor_config.json")
                .add("model.safetensors.index.json", "{\"weight_map\": {}}".getBytes())
                .add("model-00001-of-00002.safetensors", new byte[] {1});
        HubException e = failure(() -> support.resolver().resolve(REPO, "main"));
        assertEquals(Kind.UNSUPPORTED, e.kind());
        assertTrue(e.getMessage().startsWith("org/tiny-vit keeps its weights in several safetensors files "
                + "(model.safetensors.index.json), which vitserve does not support yet"), e.getMessage());
    }

    @Test
    void aModelThatIsNeitherAFolderNorAnIdIsRefusedBeforeAnyRequest() {
        assertEquals("--model 'vit-base' is neither an existing folder nor a Hugging Face Hub id such as "
                + "google/vit-base-patch16-224", failure(() -> support.resolver().resolve("vit-base", "main")).getMessage());
        assertEquals("model folder ./models/vit does not exist",
                failure(() -> support.resolver().resolve("./models/vit", "main")).getMessage());
        assertEquals("model folder /no/such/folder does not exist",
                failure(() -> support.resolver().resolve("/no/such/folder", "main")).getMessage());
        assertTrue(failure(() -> support.resolver().resolve("org/a--b", "main")).getMessage()
                .contains("neither an existing folder nor a Hugging Face Hub id"));
        assertEquals("--revision '../../etc' is not a branch, tag or commit hash",
                failure(() -> support.resolver().resolve(REPO, "../../etc")).getMessage());
        assertEquals(List.of(), hub.requests);
    }

    @Test
    void anExistingFolderWinsAndNeedsNoHub() throws Exception {
        assertEquals(Fixtures.tinyVit(), support.resolver().resolve(Fixtures.tinyVit().toString(), "main"));
        Path relative = temporary.resolve("org").resolve("tiny-vit");
        Files.createDirectories(relative);
        assertEquals(relative, support.resolver().resolve(relative.toString(), "main"));
        assertEquals(List.of(), hub.requests);
    }

    @Test
    void noNetworkSaysSoAndPointsAtOfflineMode() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        HubException e = failure(() -> support.resolver("HF_ENDPOINT", "http://127.0.0.1:" + closedPort)
                .resolve(REPO, "main"));
        assertEquals(Kind.NETWORK, e.kind());
        assertEquals("cannot reach the Hub at http://127.0.0.1:" + closedPort + " to fetch config.json of org/tiny-vit "
                + "(connection refused): check the network, proxy and HF_ENDPOINT, or, if this model was downloaded "
                + "before, set HF_HUB_OFFLINE=1 to serve it from the cache (" + support.cache + ")", e.getMessage());
    }

    @Test
    void somethingElseThanTheHubAtTheEndpointIsRecognised() throws Exception {
        HttpServer notHub = vertx.createHttpServer().requestHandler(request -> request.response().end("hello"));
        notHub.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
        try {
            HubException e = failure(() -> support.resolver("HF_ENDPOINT", "http://127.0.0.1:" + notHub.actualPort())
                    .resolve(REPO, "main"));
            assertEquals(Kind.NOT_A_HUB, e.kind());
            assertTrue(e.getMessage().contains("without the Hub's X-Repo-Commit header, so it does not look like the "
                    + "Hugging Face Hub: check HF_ENDPOINT"), e.getMessage());
        } finally {
            notHub.close().await(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aHubThatIsDownSaysSo() throws Exception {
        HttpServer down = vertx.createHttpServer().requestHandler(request -> request.response().setStatusCode(503).end());
        down.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
        try {
            String endpoint = "http://127.0.0.1:" + down.actualPort();
            HubException e = failure(() -> support.resolver("HF_ENDPOINT", endpoint).resolve(REPO, "main"));
            assertEquals(Kind.SERVER, e.kind());
            assertEquals(endpoint + " answered HTTP 503 for config.json of org/tiny-vit: the Hub may be down, try again "
                    + "later, or set HF_HUB_OFFLINE=1 to serve a copy already in the cache", e.getMessage());
        } finally {
            down.close().await(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aFullDiskNamesTheFolderAndTheSpaceNeeded() {
        Path blob = Path.of("/cache/models--org--x/blobs/abc.incomplete");
        HubException full = DiskErrors.writeFailure(blob, 346L << 20, new IOException("No space left on device"));
        assertEquals(Kind.DISK_FULL, full.kind());
        assertEquals("the disk holding /cache/models--org--x/blobs is full (No space left on device) with 346 MB of "
                + "abc.incomplete still to write: free some space or point HF_HUB_CACHE (or HF_HOME) at a bigger disk, "
                + "then start again to resume", full.getMessage());
        assertEquals("not enough disk space in /cache/models--org--x/blobs for model.safetensors of org/x: it needs "
                + "330 MB more, 12 MB are free; free some space or point HF_HUB_CACHE (or HF_HOME) at a bigger disk",
                DiskErrors.shortage(blob.getParent(), 330L << 20, 12L << 20, "model.safetensors of org/x").orElseThrow());
        assertTrue(DiskErrors.shortage(blob.getParent(), 10, 11, "x").isEmpty());
    }

    private static HubException failure(Executable action) {
        return assertThrows(HubException.class, action);
    }
}
