package dev.vitserve.backend.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Symmetric per-output-channel quantization: each weight within half a step of its channel's scale, nothing clipped. */
class WeightQuantizerTest {

    @Test
    void everyWeightIsWithinHalfAStepAndTheLargestHitsTheRangeEnd() {
        int outputs = 5;
        int inputs = 7;
        float[] weight = random(outputs * inputs, 1);
        for (int magnitude : new int[] {127, 64}) {
            WeightQuantizer.Quantized q = WeightQuantizer.quantize(List.of(FloatBuffer.wrap(weight)), List.of(outputs),
                    inputs, magnitude);
            assertEquals(inputs, q.inputs());
            assertEquals(outputs, q.outputs());
            for (int o = 0; o < outputs; o++) {
                float max = 0;
                int largest = 0;
                for (int i = 0; i < inputs; i++) {
                    float w = weight[o * inputs + i];
                    max = Math.max(max, Math.abs(w));
                    assertEquals(w, q.dequantized(i, o), q.scales().get(o) / 2 + 1e-7, "channel " + o + " input " + i);
                    int value = q.values().get(i * outputs + o);
                    assertTrue(Math.abs(value) <= magnitude);
                    largest = Math.max(largest, Math.abs(value));
                }
                assertEquals(max / magnitude, q.scales().get(o), 1e-9, "channel " + o);
                assertEquals(magnitude, largest, "the channel's largest weight maps to the end of the range");
            }
        }
    }

    @Test
    void layersSideBySideKeepTheirOwnScalesAndOrder() {
        float[] small = random(2 * 3, 2);
        float[] large = random(4 * 3, 3);
        for (int i = 0; i < large.length; i++) {
            large[i] *= 1000;
        }
        WeightQuantizer.Quantized q = WeightQuantizer.quantize(List.of(FloatBuffer.wrap(small), FloatBuffer.wrap(large)),
                List.of(2, 4), 3, 127);
        assertEquals(6, q.outputs());
        for (int i = 0; i < 3; i++) {
            for (int o = 0; o < 2; o++) {
                assertEquals(small[o * 3 + i], q.dequantized(i, o), q.scales().get(o) / 2 + 1e-7);
            }
            for (int o = 0; o < 4; o++) {
                assertEquals(large[o * 3 + i], q.dequantized(i, 2 + o), q.scales().get(2 + o) / 2 + 1e-4);
            }
        }
        assertTrue(q.scales().get(0) < 1e-2 && q.scales().get(2) > 1, "each channel has its own scale");
    }

    @Test
    void anAllZeroChannelStaysZero() {
        float[] weight = {0, 0, 0, 1, -2, 3};
        WeightQuantizer.Quantized q = WeightQuantizer.quantize(List.of(FloatBuffer.wrap(weight)), List.of(2), 3, 127);
        for (int i = 0; i < 3; i++) {
            assertEquals(0, q.values().get(i * 2));
            assertEquals(0f, q.dequantized(i, 0));
        }
        assertEquals(1f, q.scales().get(0));
    }

    private static float[] random(int count, long seed) {
        Random random = new Random(seed);
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }
}
