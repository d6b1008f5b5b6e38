package dev.vitserve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Models of different shapes served at once by one server: each answers its own PyTorch reference
 * through its own route, on both backends, and the default model through the old route.
 */
@ExtendWith(VertxExtension.class)
class MultiModelParityTest {

    static final List<String> SHAPES = List.of("vit-shape-a", "vit-shape-b");
    static final Map<String, RunningServer> SERVERS = new HashMap<>();

    @BeforeAll
    static void start(Vertx vertx) throws Exception {
        for (String backend : List.of("onnx", "djl")) {
            SERVERS.put(backend, RunningServer.start(vertx, backend, "--device", "cpu", "--threads", "1",
                    "--warmup-inferences", "0",
                    "--model", "shapes/a=" + Fixtures.model("vit-shape-a"), "--model", Fixtures.model("vit-shape-b").toString()));
        }
    }

    @AfterAll
    static void stop() {
        SERVERS.values().forEach(RunningServer::close);
    }

    static String route(String fixture) {
        return fixture.equals("vit-shape-a") ? "/v1/models/shapes/a" : "/v1/models/" + fixture;
    }

    @ParameterizedTest
    @ValueSource(strings = {"onnx", "djl"})
    void eachModelGivesItsOwnReferenceLogitsThroughItsOwnRoute(String backend) throws Exception {
        RunningServer server = SERVERS.get(backend);
        for (String photo : Fixtures.photoNames()) {
            byte[] bytes = Fixtures.bytes(Fixtures.image(photo));
            for (String fixture : SHAPES) {
                float[] logits = ReferenceParityTest.logits(server.postImage(route(fixture)
                        + "/classify?function=none&top_k=1000", bytes, "image/*"));
                float[] expected = Fixtures.referenceLogits(fixture, photo);
                assertEquals(expected.length, logits.length, fixture);
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(expected[i], logits[i], ReferenceParityTest.LOGIT_TOLERANCE,
                            backend + " " + fixture + " " + photo + " logit " + i);
                }
            }
            float[] viaDefault = ReferenceParityTest.logits(server.postImage("/v1/classify?function=none&top_k=1000",
                    bytes, "image/*"));
            float[] expected = Fixtures.referenceLogits(photo);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], viaDefault[i], ReferenceParityTest.LOGIT_TOLERANCE, backend + " default " + photo);
            }
        }
    }
}
