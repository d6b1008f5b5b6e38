package dev.vitserve.server.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ServerTimingsTest {

    private static String page(double batches, double images, double inferenceSeconds) {
        return "# TYPE vitserve_inference_seconds summary\n"
                + "vitserve_inference_seconds_count " + batches + "\n"
                + "vitserve_inference_seconds_sum " + inferenceSeconds + "\n"
                + "vitserve_inference_seconds_max 0.41\n"
                + "vitserve_batch_size_count " + batches + "\n"
                + "vitserve_batch_size_sum " + images + "\n"
                + "vitserve_decode_seconds_count " + images + "\n"
                + "vitserve_decode_seconds_sum " + images * 0.002 + "\n";
    }

    @Test
    void theEngineUseBetweenTwoReadingsGivesTheServersRateItsBusyShareAndItsSpeed() {
        ServerTimings first = ServerTimings.parse(page(100, 190, 40.0), 0);
        // 10 s later: 25 batches of 2 (but one of 1) took 9.8 s of engine time
        ServerTimings second = ServerTimings.parse(page(125, 239, 49.8), 10_000_000_000L);

        ServerTimings.EngineUse use = second.engineUseSince(first);

        assertEquals(4.9, use.imagesPerSecond(), 1e-9);
        assertEquals(0.98, use.busy(), 1e-9);
        assertEquals(49 / 25.0, use.meanBatch(), 1e-9);
        assertEquals(200, use.msPerImage(), 1e-9);
        assertEquals(2.0, second.meanMsSince(first, "decode"), 1e-9);
    }

    @Test
    void anIdleWindowHasNoBatchSizeOrSpeedRatherThanADivisionByZero() {
        ServerTimings first = ServerTimings.parse(page(7, 7, 1.4), 0);
        ServerTimings.EngineUse use = ServerTimings.parse(page(7, 7, 1.4), 1_000_000_000L).engineUseSince(first);

        assertEquals(0, use.imagesPerSecond());
        assertEquals(0, use.busy());
        assertEquals(Double.NaN, use.meanBatch());
        assertEquals(Double.NaN, use.msPerImage());
    }
}
