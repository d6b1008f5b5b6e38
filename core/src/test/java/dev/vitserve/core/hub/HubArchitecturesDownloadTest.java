package dev.vitserve.core.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vitserve.core.model.LoadedModel;
import dev.vitserve.core.model.ModelLoader;
import dev.vitserve.testkit.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every architecture vitserve builds comes from a stand-in Hub as it does from a folder: config.json,
 * preprocessor_config.json and model.safetensors downloaded into the Hub cache, the same bytes, read as the same
 * architecture (the backends' tests hold the logits of those very files to the reference).
 */
class HubArchitecturesDownloadTest extends StandInHubTest {

    @ParameterizedTest
    @MethodSource("dev.vitserve.testkit.Fixtures#architectureModelNames")
    void anArchitectureIsDownloadedAndReadAsFromItsFolder(String name) throws Exception {
        Path fixture = Fixtures.model(name);
        String repo = "org/" + name;
        hub.repo(repo).addFrom(fixture, "config.json", "preprocessor_config.json", "model.safetensors");
        Path snapshot = support.resolver().resolve(repo, "main");
        assertArrayEquals(Files.readAllBytes(fixture.resolve("model.safetensors")),
                Files.readAllBytes(snapshot.resolve("model.safetensors")));
        LoadedModel downloaded = ModelLoader.load(snapshot, repo);
        LoadedModel local = ModelLoader.load(fixture, name);
        assertEquals(local.files().config(), downloaded.files().config());
        assertEquals(local.labels(), downloaded.labels());
        assertEquals(local.preprocessing(), downloaded.preprocessing());
    }
}
