package dev.vitserve.api.arch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.api.VitConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** BEiT's config.json reading under BeitConfig's defaults, and its relative position index. */
class BeitTest {

    @Test
    void theIndexOfATwoByTwoGridIsHuggingFacesOne() {
        // (2*2-1)*(2*2-1) + 3 = 12 rows: 9 offsets, then class to patch (9), patch to class (10), class to class (11);
        // the offset of patch (y1, x1) to (y2, x2) is (y1 - y2 + 1) * 3 + (x1 - x2 + 1)
        assertEquals(12, Beit.relativeDistances(2, 2));
        assertArrayEquals(new int[] {
            11, 9, 9, 9, 9,
            10, 4, 3, 1, 0,
            10, 5, 4, 2, 1,
            10, 7, 6, 4, 3,
            10, 8, 7, 5, 4}, Beit.relativePositionIndex(2, 2));
    }

    @Test
    void theBiasIsTheTableLookedUpPerHead() {
        float[] table = new float[12 * 2];
        for (int row = 0; row < 12; row++) {
            table[row * 2] = row;
            table[row * 2 + 1] = -row;
        }
        float[] bias = Beit.relativePositionBias(table, 2, 2, 2);
        int[] index = Beit.relativePositionIndex(2, 2);
        for (int k = 0; k < 25; k++) {
            assertEquals(index[k], bias[k]);
            assertEquals(-index[k], bias[25 + k]);
        }
    }

    @Test
    void aConfigTakesBeitConfigsDefaults() {
        VitConfig config = Architectures.choose(new ConfigValues(Map.of("architectures", List.of(Beit.CLASS_NAME))))
                .orElseThrow().reader().read(new ConfigValues(Map.of()), 3);
        assertEquals(new Beit(false, false, false, true, true), config.architecture());
        assertEquals(224, config.imageHeight());
        assertEquals(16, config.patchSize());
        assertEquals(1e-12, config.layerNormEps());
        assertEquals(768, config.embeddingSize());
        assertFalse(config.architecture().interpolatesPositions());
        Beit noScale = (Beit) Architectures.beit(new ConfigValues(Map.of("layer_scale_init_value", 0.0,
                "use_mean_pooling", false, "use_relative_position_bias", true)), 3).architecture();
        assertEquals(new Beit(true, false, false, false, false), noScale);
    }

    @Test
    void aRelativeBiasOnANonSquareGridIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Architectures.beit(
                new ConfigValues(Map.of("image_size", List.of(32, 48), "patch_size", 16,
                        "use_shared_relative_position_bias", true)), 3));
        assertTrue(e.getMessage().contains("grid of 2x3 patches"), e.getMessage());
        // without a relative bias, any grid
        assertEquals(48, Architectures.beit(new ConfigValues(Map.of("image_size", List.of(32, 48),
                "patch_size", 16)), 3).imageWidth());
    }
}
