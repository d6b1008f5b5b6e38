package dev.vitserve.backend.onnx;

import static dev.vitserve.backend.onnx.OnnxNodes.in;
import static dev.vitserve.backend.onnx.OnnxNodes.integer;

import dev.vitserve.api.BackendException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The int8 linear layers of every network vitserve builds (the ViT family's encoders and both CLIP towers): weights
 * quantized by {@link WeightQuantizer}, padded to whole 16-column tiles, run by ONNX Runtime's
 * {@code com.microsoft DynamicQuantizeMatMul}; counts the layers and the time their quantization took.
 */
final class QuantizedLinears {

    /** Reads a float32 tensor of the checkpoint after checking it has {@code shape}. */
    @FunctionalInterface
    interface Reader {
        FloatBuffer floats(String name, long... shape) throws BackendException;
    }

    private final OnnxNodes g;
    private final Map<String, VitGraph.Weight> supplied;
    private final Reader reader;
    private final Int8WeightRange range;
    private int layers;
    private long nanos;

    /**
     * @param supplied the builder's initializers from memory, which the quantized weights join
     */
    QuantizedLinears(OnnxNodes g, Map<String, VitGraph.Weight> supplied, Reader reader, Int8WeightRange range) {
        this.g = g;
        this.supplied = supplied;
        this.reader = reader;
        this.range = range;
    }

    /** How the quantized layers are encoded, for people: weights and activations. */
    static String encoding(Int8WeightRange range) {
        return "int8 weights, symmetric per output channel, " + (range.reduced() ? "7-bit (reduce_range)" : "8-bit")
                + "; uint8 activations quantized per tensor at run time";
    }

    /** The operators the quantized layers run on, and why their weights are that wide on this CPU. */
    static String operators(Int8WeightRange range) {
        return "com.microsoft DynamicQuantizeMatMul (query, key and value as one); " + range.reason();
    }

    /** How many linear layers were quantized. */
    int layers() {
        return layers;
    }

    /** The time spent quantizing their weights. */
    long nanos() {
        return nanos;
    }

    /**
     * Linear layers reading the same input, as one {@code DynamicQuantizeMatMul}: x quantized to uint8 per tensor at
     * run time, times the int8 weights of all layers side by side, scaled per output channel back to float32, plus the
     * biases; the product split back into the layers' outputs. The columns are padded to whole 16-column tiles
     * ({@link WeightQuantizer#COLUMN_ALIGNMENT}) and the padding cut off again, so that no width reaches the columns
     * ONNX Runtime's AMX kernel gets wrong. {@code name} names the new initializers.
     *
     * @return the output of each layer, in the order of {@code names}
     */
    String[] apply(String name, List<String> names, String x, List<Integer> outputs, int inputs, boolean bias)
            throws BackendException {
        List<FloatBuffer> floats = new ArrayList<>();
        for (int k = 0; k < names.size(); k++) {
            floats.add(reader.floats(names.get(k) + ".weight", outputs.get(k), inputs));
        }
        long start = System.nanoTime();
        WeightQuantizer.Quantized q = WeightQuantizer.quantize(floats, outputs, inputs, range.maxMagnitude(),
                WeightQuantizer.COLUMN_ALIGNMENT);
        nanos += System.nanoTime() - start;
        layers += names.size();
        String values = supply(name + ".weight_int8", VitGraph.Weight.int8s(q.values(), new long[] {inputs, q.outputs()}));
        String scales = supply(name + ".weight_scale", VitGraph.Weight.floats(q.scales(), new long[] {q.outputs()}));
        String product;
        if (!bias) {
            product = g.opIn(OnnxNodes.MICROSOFT, "DynamicQuantizeMatMul", in(x, values, scales));
        } else {
            String biasName = names.size() == 1 && !q.padded() ? names.get(0) + ".bias" : name + ".bias";
            String biases = supplied.containsKey(biasName) ? biasName
                    : supply(biasName, VitGraph.Weight.floats(concatenated(names, outputs, q.outputs()),
                            new long[] {q.outputs()}));
            product = g.opIn(OnnxNodes.MICROSOFT, "DynamicQuantizeMatMul", in(x, values, scales, "", biases));
        }
        return split(product, outputs, q.outputs());
    }

    private String supply(String name, VitGraph.Weight weight) {
        g.placeholder(name, weight);
        supplied.put(name, weight);
        return name;
    }

    /** The layers' outputs side by side in {@code product}, the padding after them dropped. */
    private String[] split(String product, List<Integer> outputs, int columns) {
        int used = outputs.stream().mapToInt(Integer::intValue).sum();
        if (outputs.size() == 1) {
            return new String[] {used == columns ? product
                    : g.op("Slice", in(product, g.int64s(0), g.int64s(used), g.int64s(-1)))};
        }
        long[] sizes = new long[outputs.size() + (used == columns ? 0 : 1)];
        for (int k = 0; k < outputs.size(); k++) {
            sizes[k] = outputs.get(k);
        }
        if (used != columns) {
            sizes[outputs.size()] = columns - used;
        }
        return Arrays.copyOf(g.ops("Split", sizes.length, in(product, g.int64s(sizes)), integer("axis", -1)),
                outputs.size());
    }

    /**
     * The biases of several layers one after the other, then zeros up to {@code columns}; a single unpadded layer's
     * bias as the file holds it.
     */
    private FloatBuffer concatenated(List<String> names, List<Integer> outputs, int columns) throws BackendException {
        if (names.size() == 1 && outputs.get(0) == columns) {
            return reader.floats(names.get(0) + ".bias", outputs.get(0));
        }
        FloatBuffer all = ByteBuffer.allocateDirect(columns * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        for (int k = 0; k < names.size(); k++) {
            all.put(reader.floats(names.get(k) + ".bias", outputs.get(k)).duplicate());
        }
        // a direct buffer starts zeroed: the padding's biases are 0
        return all.position(0);
    }
}
