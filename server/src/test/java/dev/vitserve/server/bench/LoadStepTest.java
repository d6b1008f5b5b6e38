package dev.vitserve.server.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class LoadStepTest {

    @Test
    void theServingOverheadIsTakenRoundByRoundSoThatAHostSlowingDownBetweenRoundsCancelsOut() {
        // the host got 40% slower after round 1: engine and latency move together within a round
        List<LoadStep> rounds = List.of(new LoadStep(5.0, 196, 210, 190, use(5.1, 0.97, 1.9, 194), ""),
                new LoadStep(3.6, 271, 290, 266, use(3.7, 0.99, 2.0, 275), ""),
                new LoadStep(3.5, 274, 300, 268, use(3.4, 0.93, 1.5, 265), "   (1 non-2xx, 0 socket errors)"));

        assertEquals(6, LoadStep.overheadOf(rounds), 1e-9);
        LoadStep median = LoadStep.medianOf(rounds);
        assertEquals(new LoadStep(3.6, 271, 290, 266, use(3.7, 0.97, 1.9, 265), "   (1 non-2xx, 0 socket errors)"), median);
    }

    private static ServerTimings.EngineUse use(double rate, double busy, double meanBatch, double msPerImage) {
        return new ServerTimings.EngineUse(rate, busy, meanBatch, msPerImage);
    }
}
