package dev.vitserve.backend.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.ModelWeights;
import dev.vitserve.api.VitConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Copies tensors of {@code model.safetensors}, checked against the shapes {@code config.json} implies, into arrays of
 * the network's manager, through one reused staging buffer. DJL wraps only direct {@link ByteBuffer}s without
 * copying, and {@link ModelWeights} hands out {@link FloatBuffer}s, so each tensor is copied once into libtorch's
 * memory; DJL would otherwise copy into a new direct buffer per tensor, which counts against the JVM's direct memory
 * limit and is freed only by the garbage collector.
 */
final class WeightReader {

    private final ModelWeights weights;
    private final VitConfig config;
    private final NDManager manager;
    /** What the names look like, for the message about a missing tensor. */
    private final String layout;
    private ByteBuffer staging = ByteBuffer.allocateDirect(0);

    /**
     * @param layout the parameter names the network needs, e.g. {@code vit.embeddings.*, vit.encoder.layer.N.*}
     */
    WeightReader(ModelWeights weights, VitConfig config, NDManager manager, String layout) {
        this.weights = weights;
        this.config = config;
        this.manager = manager;
        this.layout = layout;
    }

    NDManager manager() {
        return manager;
    }

    /** A tensor's values as they are in the file, checked. */
    float[] values(String name, long... shape) throws BackendException {
        FloatBuffer values = checked(name, shape).duplicate();
        float[] array = new float[values.remaining()];
        values.get(array);
        return array;
    }

    /** An array of the given values in the network's manager. */
    NDArray create(String name, float[] values, long... shape) {
        NDArray array = copy(FloatBuffer.wrap(values), new Shape(shape));
        array.setName(name);
        return array;
    }

    NDArray read(String name, long... shape) throws BackendException {
        NDArray array = copy(checked(name, shape).duplicate(), new Shape(shape));
        array.setName(name);
        return array;
    }

    private FloatBuffer checked(String name, long... shape) throws BackendException {
        if (!weights.contains(name)) {
            throw new BackendException(weights.file() + " has no tensor '" + name + "': vitserve builds Hugging Face's "
                    + config.architecture().className() + " and needs its parameters under their Hugging Face names ("
                    + layout + ")");
        }
        long[] found = weights.shape(name);
        if (!Arrays.equals(found, shape)) {
            throw new BackendException("tensor '" + name + "' in " + weights.file() + " has shape "
                    + Arrays.toString(found) + ", but config.json (" + summary() + ") needs " + Arrays.toString(shape));
        }
        try {
            return weights.floats(name);
        } catch (IllegalArgumentException e) {
            throw new BackendException("cannot read tensor '" + name + "' of " + weights.file() + ": " + e.getMessage(), e);
        }
    }

    private NDArray copy(FloatBuffer values, Shape shape) {
        int bytes = Math.toIntExact((long) values.remaining() * Float.BYTES);
        if (staging.capacity() < bytes) {
            staging = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
        }
        staging.clear().limit(bytes);
        staging.asFloatBuffer().put(values);
        // on the CPU this array is a view of the staging buffer, on a GPU already a copy in device memory
        NDArray staged = manager.create(staging, shape, DataType.FLOAT32);
        if (manager.getDevice().isGpu()) {
            return staged;
        }
        NDArray owned = staged.duplicate();
        staged.close();
        return owned;
    }

    private String summary() {
        return "hidden_size " + config.hiddenSize() + ", intermediate_size " + config.intermediateSize()
                + ", num_channels " + config.numChannels() + ", patch_size " + config.patchSize() + ", image size "
                + config.imageHeight() + "x" + config.imageWidth() + ", " + config.numLabels() + " labels";
    }
}
