package dev.vitserve.backend.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.ModelWeights;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where a model's ONNX network comes from: a file exported next to {@code config.json}, or else a
 * network built in memory from {@code config.json} and {@code model.safetensors}.
 */
interface OnnxGraphSource {

    /** Where exported networks are looked for, relative to the model folder, in order. */
    String[] EXPORTED_FILES = {"onnx/model.onnx", "model.onnx"};

    /** The weights file the network is built from when there is no exported one. */
    String SAFETENSORS = "model.safetensors";

    /** The file the weights are read from, as people should see it. */
    Path weightsFile();

    /** How the network was obtained, for the log: {@code exported file} or {@code built from model.safetensors}. */
    String origin();

    /** Creates an ONNX Runtime session for the network. */
    OrtSession createSession(OrtEnvironment environment, OrtSession.SessionOptions options) throws OrtException;

    /**
     * Finds the network of a model: an exported file if there is one, else one built from the weights.
     *
     * @throws BackendException naming the folder and the files looked for when there is neither, or saying
     *     why the weights cannot make a ViT network
     */
    static OnnxGraphSource locate(ModelFiles model) throws BackendException {
        Optional<Path> exported = model.find(EXPORTED_FILES);
        if (exported.isPresent()) {
            return new ExportedFile(exported.get());
        }
        if (model.weights().isPresent()) {
            ModelWeights weights = model.weights().get();
            return new BuiltGraph(weights.file(), VitGraphBuilder.build(model.config(), weights));
        }
        throw new BackendException("no ONNX network for model " + model.name() + ": no " + String.join(", ", EXPORTED_FILES)
                + " or " + SAFETENSORS + " in " + model.directory().toAbsolutePath()
                + " (add the model's safetensors weights, export it with optimum or torch.onnx, or use --backend djl with model.pt)");
    }

    /** An {@code .onnx} file; ONNX Runtime reads it itself, so external weight files next to it work too. */
    record ExportedFile(Path weightsFile) implements OnnxGraphSource {

        @Override
        public String origin() {
            return "exported file";
        }

        @Override
        public OrtSession createSession(OrtEnvironment environment, OrtSession.SessionOptions options) throws OrtException {
            return environment.createSession(weightsFile.toString(), options);
        }
    }

    /** A ViT network built from the safetensors weights, given to ONNX Runtime from memory. */
    record BuiltGraph(Path weightsFile, VitGraph graph) implements OnnxGraphSource {

        @Override
        public String origin() {
            return "built from " + weightsFile.getFileName();
        }

        @Override
        public OrtSession createSession(OrtEnvironment environment, OrtSession.SessionOptions options) throws OrtException {
            return graph.createSession(environment, options);
        }
    }
}
