package dev.vitserve.api;

/**
 * A kind of inference engine that vitserve can use, found on the classpath with
 * {@link java.util.ServiceLoader} (list the class in
 * {@code META-INF/services/dev.vitserve.api.BackendProvider}).
 */
public interface BackendProvider {

    /** The id operators choose it by, as in {@code --backend onnx}: short, lower case, unique. */
    String id();

    /**
     * Loads the model for inference on the device the options ask for.
     *
     * @throws BackendException when the model cannot be loaded or the device is not available;
     *     the message names what is missing, for a person to read
     */
    Backend open(ModelFiles model, BackendOptions options) throws BackendException;

    /**
     * Refuses a precision this backend cannot run, before any model is fetched or loaded. By default only
     * {@link Precision#FP32} runs; {@link #open} must refuse the same, never run another precision instead.
     *
     * @throws BackendException naming what to use instead
     */
    default void checkPrecision(Precision precision) throws BackendException {
        if (precision != Precision.FP32) {
            throw new BackendException("backend '" + id() + "' runs --precision fp32 only, not " + precision.id()
                    + "; int8 runs on --backend onnx");
        }
    }
}
