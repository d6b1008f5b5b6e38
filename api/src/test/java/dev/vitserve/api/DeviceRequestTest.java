package dev.vitserve.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DeviceRequestTest {

    @Test
    void readsEveryDocumentedForm() {
        assertEquals(DeviceRequest.AUTO, DeviceRequest.parse("auto"));
        assertEquals(DeviceRequest.CPU, DeviceRequest.parse(" CPU "));
        assertEquals(new DeviceRequest(DeviceRequest.Kind.GPU, OptionalInt.empty()), DeviceRequest.parse("gpu"));
        assertEquals(new DeviceRequest(DeviceRequest.Kind.GPU, OptionalInt.of(3)), DeviceRequest.parse("gpu:3"));
        assertEquals("gpu:3", DeviceRequest.parse("gpu:3").toString());
        assertEquals("gpu", DeviceRequest.parse("gpu").toString());
        assertEquals(0, DeviceRequest.parse("gpu").gpuIndexOrFirst());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "tpu", "gpu:", "gpu:-1", "gpu:x", "gpu:99999", "cpu:0", "gpu:1:2"})
    void refusesOtherFormsNamingTheValidOnes(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DeviceRequest.parse(text));
        assertTrue(e.getMessage().contains("auto, cpu, gpu or gpu:N"), e.getMessage());
    }
}
