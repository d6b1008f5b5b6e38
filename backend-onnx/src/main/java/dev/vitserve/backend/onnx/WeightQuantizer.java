package dev.vitserve.backend.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * Symmetric per-output-channel int8 quantization of linear layers: each output channel (a row of PyTorch's
 * [out, in] weight) gets the scale {@code max|w| / maxMagnitude} and its weights become {@code rint(w / scale)}, written
 * in the [in, out] layout that ONNX Runtime's integer matrix products take as their second input.
 *
 * <p>The columns can be padded with zero channels to a multiple of {@link #COLUMN_ALIGNMENT}: ONNX Runtime's AMX
 * kernel (MLAS {@code qgemm_kernel_amx.cpp}, 1.22 to 1.24) gives wrong sums, and garbage from memory, for a product of
 * 32 rows or more whose columns leave 17 to 31 after the 32-wide blocks; with whole 16-column tiles it is exact, and
 * so is every other kernel.
 */
final class WeightQuantizer {

    /**
     * Quantized weights.
     *
     * @param values int8 [inputs, outputs], row-major, in a direct buffer
     * @param scales float32 [outputs], in a direct buffer in native order
     * @param inputs rows of {@code values}
     * @param outputs columns of {@code values}, padding included
     * @param usedOutputs the columns that are the layers' channels; those after them are zero
     */
    record Quantized(ByteBuffer values, FloatBuffer scales, int inputs, int outputs, int usedOutputs) {

        /** Whether zero channels were added after the {@code usedOutputs} real ones. */
        boolean padded() {
            return outputs != usedOutputs;
        }

        /** The weight as the integers stand for it: {@code values[i][o] * scales[o]}. */
        float dequantized(int input, int output) {
            return values.get(input * outputs + output) * scales.get(output);
        }
    }

    /** The column multiple every kernel of ONNX Runtime 1.23 multiplies exactly: one AMX tile, 16 int32 columns. */
    static final int COLUMN_ALIGNMENT = 16;

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
        return quantize(weights, outputs, inputs, maxMagnitude, 1);
    }

    /**
     * As {@link #quantize(List, List, int, int)}, with zero channels (scale 1) added after the real ones until the
     * columns are a multiple of {@code columnMultiple}.
     */
    static Quantized quantize(List<FloatBuffer> weights, List<Integer> outputs, int inputs, int maxMagnitude,
                              int columnMultiple) {
        int used = outputs.stream().mapToInt(Integer::intValue).sum();
        int total = (used + columnMultiple - 1) / columnMultiple * columnMultiple;
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
        for (; column < total; column++) {
            scales.put(column, 1f);
        }
        ByteBuffer values = ByteBuffer.allocateDirect(transposed.length).put(transposed).flip();
        return new Quantized(values, scales, inputs, total, used);
    }
}
