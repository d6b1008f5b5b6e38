package dev.vitserve.api.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.api.VitConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Swin's config.json reading under SwinConfig's defaults, its blocks' geometry, and the shifted windows' bias. */
class SwinTest {

    @Test
    void aConfigTakesSwinConfigsDefaults() {
        VitConfig config = Architectures.swin(new ConfigValues(Map.of()), 1000);
        assertEquals(new Swin(96, List.of(2, 2, 6, 2), List.of(3, 6, 12, 24), 7, 4.0), config.architecture());
        assertEquals(768, config.hiddenSize());
        assertEquals(768, config.embeddingSize());
        assertEquals(12, config.numLayers());
        assertEquals(24, config.numHeads());
        assertEquals(3072, config.intermediateSize());
        assertEquals(4, config.patchSize());
        assertEquals(1e-5, config.layerNormEps());
    }

    @Test
    void blocksFollowTheStagesWindowsAndShifts() {
        // 24x40 px, patch 4: 6x10 patches, padded to 6x12 for windows of 3; merged to 3x5, one window high
        List<Swin.Block> blocks = new Swin(12, List.of(3, 2), List.of(3, 6), 3, 2.0).blocks(24, 40, 4);
        assertEquals(List.of(
                new Swin.Block(0, 0, 12, 3, 6, 10, 3, 0), new Swin.Block(0, 1, 12, 3, 6, 10, 3, 1),
                new Swin.Block(0, 2, 12, 3, 6, 10, 3, 0), new Swin.Block(1, 0, 24, 6, 3, 5, 3, 0),
                new Swin.Block(1, 1, 24, 6, 3, 5, 3, 0)), blocks);
        assertEquals(12, blocks.get(0).paddedWidth());
        assertEquals(8, blocks.get(0).windows());
        assertEquals("swin.encoder.layers.1.blocks.0.", blocks.get(3).prefix());
        // 26 px with patch 4: padded to 7x7 patches
        assertEquals(7, new Swin(16, List.of(2), List.of(2), 3, 4.0).blocks(26, 26, 4).get(0).height());
    }

    @Test
    void theShiftedWindowsMaskKeepsTheWrappedRegionsApart() {
        Swin.Block block = new Swin.Block(0, 1, 4, 1, 6, 6, 3, 1);
        float[] table = new float[25];
        float[] bias = Swin.attentionBias(block, table);
        assertEquals(4 * 81, bias.length);
        for (int k = 0; k < 81; k++) {
            assertEquals(0f, bias[k], "the top-left window is one region");
        }
        // the bottom-right window: patch (3, 3) and patch (5, 5) lie in different regions of the rolled grid
        assertEquals(-100f, bias[3 * 81 + 8]);
        assertEquals(0f, bias[3 * 81 + 8 * 9 + 8]);
        // no shift: only the relative position bias, the same for every window
        table[12] = 2.5f;
        float[] plain = Swin.attentionBias(new Swin.Block(0, 0, 4, 1, 6, 6, 3, 0), table);
        assertEquals(81, plain.length);
        for (int i = 0; i < 9; i++) {
            assertEquals(2.5f, plain[i * 9 + i], "a token to itself reads the table's middle row");
        }
    }

    @Test
    void configsTransformersCannotRunAreRefused() {
        IllegalArgumentException small = assertThrows(IllegalArgumentException.class, () -> Architectures.swin(
                new ConfigValues(Map.of("image_size", 26, "embed_dim", 16, "depths", List.of(2, 2, 2),
                        "num_heads", List.of(2, 4, 8), "window_size", 3)), 3));
        assertTrue(small.getMessage().contains("stage 2 of SwinForImageClassification works on a grid of 2x2"),
                small.getMessage());
        IllegalArgumentException absolute = assertThrows(IllegalArgumentException.class, () -> Architectures.swin(
                new ConfigValues(Map.of("use_absolute_embeddings", true)), 3));
        assertTrue(absolute.getMessage().startsWith("use_absolute_embeddings is true"), absolute.getMessage());
        IllegalArgumentException heads = assertThrows(IllegalArgumentException.class, () -> Architectures.swin(
                new ConfigValues(Map.of("depths", List.of(2, 2), "num_heads", List.of(3))), 3));
        assertTrue(heads.getMessage().contains("one entry per stage"), heads.getMessage());
    }
}
