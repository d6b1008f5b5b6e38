package dev.vitserve.api;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

class VitConfigTest {

    private static final VitConfig TINY = new VitConfig(32, 48, 3, 16, 64, 2, 4, 128, 1e-12, true, 10);

    @Test
    void acceptsBatchesOfTheModelsImageShapeOnly() {
        assertDoesNotThrow(() -> TINY.requireImageShape(new PixelBatch(FloatBuffer.allocate(2 * 3 * 32 * 48), 2, 3, 32, 48)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TINY.requireImageShape(new PixelBatch(FloatBuffer.allocate(3 * 48 * 32), 1, 3, 48, 32)));
        assertTrue(e.getMessage().contains("takes 3x32x48 images, got a batch of 3x48x32"), e.getMessage());
    }

    @Test
    void refusesAnImageSizeThatIsNotAMultipleOfThePatch() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new VitConfig(30, 48, 3, 16, 64, 2, 4, 128, 1e-12, true, 10));
        assertTrue(e.getMessage().contains("not a multiple of patch_size 16"), e.getMessage());
    }
}
