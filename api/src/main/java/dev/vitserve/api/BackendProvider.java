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
}
