package dev.vitserve.backend.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.ModelWeights;
import dev.vitserve.api.NetworkBuild;
import dev.vitserve.api.Precision;
import dev.vitserve.api.arch.Architectures;
import dev.vitserve.api.arch.Exported;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where a model's ONNX network comes from: a file exported next to {@code config.json}, or else a
 * network built in memory from {@code config.json} and {@code model.safetensors}.
 */
interface OnnxGraphSource {

    /** Where exported networks are looked for, relative to the model folder, in order. */
    String[] EXPORTED_FILES = Exported.FILES.toArray(String[]::new);

    /** The weights file the network is built from when there is no exported one. */
    String SAFETENSORS = "model.safetensors";

    /** The file the weights are read from, as people should see it. */
    Path weightsFile();

    /** How the network was obtained, for the log: {@code exported file} or {@code built from model.safetensors}. */
    String origin();

    /** Creates an ONNX Runtime session for the network. */
    OrtSession createSession(OrtEnvironment environment, OrtSession.SessionOptions options) throws OrtException;

    /** What the network is, given the time it took to build and open. */
    NetworkBuild describe(long loadMillis);

    /**
     * Finds the network of a model: an exported file if there is one, else one built from the weights.
     *
     * @throws BackendException naming the folder and the files looked for when there is neither, or saying
     *     why the weights cannot make a ViT network
     */
    static OnnxGraphSource locate(ModelFiles model) throws BackendException {
        Optional<Path> exported = model.find(EXPORTED_FILES);
        if (model.config().architecture().exported()) {
            // an architecture vitserve does not build: its export is all there is (the width of its embeddings,
            // if any, is the classifier's, found in the graph)
            return new ExportedFile(exported.orElseThrow(() -> new BackendException("model " + model.name() + " is "
                    + model.config().architecture().className() + ", which vitserve serves only from its ONNX export,"
                    + " and there is no " + String.join(" or ", EXPORTED_FILES) + " in "
                    + model.directory().toAbsolutePath())), 0);
        }
        if (exported.isPresent()) {
            return new ExportedFile(exported.get(), model.config().hiddenSize());
        }
        if (model.weights().isPresent()) {
            ModelWeights weights = model.weights().get();
            return new BuiltGraph(weights.file(), ArchitectureGraphs.build(model.config(), weights, null), null);
        }
        throw new BackendException("no ONNX network for model " + model.name() + ": no " + String.join(", ", EXPORTED_FILES)
                + " or " + SAFETENSORS + " in " + model.directory().toAbsolutePath()
                + " (add the model's safetensors weights, export it with optimum or torch.onnx, or use --backend djl with model.pt)");
    }

    /**
     * The int8 network of a model, always built from {@code model.safetensors}: an exported file is not quantized
     * (its graph is not vitserve's to rewrite), so a folder with only an exported network is refused, saying how to
     * serve int8.
     *
     * @throws BackendException when there are no safetensors weights, or they cannot make a ViT network
     */
    static OnnxGraphSource locateInt8(ModelFiles model, Int8WeightRange range) throws BackendException {
        if (model.config().architecture().exported()) {
            throw new BackendException("--precision int8 quantizes the networks vitserve builds from " + SAFETENSORS
                    + " (" + Architectures.describeSupported() + "), and model " + model.name() + " is "
                    + model.config().architecture().className() + ", served from its exported network "
                    + model.find(EXPORTED_FILES).map(Path::toString).orElse("(none found)") + ": vitserve does not"
                    + " re-quantize exported ONNX files; serve it with --precision fp32");
        }
        if (model.weights().isEmpty()) {
            String found = model.find(EXPORTED_FILES).map(file -> "only the exported network " + file)
                    .orElse("no " + SAFETENSORS);
            throw new BackendException("--precision int8 quantizes the network vitserve builds from " + SAFETENSORS
                    + ", and model " + model.name() + " has " + found + " in " + model.directory().toAbsolutePath()
                    + ": to serve it in int8, put the model's " + SAFETENSORS + " in the folder (Hugging Face's"
                    + " save_pretrained writes it; the Hub has it for most models) or serve the Hub id; or serve it with"
                    + " --precision fp32. vitserve does not re-quantize exported ONNX files");
        }
        ModelWeights weights = model.weights().get();
        return new BuiltGraph(weights.file(), ArchitectureGraphs.build(model.config(), weights, range), range);
    }

    /**
     * An {@code .onnx} file, given to ONNX Runtime with the class token its classifier reads as a second output
     * ({@link ExportedEmbeddings}); a file whose weights are in external files, or whose classifier is not of a
     * known form, is read by ONNX Runtime itself as it stands, and then gives no embeddings.
     *
     * @param hiddenSize the width of the embeddings config.json says, or 0 for the width of the classifier's weight
     */
    record ExportedFile(Path weightsFile, long hiddenSize) implements OnnxGraphSource {

        @Override
        public String origin() {
            return "exported file";
        }

        @Override
        public OrtSession createSession(OrtEnvironment environment, OrtSession.SessionOptions options) throws OrtException {
            Optional<byte[]> withEmbeddings;
            try {
                withEmbeddings = ExportedEmbeddings.addOutput(weightsFile, hiddenSize);
            } catch (IOException e) {
                // ONNX Runtime reads the file next and says what is wrong with it
                withEmbeddings = Optional.empty();
            }
            return withEmbeddings.isPresent() ? environment.createSession(withEmbeddings.get(), options)
                    : environment.createSession(weightsFile.toString(), options);
        }

        @Override
        public NetworkBuild describe(long loadMillis) {
            return NetworkBuild.fp32(loadMillis);
        }
    }

    /**
     * A ViT network built from the safetensors weights, given to ONNX Runtime from memory.
     *
     * @param int8 the int8 weights' range, or null for a float32 network
     */
    record BuiltGraph(Path weightsFile, VitGraph graph, Int8WeightRange int8) implements OnnxGraphSource {

        @Override
        public String origin() {
            return "built from " + weightsFile.getFileName() + (int8 != null ? ", int8" : "");
        }

        @Override
        public NetworkBuild describe(long loadMillis) {
            if (int8 == null) {
                return NetworkBuild.fp32(loadMillis);
            }
            return new NetworkBuild(Precision.INT8, graph.quantizedLinears() + " linear layers of the encoder (query,"
                    + " key, value, attention output, MLP up and down in each layer): " + QuantizedLinears.encoding(int8),
                    "patch embedding, position embeddings, layer norms, attention scores and softmax, GELU, classifier head",
                    QuantizedLinears.operators(int8), loadMillis, Math.round(graph.quantizeNanos() / 1e6));
        }

        @Override
        public OrtSession createSession(OrtEnvironment environment, OrtSession.SessionOptions options) throws OrtException {
            return graph.createSession(environment, options);
        }
    }
}
