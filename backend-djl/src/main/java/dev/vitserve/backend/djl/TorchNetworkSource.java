package dev.vitserve.backend.djl;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDList;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.translate.NoopTranslator;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.ModelFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where a model's PyTorch network comes from. Today: a TorchScript {@code model.pt} next to {@code config.json}.
 */
interface TorchNetworkSource {

    /** The TorchScript file looked for, relative to the model folder. */
    String TORCHSCRIPT_FILE = "model.pt";

    /** The file the weights are read from, as people should see it. */
    Path weightsFile();

    /** How the network is made, for the load log, e.g. {@code TorchScript}. */
    String kind();

    /** The network as messages name it, e.g. {@code the TorchScript network /models/vit/model.pt}. */
    String describe();

    /** Loads the network on a device. */
    TorchNetwork load(Device device) throws BackendException;

    /**
     * Finds the network of a model.
     *
     * @throws BackendException naming the folder and the file looked for, when there is none
     */
    static TorchNetworkSource locate(ModelFiles model) throws BackendException {
        Optional<Path> torchScript = model.find(TORCHSCRIPT_FILE);
        if (torchScript.isPresent()) {
            return new TorchScriptFile(torchScript.get());
        }
        throw new BackendException("no TorchScript network for model " + model.name() + ": " + TORCHSCRIPT_FILE
                + " is missing in " + model.directory().toAbsolutePath()
                + " (save one with torch.jit.trace(model, example).save('model.pt'), or use --backend onnx with onnx/model.onnx)");
    }

    /** A TorchScript file, loaded by DJL's PyTorch engine from the local disk. */
    record TorchScriptFile(Path weightsFile) implements TorchNetworkSource {

        @Override
        public String kind() {
            return "TorchScript";
        }

        @Override
        public String describe() {
            return "the TorchScript network " + weightsFile;
        }

        @Override
        public TorchNetwork load(Device device) throws BackendException {
            Criteria<NDList, NDList> criteria = Criteria.builder()
                    .setTypes(NDList.class, NDList.class)
                    .optEngine(PyTorchRuntime.ENGINE_NAME)
                    // the folder and the file's base name: DJL warns about a model path that is a plain file
                    .optModelPath(weightsFile.getParent())
                    .optModelName(baseName())
                    .optDevice(device)
                    .optOption("mapLocation", "true")
                    .optTranslator(new NoopTranslator())
                    .build();
            try {
                return new TorchScriptNetwork(criteria.loadModel());
            } catch (ModelNotFoundException | MalformedModelException | IOException | RuntimeException e) {
                throw new BackendException("DJL cannot load the TorchScript network " + weightsFile + " on " + device
                        + ": " + e.getMessage(), e);
            }
        }

        private String baseName() {
            String name = weightsFile.getFileName().toString();
            return name.substring(0, name.length() - ".pt".length());
        }
    }
}
