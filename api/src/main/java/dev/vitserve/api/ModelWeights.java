package dev.vitserve.api;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Set;

/**
 * The named tensors of a model's weights file ({@code model.safetensors}), under Hugging Face's
 * parameter names, for backends that build the network themselves. Safe to read from several threads.
 */
public interface ModelWeights {

    /** The file the tensors come from. */
    Path file();

    /** Every tensor name in the file. */
    Set<String> names();

    /** Whether the file holds that tensor. */
    default boolean contains(String name) {
        return names().contains(name);
    }

    /**
     * The tensor's dimensions.
     *
     * @throws IllegalArgumentException naming the tensor and the file when it is missing
     */
    long[] shape(String name);

    /**
     * The tensor's values as float32 in row-major order, in a direct buffer in native order.
     * F32 tensors are a read-only view of the (memory-mapped) file, without a copy; F16 and BF16
     * tensors are converted into a new buffer.
     *
     * @throws IllegalArgumentException naming the tensor and the file when it is missing or not a float type
     */
    FloatBuffer floats(String name);
}
