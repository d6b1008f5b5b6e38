package dev.vitserve.backend.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.Arrays;

/**
 * The protobuf boilerplate of one ONNX graph being written: nodes with generated output names,
 * small constant initializers, float inputs and outputs, and the final {@code ModelProto}
 * (IR version 8, opset 17 and {@code com.microsoft} opset 1).
 */
final class OnnxNodes {

    /** ONNX Runtime's contrib operators, such as {@code Gelu}. */
    static final String MICROSOFT = "com.microsoft";
    static final long IR_VERSION = 8;
    static final long OPSET = 17;
    /** Where ONNX Runtime is told the weights are; they are always supplied from memory instead. */
    private static final String IN_MEMORY = "vitserve-weights-in-memory";

    private final GraphProto.Builder graph;
    private int counter;

    OnnxNodes(String graphName) {
        this.graph = GraphProto.newBuilder().setName(graphName);
    }

    /** Adds a node of the default domain with one output and returns the output's name. */
    String op(String opType, String[] inputs, AttributeProto... attributes) {
        return opIn("", opType, inputs, attributes);
    }

    /** Adds a node of a domain with one output and returns the output's name. */
    String opIn(String domain, String opType, String[] inputs, AttributeProto... attributes) {
        String output = opType + "_" + counter++;
        graph.addNode(NodeProto.newBuilder()
                .setOpType(opType)
                .setDomain(domain)
                .setName(output)
                .addAllInput(Arrays.asList(inputs))
                .addOutput(output)
                .addAllAttribute(Arrays.asList(attributes)));
        return output;
    }

    /** Adds a node of the default domain with several outputs and returns their names. */
    String[] ops(String opType, int outputs, String[] inputs, AttributeProto... attributes) {
        String name = opType + "_" + counter++;
        String[] names = new String[outputs];
        for (int i = 0; i < outputs; i++) {
            names[i] = name + "_" + i;
        }
        graph.addNode(NodeProto.newBuilder()
                .setOpType(opType)
                .setName(name)
                .addAllInput(Arrays.asList(inputs))
                .addAllOutput(Arrays.asList(names))
                .addAllAttribute(Arrays.asList(attributes)));
        return names;
    }

    /** Adds a node writing to a chosen name, such as the graph's output. */
    void opTo(String output, String opType, String[] inputs, AttributeProto... attributes) {
        graph.addNode(NodeProto.newBuilder()
                .setOpType(opType)
                .setName(output)
                .addAllInput(Arrays.asList(inputs))
                .addOutput(output)
                .addAllAttribute(Arrays.asList(attributes)));
    }

    /** An int64 vector initializer (shapes, axes), returning its name. */
    String int64s(long... values) {
        String name = "const_" + counter++;
        TensorProto.Builder tensor = TensorProto.newBuilder()
                .setName(name)
                .setDataType(TensorProto.DataType.INT64.getNumber())
                .addDims(values.length);
        for (long value : values) {
            tensor.addInt64Data(value);
        }
        graph.addInitializer(tensor);
        return name;
    }

    /** A float32 vector initializer (small constants), returning its name. */
    String floats(float... values) {
        String name = "const_" + counter++;
        TensorProto.Builder tensor = TensorProto.newBuilder()
                .setName(name)
                .setDataType(TensorProto.DataType.FLOAT.getNumber())
                .addDims(values.length);
        for (float value : values) {
            tensor.addFloatData(value);
        }
        graph.addInitializer(tensor);
        return name;
    }

    /** Adds an initializer built elsewhere. */
    void initializer(TensorProto tensor) {
        graph.addInitializer(tensor);
    }

    /**
     * Adds a weight's initializer as a placeholder marked as external data: ONNX Runtime gets its values from memory
     * ({@link VitGraph#createSession}), never from the location named here.
     */
    void placeholder(String name, VitGraph.Weight weight) {
        TensorProto.Builder tensor = TensorProto.newBuilder()
                .setName(name)
                .setDataType((weight.type() == ai.onnxruntime.OnnxJavaType.FLOAT
                        ? TensorProto.DataType.FLOAT : TensorProto.DataType.INT8).getNumber())
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(entry("location", IN_MEMORY))
                .addExternalData(entry("offset", "0"))
                .addExternalData(entry("length", Long.toString(weight.bytes())));
        for (long dim : weight.shape()) {
            tensor.addDims(dim);
        }
        graph.addInitializer(tensor.build());
    }

    private static StringStringEntryProto entry(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }

    /** Declares a float32 graph input; a dimension is a {@code Long} (fixed) or a {@code String} (named, dynamic). */
    void floatInput(String name, Object... dims) {
        graph.addInput(floatValue(name, dims));
    }

    /** Declares an int64 graph input (token ids), dimensions as for {@link #floatInput}. */
    void int64Input(String name, Object... dims) {
        graph.addInput(value(name, TensorProto.DataType.INT64, dims));
    }

    /** Declares a float32 graph output, dimensions as for {@link #floatInput}. */
    void floatOutput(String name, Object... dims) {
        graph.addOutput(floatValue(name, dims));
    }

    /** The finished model. */
    ModelProto model(String producer, boolean microsoftDomain) {
        ModelProto.Builder model = ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .setProducerName(producer)
                .setGraph(graph)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET));
        if (microsoftDomain) {
            model.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(MICROSOFT).setVersion(1));
        }
        return model.build();
    }

    static AttributeProto ints(String name, long... values) {
        AttributeProto.Builder attribute = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long value : values) {
            attribute.addInts(value);
        }
        return attribute.build();
    }

    static AttributeProto integer(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    static AttributeProto real(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
    }

    static String[] in(String... names) {
        return names;
    }

    private static ValueInfoProto floatValue(String name, Object... dims) {
        return value(name, TensorProto.DataType.FLOAT, dims);
    }

    private static ValueInfoProto value(String name, TensorProto.DataType type, Object... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object dim : dims) {
            TensorShapeProto.Dimension.Builder dimension = TensorShapeProto.Dimension.newBuilder();
            if (dim instanceof String param) {
                dimension.setDimParam(param);
            } else {
                dimension.setDimValue(((Number) dim).longValue());
            }
            shape.addDim(dimension);
        }
        TypeProto.Tensor tensor = TypeProto.Tensor.newBuilder()
                .setElemType(type.getNumber())
                .setShape(shape)
                .build();
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(tensor)).build();
    }
}
