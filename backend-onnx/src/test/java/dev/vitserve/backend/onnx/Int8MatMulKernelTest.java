package dev.vitserve.backend.onnx;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ONNX Runtime's {@code DynamicQuantizeMatMul}, as the int8 network uses it (uint8 activations quantized per tensor,
 * int8 weights with per-column scales, columns padded to {@link WeightQuantizer#COLUMN_ALIGNMENT}), equals the exact
 * integer product on this CPU, whichever kernel it picks: every row count that reaches a different block of the
 * kernels (under and over 32 rows), odd inner sizes, every padded width up to 256, and wider ones to ViT-B's, on one and two threads.
 *
 * <p>Without the padding, the AMX kernel of ONNX Runtime 1.22 to 1.24 answers garbage for 32 rows or more when the
 * width leaves 17 to 31 columns after its 32-column blocks (measured on a Xeon with AMX-INT8: every such width from
 * 17 to 3092, every inner size); a CPU without AMX has no such kernel, so this test passes there either way.
 */
class Int8MatMulKernelTest {

    private static final int[] ROWS = {1, 31, 32, 33, 65, 197};
    private static final int[] INNER = {12, 20, 64, 768};

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void paddedWidthsGiveTheExactIntegerProduct(int threads) throws OrtException {
        List<Integer> widths = new ArrayList<>(IntStream.iterate(WeightQuantizer.COLUMN_ALIGNMENT, n -> n <= 256,
                n -> n + WeightQuantizer.COLUMN_ALIGNMENT).boxed().toList());
        widths.addAll(List.of(528, 768, 2304, 3072));
        Random random = new Random(3);
        List<String> wrong = new ArrayList<>();
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        for (int inner : INNER) {
            for (int width : widths) {
                if ((long) inner * width > 64 * 3072) {
                    continue; // ViT-B's inner size with its widest layers: as slow to check in Java as it adds nothing
                }
                byte[] weights = new byte[inner * width];
                for (int i = 0; i < weights.length; i++) {
                    weights[i] = (byte) (random.nextInt(255) - 127);
                }
                float[] scales = new float[width];
                for (int i = 0; i < width; i++) {
                    scales[i] = 0.01f + 0.001f * (i % 17);
                }
                try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
                    options.setIntraOpNumThreads(threads);
                    options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                    try (OrtSession session = environment.createSession(product(inner, width, weights, scales), options)) {
                        for (int rows : ROWS) {
                            float[] x = new float[rows * inner];
                            for (int i = 0; i < x.length; i++) {
                                x[i] = (float) random.nextGaussian();
                            }
                            float[] got;
                            try (OnnxTensor input = OnnxTensor.createTensor(environment, FloatBuffer.wrap(x),
                                    new long[] {rows, inner});
                                 OrtSession.Result result = session.run(Map.of("x", input))) {
                                got = ((OnnxTensor) result.get(0)).getFloatBuffer().array();
                            }
                            float[] exact = exactProduct(x, weights, scales, rows, inner, width);
                            double worst = 0;
                            double largest = 0;
                            for (int i = 0; i < exact.length; i++) {
                                worst = Math.max(worst, Math.abs(exact[i] - got[i]));
                                largest = Math.max(largest, Math.abs(exact[i]));
                            }
                            if (!(worst <= 1e-5 * largest)) {
                                wrong.add(rows + "x" + inner + " times " + inner + "x" + width + ": off by " + worst
                                        + " of " + largest);
                            }
                        }
                    }
                }
            }
        }
        assertTrue(wrong.isEmpty(), threads + " thread(s): " + wrong);
    }

    /** A graph of one {@code DynamicQuantizeMatMul} of input x [rows, inner] by the given weights. */
    private static byte[] product(int inner, int width, byte[] weights, float[] scales) {
        OnnxNodes g = new OnnxNodes("kernel-test");
        g.floatInput("x", "rows", (long) inner);
        g.initializer(TensorProto.newBuilder().setName("w").setDataType(TensorProto.DataType.INT8.getNumber())
                .addDims(inner).addDims(width).setRawData(ByteString.copyFrom(weights)).build());
        ByteBuffer scaleBytes = ByteBuffer.allocate(Float.BYTES * width).order(ByteOrder.LITTLE_ENDIAN);
        for (float s : scales) {
            scaleBytes.putFloat(s);
        }
        g.initializer(TensorProto.newBuilder().setName("s").setDataType(TensorProto.DataType.FLOAT.getNumber())
                .addDims(width).setRawData(ByteString.copyFrom(scaleBytes.array())).build());
        String y = g.opIn(OnnxNodes.MICROSOFT, "DynamicQuantizeMatMul", OnnxNodes.in("x", "w", "s"));
        g.opTo("y", "Identity", OnnxNodes.in(y));
        g.floatOutput("y", "rows", (long) width);
        return g.model("kernel-test", true).toByteArray();
    }

    /**
     * The product as ONNX Runtime defines it: x quantized to uint8 over [min(0, x), max(0, x)] with a rounded zero
     * point (DynamicQuantizeLinear), the integer dot products summed exactly, then scaled.
     */
    private static float[] exactProduct(float[] x, byte[] w, float[] scales, int rows, int inner, int width) {
        float min = 0;
        float max = 0;
        for (float v : x) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        float scale = (max - min) / 255f;
        int zeroPoint = (int) Math.max(0, Math.min(255, Math.rint(-min / scale)));
        int[] q = new int[x.length];
        for (int i = 0; i < x.length; i++) {
            q[i] = (int) Math.max(0, Math.min(255, Math.rint(x[i] / scale) + zeroPoint));
        }
        float[] y = new float[rows * width];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < width; c++) {
                long sum = 0;
                for (int k = 0; k < inner; k++) {
                    sum += (long) (q[r * inner + k] - zeroPoint) * w[k * width + c];
                }
                y[r * width + c] = sum * scale * scales[c];
            }
        }
        return y;
    }
}
