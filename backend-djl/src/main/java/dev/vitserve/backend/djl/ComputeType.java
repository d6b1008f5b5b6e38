package dev.vitserve.backend.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.JniUtils;
import dev.vitserve.api.BackendException;
import java.io.IOException;
import java.io.InputStream;

/**
 * The data type a network computes in (float32, bfloat16 or float16), and the three operations that need to name
 * it: casting weights and pixels in, casting logits out, and softmax.
 *
 * <p>DJL 0.36's PyTorch JNI maps no bfloat16 type: {@code toType(BFLOAT16)}, or a softmax of a bfloat16 array (DJL
 * passes the array's type along), ends the process in {@code std::terminate}. Every other op the networks use takes
 * no type and runs on bfloat16 arrays as they are, so in bfloat16 those three go through {@code half-ops.pt}, a
 * TorchScript module of four lines ({@code testkit/tools/make-half-ops.py} writes it). DJL reports such arrays'
 * type as {@code UNKNOWN}.
 */
final class ComputeType {

    private static final String HALF_OPS = "half-ops.pt";
    private static final int TO_BF16 = 0;
    private static final int TO_FP32 = 2;
    private static final int SOFTMAX = 3;

    private final DataType dataType;
    /** The TorchScript helper, in bfloat16 only. */
    private final PtSymbolBlock halfOps;

    private ComputeType(DataType dataType, PtSymbolBlock halfOps) {
        this.dataType = dataType;
        this.halfOps = halfOps;
    }

    /**
     * The compute type of a network whose weights live in {@code manager} (closing it frees the helper too).
     *
     * @throws BackendException when the helper module cannot be read
     */
    static ComputeType of(DataType dataType, NDManager manager) throws BackendException {
        if (dataType != DataType.BFLOAT16) {
            return new ComputeType(dataType, null);
        }
        try (InputStream module = ComputeType.class.getResourceAsStream(HALF_OPS)) {
            if (module == null) {
                throw new BackendException(HALF_OPS + " is missing from the djl backend's jar");
            }
            return new ComputeType(dataType, JniUtils.loadModule((PtNDManager) manager, module, true, false));
        } catch (IOException | RuntimeException e) {
            throw new BackendException("the djl backend cannot load its bfloat16 helper " + HALF_OPS + ": "
                    + e.getMessage(), e);
        }
    }

    /** float32, bfloat16 or float16. */
    DataType dataType() {
        return dataType;
    }

    /** A float32 array in the compute type (itself in float32). */
    NDArray in(NDArray float32) {
        return switch (dataType) {
            case FLOAT32 -> float32;
            case BFLOAT16 -> run(float32, TO_BF16);
            default -> float32.toType(dataType, false);
        };
    }

    /** An array of the compute type back in float32 (itself in float32). */
    NDArray out(NDArray computed) {
        return switch (dataType) {
            case FLOAT32 -> computed;
            case BFLOAT16 -> run(computed, TO_FP32);
            default -> computed.toType(DataType.FLOAT32, false);
        };
    }

    /** Softmax over the last axis, in the compute type (libtorch accumulates a bfloat16 softmax in float32). */
    NDArray softmax(NDArray scores) {
        return dataType == DataType.BFLOAT16 ? run(scores, SOFTMAX) : scores.softmax(-1);
    }

    /** One op of the helper, through IValues: DJL would hand an NDList of named arrays (weights) over as a dict. */
    private NDArray run(NDArray x, int code) {
        try (IValue input = IValue.from((PtNDArray) x); IValue op = IValue.from((long) code);
                IValue output = halfOps.forward(input, op)) {
            return output.toTensor((PtNDManager) x.getManager());
        }
    }
}
