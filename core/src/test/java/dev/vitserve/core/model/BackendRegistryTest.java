package dev.vitserve.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.FakeBackendProvider;
import java.net.URL;
import java.net.URLClassLoader;
import org.junit.jupiter.api.Test;

class BackendRegistryTest {

    @Test
    void aProviderRegisteredInAnotherJarIsFoundOnTheClasspath() throws Exception {
        BackendRegistry registry = BackendRegistry.discover(getClass().getClassLoader());
        assertTrue(registry.ids().contains("fake"), registry.ids().toString());
        assertEquals(FakeBackendProvider.class, registry.get("fake").getClass());
    }

    @Test
    void anUnknownIdListsTheIdsFound() {
        BackendRegistry registry = BackendRegistry.discover(getClass().getClassLoader());
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> registry.get("tensorrt"));
        assertTrue(e.getMessage().contains("unknown backend 'tensorrt'"), e.getMessage());
        assertTrue(e.getMessage().contains("fake"), e.getMessage());
    }

    @Test
    void withNoBackendOnTheClasspathTheMessageSaysWhatToAdd() {
        BackendRegistry empty = BackendRegistry.discover(new URLClassLoader(new URL[0], null));
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> empty.get("onnx"));
        assertTrue(e.getMessage().contains("none (add backend-onnx or backend-djl)"), e.getMessage());
    }
}
