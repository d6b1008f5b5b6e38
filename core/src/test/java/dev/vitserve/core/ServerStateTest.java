package dev.vitserve.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Readiness waits for the models and for the image decoders' warm-up, whichever comes last. */
class ServerStateTest {

    @Test
    void notReadyUntilTheDecodersAreWarmedUp() {
        ServerState state = new ServerState();
        state.started();
        assertFalse(state.ready(), "the models are loaded, the decoders are not warmed up yet");
        assertEquals("warming up the image decoders", state.loadingStatus());
        state.decodersWarmedUp();
        assertTrue(state.ready());
        assertEquals("ready", state.loadingStatus());
    }

    @Test
    void notReadyUntilTheModelsAreLoaded() {
        ServerState state = new ServerState();
        state.decodersWarmedUp();
        assertFalse(state.ready());
        assertEquals("starting", state.loadingStatus());
        state.started();
        assertTrue(state.ready());
    }
}
