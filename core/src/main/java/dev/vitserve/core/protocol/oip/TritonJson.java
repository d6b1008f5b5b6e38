package dev.vitserve.core.protocol.oip;

import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.MapEntry;
import com.google.protobuf.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * A protobuf message as Triton's REST API writes its configuration and statistics: field names as in the
 * {@code .proto} (snake_case), every scalar field even at its default, unset sub-messages left out, enums by name and
 * 64-bit integers as JSON numbers (Triton turns protobuf's strings back into numbers).
 */
final class TritonJson {

    private TritonJson() {
    }

    static JsonObject of(Message message) {
        JsonObject json = new JsonObject();
        for (FieldDescriptor field : message.getDescriptorForType().getFields()) {
            if (field.isMapField()) {
                JsonObject map = new JsonObject();
                for (Object entry : (List<?>) message.getField(field)) {
                    MapEntry<?, ?> pair = (MapEntry<?, ?>) entry;
                    map.put(String.valueOf(pair.getKey()), value(field.getMessageType().findFieldByName("value"),
                            pair.getValue()));
                }
                json.put(field.getName(), map);
            } else if (field.isRepeated()) {
                JsonArray array = new JsonArray();
                for (Object element : (List<?>) message.getField(field)) {
                    array.add(value(field, element));
                }
                json.put(field.getName(), array);
            } else if (field.getJavaType() != FieldDescriptor.JavaType.MESSAGE || message.hasField(field)) {
                json.put(field.getName(), value(field, message.getField(field)));
            }
        }
        return json;
    }

    private static Object value(FieldDescriptor field, Object value) {
        return switch (field.getJavaType()) {
            case MESSAGE -> of((Message) value);
            case ENUM -> ((EnumValueDescriptor) value).getName();
            default -> value;
        };
    }
}
