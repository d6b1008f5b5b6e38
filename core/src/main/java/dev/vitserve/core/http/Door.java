package dev.vitserve.core.http;

import io.vertx.ext.web.Router;

/** One protocol's routes on the API listener (vitserve's REST API, Hugging Face's, the OIP's), mounted in order. */
public interface Door {

    /** Adds this door's routes to {@code router}, each behind the transport checks {@code routes} puts on it. */
    void mount(Router router, DoorRoutes routes);
}
