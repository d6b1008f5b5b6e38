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
 * @param embeddingsWidth the width of that output, 0 without it
 * @param rollsOut whether the network takes {@code rollout_images} and gives {@code attention_rollout} (networks built
 *     from safetensors whose tokens attend globally)
 */
record OnnxSignature(String inputName, String outputName, long fixedBatchSize, String embeddingsName,
                     int embeddingsWidth, boolean rollsOut) {

    static final String PIXEL_INPUT = "pixel_values";
    static final String LOGITS_OUTPUT = "logits";
    /** The final-layernormed class token, as networks built from safetensors name it. */
    static final String EMBEDDINGS_OUTPUT = "embeddings";
    /** The images of a batch whose attention rollout is asked, int64 [explained], in networks built from safetensors. */
    static final String ROLLOUT_INPUT = "rollout_images";
    /** Their attention rollout over the patches, [explained, patches]. */
    static final String ROLLOUT_OUTPUT = "attention_rollout";

    /**
     * Reads and checks a session's input and output.
     *
     * @param file the network, for messages
     * @throws BackendException saying what the file has versus what config.json says
     */
    static OnnxSignature check(OrtSession session, VitConfig config, Path file) throws BackendException {
        try {
            Map<String, NodeInfo> inputs = new java.util.LinkedHashMap<>(session.getInputInfo());
            Map<String, NodeInfo> outputs = session.getOutputInfo();
            if (config.architecture().exported()) {
                return checkExported(inputs, outputs, config, file);
            }
            boolean rollsOut = inputs.containsKey(ROLLOUT_INPUT) && outputs.containsKey(ROLLOUT_OUTPUT);
            if (rollsOut) {
                inputs.remove(ROLLOUT_INPUT);
            }
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
            String embeddings = embeddings(outputs.get(EMBEDDINGS_OUTPUT), config.embeddingSize());
            return new OnnxSignature(input.getName(), output.getName(), inputShape[0] > 0 ? inputShape[0] : -1,
                    embeddings, embeddings == null ? 0 : config.embeddingSize(), rollsOut);
        } catch (OrtException e) {
            throw new BackendException("cannot read the inputs and outputs of " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The signature of an exported classifier of an architecture vitserve does not build, held to Optimum's: the one
     * input {@code pixel_values} [batch, num_channels, height, width] (its fixed dims the processor's size), the
     * output {@code logits} [batch, labels of config.json], and {@code embeddings} when one was found.
     */
    private static OnnxSignature checkExported(Map<String, NodeInfo> inputs, Map<String, NodeInfo> outputs,
                                               VitConfig config, Path file) throws BackendException {
        String expectedInput = PIXEL_INPUT + " [batch_size, " + config.numChannels() + ", " + config.imageHeight()
                + ", " + config.imageWidth() + "]";
        String expectedOutput = LOGITS_OUTPUT + " [batch_size, " + config.numLabels() + "]";
        String what = "the exported " + config.architecture().className() + " " + file;
        String how = "; vitserve serves an exported image classifier as Optimum writes it (optimum-cli export onnx"
                + " --task image-classification): one input " + expectedInput + " and an output " + expectedOutput;
        NodeInfo input = inputs.get(PIXEL_INPUT);
        if (input == null || inputs.size() != 1) {
            throw new BackendException(what + " takes " + describe(inputs) + how
                    + (input == null ? "; export it again with Optimum, or with torch.onnx.export(..., input_names=[\""
                    + PIXEL_INPUT + "\"])" : ""));
        }
        long[] inputShape = floatShape(input, file, "input");
        long[] expected = {-1, config.numChannels(), config.imageHeight(), config.imageWidth()};
        if (inputShape.length != 4 || !fixedDimsMatch(inputShape, expected, 1)) {
            throw new BackendException(what + " takes " + PIXEL_INPUT + " " + dims(inputShape) + ", but the model"
                    + " feeds it " + expectedInput + " (num_channels of config.json; height and width the size"
                    + " preprocessor_config.json resizes to)" + how);
        }
        NodeInfo output = outputs.get(LOGITS_OUTPUT);
        if (output == null) {
            throw new BackendException(what + " gives " + describe(outputs) + " but no " + LOGITS_OUTPUT + how
                    + "; export it again with Optimum, or with torch.onnx.export(..., output_names=[\"" + LOGITS_OUTPUT
                    + "\"])");
        }
        long[] outputShape = floatShape(output, file, "output");
        if (outputShape.length != 2 || (outputShape[1] > 0 && outputShape[1] != config.numLabels())) {
            throw new BackendException(what + " gives " + LOGITS_OUTPUT + " " + dims(outputShape) + ", but config.json"
                    + " has " + config.numLabels() + " labels in id2label, so vitserve expects " + expectedOutput
                    + ": serve the config.json the network was exported with (its id2label numbers every class)");
        }
        NodeInfo embeddingsOutput = outputs.get(EMBEDDINGS_OUTPUT);
        String embeddings = embeddings(embeddingsOutput, 0);
        int width = embeddings == null ? 0 : (int) ((TensorInfo) embeddingsOutput.getInfo()).getShape()[1];
        return new OnnxSignature(PIXEL_INPUT, LOGITS_OUTPUT, inputShape[0] > 0 ? inputShape[0] : -1, embeddings, width,
                false);
    }

    /** The tensors of a graph's inputs or outputs, with their shapes, for messages. */
    private static String describe(Map<String, NodeInfo> nodes) {
        StringBuilder text = new StringBuilder(nodes.size() + (nodes.size() == 1 ? " tensor" : " tensors"));
        String separator = ": ";
        for (NodeInfo node : nodes.values()) {
            text.append(separator).append(node.getName()).append(' ').append(node.getInfo() instanceof TensorInfo info
                    ? dims(info.getShape()) : node.getInfo().toString());
            separator = ", ";
        }
        return text.toString();
    }

    /** A shape with its dynamic dims as {@code ?}. */
    private static String dims(long[] shape) {
        StringBuilder text = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            text.append(i > 0 ? ", " : "").append(shape[i] > 0 ? Long.toString(shape[i]) : "?");
        }
        return text.append(']').toString();
    }

    /**
     * The embeddings output when it is a float32 [batch, width] tensor, else null.
     *
     * @param width the width it must have, or 0 for any fixed width
     */
    private static String embeddings(NodeInfo output, int width) {
        if (output == null || !(output.getInfo() instanceof TensorInfo info) || info.type != OnnxJavaType.FLOAT) {
            return null;
        }
        long[] shape = info.getShape();
        return shape.length == 2 && (width > 0 ? shape[1] == width : shape[1] > 0) ? output.getName() : null;
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
