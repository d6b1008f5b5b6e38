package dev.vitserve.backend.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.ModelFiles;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/**
 * Where a model's ONNX network comes from. Today: a file exported next to {@code config.json}.
 * A network built in memory from {@code model.safetensors} would be a second implementation.
 */
interface OnnxGraphSource {

    /** Where exported networks are looked for, relative to the model folder, in order. */
    String[] EXPORTED_FILES = {"onnx/model.onnx", "model.onnx"};

    /** The file the weights are read from, as people should see it. */
    Path weightsFile();

    /** Creates an ONNX Runtime session for the network. */
    OrtSession createSession(OrtEnvironment environment, OrtSession.SessionOptions options) throws OrtException;

    /**
     * Finds the network of a model.
     *
     * @throws BackendException naming the folder and the files looked for, when there is none
     */
    static OnnxGraphSource locate(ModelFiles model) throws BackendException {
        Optional<Path> exported = model.find(EXPORTED_FILES);
        if (exported.isPresent()) {
            return new ExportedFile(exported.get());
        }
        throw new BackendException("no ONNX network for model " + model.name() + ": looked for "
                + String.join(" and ", Arrays.asList(EXPORTED_FILES)) + " in " + model.directory().toAbsolutePath()
                + " (export one with optimum or torch.onnx, or use --backend djl with model.pt)");
    }

    /** An {@code .onnx} file; ONNX Runtime reads it itself, so external weight files next to it work too. */
    record ExportedFile(Path weightsFile) implements OnnxGraphSource {

        @Override
        public OrtSession createSession(OrtEnvironment environment, OrtSession.SessionOptions options) throws OrtException {
            return environment.createSession(weightsFile.toString(), options);
        }
    }
}
