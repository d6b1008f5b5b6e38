package dev.vitserve.core.http;

import dev.vitserve.core.ServerState;
import dev.vitserve.core.ServingModel;

/** Answers 503 with Retry-After while no model is serving. */
final class Readiness {

    private Readiness() {
    }

    static ServingModel require(ServerState state) {
        ServingModel serving = state.serving();
        if (serving == null) {
            throw ApiException.unavailable("not_ready", "the server is not ready: " + state.loadingStatus(), 5);
        }
        return serving;
    }
}
