package dev.vitserve.backend.djl;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.translate.NoopTranslator;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.NetworkChoice;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where a model's PyTorch network comes from: a TorchScript {@code model.pt} next to {@code config.json} when there is
 * one, else the ViT built with NDArray operations from the weights of {@code model.safetensors}.
 */
interface TorchNetworkSource {

    /** The TorchScript file looked for, relative to the model folder. */
    String TORCHSCRIPT_FILE = "model.pt";
    /** The Hugging Face weights file the network is built from when there is no TorchScript file. */
    String SAFETENSORS_FILE = "model.safetensors";

    /** The file the weights are read from, as people should see it. */
    Path weightsFile();

    /** How the network is made, for the load log: {@code TorchScript} or {@code built from model.safetensors}. */
    String kind();

    /** The network as messages name it, e.g. {@code the TorchScript network /models/vit/model.pt}. */
    String describe();

    /** Loads the network on a device, its weights and activations in {@code dataType}. */
    TorchNetwork load(Device device, DataType dataType) throws BackendException;

    /**
     * Finds the network of a model: {@code model.pt} if present (unless {@code choice} asks for the safetensors),
     * else the safetensors weights.
     *
     * @throws BackendException naming the folder and the files looked for, when there is neither, or not the one
     *     {@code choice} asks for
     */
    static TorchNetworkSource locate(ModelFiles model, NetworkChoice choice) throws BackendException {
        return locate(model, choice, false);
    }

    /**
     * Finds the network of a model as {@link #locate(ModelFiles, NetworkChoice)} does; with {@code half}, the
     * safetensors weights before {@code model.pt} (unless {@code choice} asks for the export), since only a network
     * built here is cast to bfloat16 or float16.
     *
     * @throws BackendException naming the folder and the files looked for, when there is neither, or not the one
     *     {@code choice} asks for
     */
    static TorchNetworkSource locate(ModelFiles model, NetworkChoice choice, boolean half) throws BackendException {
        if (half && choice != NetworkChoice.EXPORT && model.weights().isPresent()
                && !model.config().architecture().exported()) {
            return new SafetensorsWeights(model);
        }
        Optional<Path> torchScript = model.find(TORCHSCRIPT_FILE);
        if (torchScript.isPresent() && choice != NetworkChoice.SAFETENSORS) {
            return new TorchScriptFile(torchScript.get());
        }
        choice.check(model, torchScript.isPresent(), TORCHSCRIPT_FILE);
        if (model.config().architecture().exported()) {
            throw new BackendException("model " + model.name() + " is " + model.config().architecture().className()
                    + ", which vitserve does not build: in " + model.directory().toAbsolutePath() + " it has only an"
                    + " ONNX export, which the DJL backend does not run; serve it with --backend onnx, or put a"
                    + " TorchScript " + TORCHSCRIPT_FILE + " of it in the folder for --backend djl (input pixel_values"
                    + " [batch, channels, height, width], output logits [batch, labels])");
        }
        if (model.weights().isPresent()) {
            return new SafetensorsWeights(model);
        }
        Path folder = model.directory().toAbsolutePath();
        if (model.find(SAFETENSORS_FILE).isPresent()) {
            throw new BackendException("model " + model.name() + ": " + SAFETENSORS_FILE + " is in " + folder
                    + " but its tensors were not handed to the DJL backend (ModelFiles.weights() is empty), and there is"
                    + " no " + TORCHSCRIPT_FILE);
        }
        throw new BackendException("no " + TORCHSCRIPT_FILE + " or " + SAFETENSORS_FILE + " in " + folder + " for model "
                + model.name() + ": the DJL backend runs a TorchScript " + TORCHSCRIPT_FILE + " or builds the ViT from"
                + " Hugging Face's " + SAFETENSORS_FILE + " (or use --backend onnx with onnx/model.onnx)");
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
        public TorchNetwork load(Device device, DataType dataType) throws BackendException {
            if (dataType != DataType.FLOAT32) {
                throw new BackendException("the djl backend runs " + describe() + " in float32 only: " + dataType
                        + " is built from " + SAFETENSORS_FILE + ", which is not in " + weightsFile.getParent()
                        + "; add it, or serve with --precision fp32");
            }
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

    /** The tensors of {@code model.safetensors}, from which {@link VitNetwork} builds the ViT. */
    record SafetensorsWeights(ModelFiles model) implements TorchNetworkSource {

        @Override
        public Path weightsFile() {
            return model.weights().orElseThrow().file();
        }

        @Override
        public String kind() {
            return "built from " + SAFETENSORS_FILE;
        }

        @Override
        public String describe() {
            return "the " + model.config().architecture().className() + " built from " + weightsFile();
        }

        @Override
        public TorchNetwork load(Device device, DataType dataType) throws BackendException {
            return ArchitectureNetworks.build(model.config(), model.weights().orElseThrow(), device, dataType);
        }
    }
}
