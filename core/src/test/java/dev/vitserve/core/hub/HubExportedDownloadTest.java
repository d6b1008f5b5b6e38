package dev.vitserve.core.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.model.LoadedModel;
import dev.vitserve.core.model.ModelLoader;
import dev.vitserve.testkit.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A Hub repository of an architecture vitserve does not build is downloaded with its ONNX export in Optimum's
 * layout instead of safetensors weights, from a stand-in Hub; without an export it is refused saying how to make one.
 */
class HubExportedDownloadTest extends StandInHubTest {

    private static final String CONVNEXT = "org/convnext-exported";

    @Test
    void anExportedClassifierIsDownloadedWithItsOnnxFileAndNoWeights() throws Exception {
        hub.repo(CONVNEXT).addFrom(Fixtures.model("convnext-exported"), "config.json", "preprocessor_config.json",
                "onnx/model.onnx");
        Path snapshot = support.resolver().resolve(CONVNEXT, "main");
        assertTrue(Files.isRegularFile(snapshot.resolve("onnx/model.onnx")));
        assertFalse(Files.exists(snapshot.resolve("model.safetensors")));
        assertTrue(hub.requests.stream().noneMatch(r -> r.path().endsWith("model.safetensors")),
                "no weights asked for: " + hub.requests);
        LoadedModel model = ModelLoader.load(snapshot, CONVNEXT);
        assertEquals("exported ONNX: ConvNextForImageClassification", model.files().config().architecture().describe());
        assertTrue(model.files().weights().isEmpty());
        // a warm start finds it all in the cache
        int asked = hub.requests.size();
        assertEquals(snapshot, support.resolver().resolve(CONVNEXT, "main"));
        assertTrue(hub.requests.size() - asked <= 2, "revalidation only: " + hub.requests.subList(asked, hub.requests.size()));
    }

    @Test
    void anUnbuiltArchitectureWithoutAnExportIsRefusedSayingHowToExportIt() throws Exception {
        hub.repo(CONVNEXT).addFrom(Fixtures.model("convnext-exported"), "config.json", "preprocessor_config.json");
        HubException e = assertThrows(HubException.class, () -> support.resolver().resolve(CONVNEXT, "main"));
        assertTrue(e.getMessage().startsWith(CONVNEXT + " is of an architecture vitserve does not build itself, and has"
                + " no onnx/model.onnx or model.onnx at revision main: export it with Optimum (optimum-cli export onnx"
                + " --model " + CONVNEXT + " --task image-classification <folder>)"), e.getMessage());
    }
}
