package dev.vitserve.backend.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.VitConfig;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * The input and output a session is run with, checked against {@code config.json} when the model is
 * loaded, so a wrong export fails at start-up with a message instead of on the first request.
 *
 * @param inputName the pixel input, {@code pixel_values} in exports from Hugging Face models
 * @param outputName the logits output
 * @param fixedBatchSize the batch size the network is fixed to, or -1 when the batch axis is dynamic
 * @param embeddingsName the output {@code embeddings} [batch, hidden_size], or null when the network has none
 */
record OnnxSignature(String inputName, String outputName, long fixedBatchSize, String embeddingsName) {

    static final String PIXEL_INPUT = "pixel_values";
    static final String LOGITS_OUTPUT = "logits";
    /** The final-layernormed class token, as networks built from safetensors name it. */
    static final String EMBEDDINGS_OUTPUT = "embeddings";

    /**
     * Reads and checks a session's input and output.
     *
     * @param file the network, for messages
     * @throws BackendException saying what the file has versus what config.json says
     */
    static OnnxSignature check(OrtSession session, VitConfig config, Path file) throws BackendException {
        try {
            Map<String, NodeInfo> inputs = session.getInputInfo();
            Map<String, NodeInfo> outputs = session.getOutputInfo();
            if (inputs.size() != 1) {
                throw mismatch(file, "takes " + inputs.size() + " inputs " + inputs.keySet()
                        + ", vitserve feeds exactly one (" + PIXEL_INPUT + ")");
            }
            NodeInfo input = inputs.values().iterator().next();
            long[] inputShape = floatShape(input, file, "input");
            long[] expected = {-1, config.numChannels(), config.imageHeight(), config.imageWidth()};
            if (inputShape.length != 4 || !fixedDimsMatch(inputShape, expected, 1)) {
                throw mismatch(file, "input '" + input.getName() + "' has shape " + Arrays.toString(inputShape)
                        + " but config.json says [batch, " + config.numChannels() + ", " + config.imageHeight()
                        + ", " + config.imageWidth() + "] (num_channels, image_size)");
            }
            NodeInfo output = outputs.containsKey(LOGITS_OUTPUT) ? outputs.get(LOGITS_OUTPUT)
                    : outputs.values().iterator().next();
            long[] outputShape = floatShape(output, file, "output");
            long labels = outputShape.length == 0 ? 0 : outputShape[outputShape.length - 1];
            if (outputShape.length != 2 || (labels >= 0 && labels != config.numLabels())) {
                throw mismatch(file, "output '" + output.getName() + "' has shape " + Arrays.toString(outputShape)
                        + " but config.json says [batch, " + config.numLabels() + "] (" + config.numLabels() + " labels in id2label)");
            }
            return new OnnxSignature(input.getName(), output.getName(), inputShape[0] > 0 ? inputShape[0] : -1,
                    embeddings(outputs.get(EMBEDDINGS_OUTPUT), config));
        } catch (OrtException e) {
            throw new BackendException("cannot read the inputs and outputs of " + file + ": " + e.getMessage(), e);
        }
    }

    /** The embeddings output when it is a float32 [batch, hidden_size] tensor, else null. */
    private static String embeddings(NodeInfo output, VitConfig config) {
        if (output == null || !(output.getInfo() instanceof TensorInfo info) || info.type != OnnxJavaType.FLOAT) {
            return null;
        }
        long[] shape = info.getShape();
        return shape.length == 2 && shape[1] == config.embeddingSize() ? output.getName() : null;
    }

    private static long[] floatShape(NodeInfo node, Path file, String what) throws BackendException {
        if (!(node.getInfo() instanceof TensorInfo) || ((TensorInfo) node.getInfo()).type != OnnxJavaType.FLOAT) {
            throw mismatch(file, what + " '" + node.getName() + "' is " + node.getInfo() + ", vitserve needs a float32 tensor");
        }
        return ((TensorInfo) node.getInfo()).getShape();
    }

    /** Whether every fixed (positive) dim from {@code from} on equals the expected one. */
    private static boolean fixedDimsMatch(long[] actual, long[] expected, int from) {
        for (int i = from; i < actual.length; i++) {
            if (actual[i] > 0 && actual[i] != expected[i]) {
                return false;
            }
        }
        return true;
    }

    private static BackendException mismatch(Path file, String detail) {
        return new BackendException("the ONNX network " + file + " does not fit the model's config.json: it " + detail);
    }
}
