package dev.vitserve.backend.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * Symmetric per-output-channel int8 quantization of linear layers: each output channel (a row of PyTorch's
 * [out, in] weight) gets the scale {@code max|w| / maxMagnitude} and its weights become {@code rint(w / scale)}, written
 * in the [in, out] layout that ONNX Runtime's integer matrix products take as their second input.
 */
final class WeightQuantizer {

    /**
     * Quantized weights.
     *
     * @param values int8 [inputs, outputs], row-major, in a direct buffer
     * @param scales float32 [outputs], in a direct buffer in native order
     * @param inputs rows of {@code values}
     * @param outputs columns of {@code values}
     */
    record Quantized(ByteBuffer values, FloatBuffer scales, int inputs, int outputs) {

        /** The weight as the integers stand for it: {@code values[i][o] * scales[o]}. */
        float dequantized(int input, int output) {
            return values.get(input * outputs + output) * scales.get(output);
        }
    }

    private WeightQuantizer() {
    }

    /**
     * Quantizes the PyTorch [out_k, inputs] weights of several layers that read the same input into one [inputs,
     * sum of out_k] matrix, their output channels side by side in the order given.
     *
     * @param weights row-major float32 values, each {@code outputs.get(k) * inputs} long
     * @param maxMagnitude 127, or 64 for 7-bit weights ({@link Int8WeightRange})
     */
    static Quantized quantize(List<FloatBuffer> weights, List<Integer> outputs, int inputs, int maxMagnitude) {
        int total = outputs.stream().mapToInt(Integer::intValue).sum();
        byte[] transposed = new byte[total * inputs];
        FloatBuffer scales = ByteBuffer.allocateDirect(total * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        float[] row = new float[inputs];
        int column = 0;
        for (int k = 0; k < weights.size(); k++) {
            FloatBuffer weight = weights.get(k).duplicate();
            if (weight.remaining() != (long) outputs.get(k) * inputs) {
                throw new IllegalArgumentException("weight " + k + " holds " + weight.remaining() + " values, not "
                        + outputs.get(k) + " x " + inputs);
            }
            for (int o = 0; o < outputs.get(k); o++, column++) {
                weight.get(row);
                float max = 0;
                for (float w : row) {
                    max = Math.max(max, Math.abs(w));
                }
                // an all-zero channel keeps scale 1: its integers are 0 either way, and no division by 0 happens
                float scale = max > 0 ? max / maxMagnitude : 1f;
                scales.put(column, scale);
                for (int i = 0; i < inputs; i++) {
                    long q = (long) Math.rint(row[i] / scale);
                    transposed[i * total + column] = (byte) Math.max(-maxMagnitude, Math.min(maxMagnitude, q));
                }
            }
        }
        ByteBuffer values = ByteBuffer.allocateDirect(transposed.length).put(transposed).flip();
        return new Quantized(values, scales, inputs, total);
    }
}
