package dev.vitserve.core.hub;

import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** Base of the Hub tests: a Vert.x, the stand-in Hub and a private cache, fresh for every test. */
abstract class StandInHubTest {

    @TempDir
    Path temporary;

    Vertx vertx;
    FakeHub hub;
    HubTestSupport support;

    @BeforeEach
    void startHub() throws Exception {
        vertx = Vertx.vertx();
        hub = FakeHub.start(vertx, false);
        support = new HubTestSupport(vertx, hub, temporary);
    }

    @AfterEach
    void stopHub() throws Exception {
        hub.close();
        vertx.close().await(30, TimeUnit.SECONDS);
    }
}
