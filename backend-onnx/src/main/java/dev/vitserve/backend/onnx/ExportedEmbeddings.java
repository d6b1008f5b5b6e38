package dev.vitserve.backend.onnx;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.CodedInputStream;
import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * Exposes the class token an exported ViT network's classifier reads as a second output,
 * {@code embeddings} [batch, hidden_size], so that one run of an exported file gives embeddings too.
 * The classifier is found as the node writing {@code logits}: a {@code Gemm} (torch.onnx's export of
 * {@code nn.Linear}) or an {@code Add} of a {@code MatMul} and a bias; its data input is the embedding. For a network
 * of an architecture vitserve does not build, the embedding's width is the classifier weight's input width, read from
 * the graph's initializers; where the weight is not an initializer, the network gives no embeddings.
 */
final class ExportedEmbeddings {

    private ExportedEmbeddings() {
    }

    /**
     * The network of {@code file} with the {@code embeddings} output added, serialized; empty when the file
     * has that output already, keeps its weights in external files, or its classifier (the node writing
     * {@code logits}, else the first output) is not of a known form.
     *
     * @param hiddenSize the embedding's width, or 0 to take the classifier weight's input width (and give no
     *     embeddings when the weight is not an initializer of the graph)
     */
    static Optional<byte[]> addOutput(Path file, long hiddenSize) throws IOException {
        OnnxMl.ModelProto model;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size());
            CodedInputStream input = CodedInputStream.newInstance(mapped);
            input.enableAliasing(true); // the weights stay in the mapped file until serialized once
            input.setSizeLimit(Integer.MAX_VALUE);
            model = OnnxMl.ModelProto.parseFrom(input);
        }
        OnnxMl.GraphProto graph = model.getGraph();
        boolean hasOutput = graph.getOutputList().stream()
                .anyMatch(output -> output.getName().equals(OnnxSignature.EMBEDDINGS_OUTPUT));
        boolean external = graph.getInitializerList().stream()
                .anyMatch(tensor -> tensor.getDataLocation() == OnnxMl.TensorProto.DataLocation.EXTERNAL);
        if (hasOutput || external || graph.getOutputCount() == 0) {
            return Optional.empty();
        }
        String logitsName = graph.getOutputList().stream().map(OnnxMl.ValueInfoProto::getName)
                .filter(OnnxSignature.LOGITS_OUTPUT::equals).findFirst().orElse(graph.getOutput(0).getName());
        Optional<Classifier> head = classifierInput(graph, logitsName);
        long width = hiddenSize > 0 ? hiddenSize : head.map(Classifier::width).orElse(0L);
        if (head.isEmpty() || width <= 0) {
            return Optional.empty();
        }
        return Optional.of(model.toBuilder().setGraph(graph.toBuilder()
                .addNode(OnnxMl.NodeProto.newBuilder().setOpType("Identity").setName("vitserve_embeddings")
                        .addInput(head.get().input()).addOutput(OnnxSignature.EMBEDDINGS_OUTPUT))
                .addOutput(floatOutput(OnnxSignature.EMBEDDINGS_OUTPUT, width))).build().toByteArray());
    }

    /**
     * The classifier's data input and the width its weight takes (0 when the weight is not an initializer).
     */
    private record Classifier(String input, long width) {
    }

    /** The tensor the classifier writing {@code logits} multiplies by its weight, if the classifier is of a known form. */
    private static Optional<Classifier> classifierInput(OnnxMl.GraphProto graph, String logitsName) {
        Optional<OnnxMl.NodeProto> head = producer(graph, logitsName);
        if (head.isPresent() && head.get().getOpType().equals("Gemm") && isPlainGemm(head.get())) {
            boolean transposed = head.get().getAttributeList().stream()
                    .anyMatch(a -> a.getName().equals("transB") && a.getI() != 0);
            // B is [labels, width] transposed, else [width, labels]
            return Optional.of(new Classifier(head.get().getInput(0),
                    weightDim(graph, head.get().getInput(1), transposed ? 1 : 0)));
        }
        if (head.isPresent() && head.get().getOpType().equals("Add")) {
            for (String input : head.get().getInputList()) {
                Optional<OnnxMl.NodeProto> matMul = producer(graph, input).filter(node -> node.getOpType().equals("MatMul"));
                if (matMul.isPresent()) {
                    return Optional.of(new Classifier(matMul.get().getInput(0),
                            weightDim(graph, matMul.get().getInput(1), 0)));
                }
            }
        }
        return Optional.empty();
    }

    /** A dim of a two-dimensional initializer, or 0 when the tensor is not one. */
    private static long weightDim(OnnxMl.GraphProto graph, String name, int dim) {
        return graph.getInitializerList().stream().filter(tensor -> tensor.getName().equals(name))
                .filter(tensor -> tensor.getDimsCount() == 2).mapToLong(tensor -> tensor.getDims(dim))
                .findFirst().orElse(0L);
    }

    /** A Gemm whose first input is not transposed: that input is then [batch, hidden] as it stands. */
    private static boolean isPlainGemm(OnnxMl.NodeProto gemm) {
        return gemm.getAttributeList().stream().noneMatch(a -> a.getName().equals("transA") && a.getI() != 0);
    }

    private static Optional<OnnxMl.NodeProto> producer(OnnxMl.GraphProto graph, String tensor) {
        return graph.getNodeList().stream().filter(node -> node.getOutputList().contains(tensor)).findFirst();
    }

    private static OnnxMl.ValueInfoProto floatOutput(String name, long hiddenSize) {
        OnnxMl.TensorShapeProto shape = OnnxMl.TensorShapeProto.newBuilder()
                .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam("batch"))
                .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(hiddenSize)).build();
        return OnnxMl.ValueInfoProto.newBuilder().setName(name).setType(OnnxMl.TypeProto.newBuilder()
                .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder()
                        .setElemType(OnnxMl.TensorProto.DataType.FLOAT_VALUE).setShape(shape))).build();
    }
}
