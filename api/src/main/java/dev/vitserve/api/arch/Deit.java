package dev.vitserve.api.arch;

import dev.vitserve.api.Architecture;

/**
 * Hugging Face's DeiT (modeling_deit.py): a ViT encoder whose tokens are the class token, a distillation token, then
 * the patches. {@code DeiTForImageClassification} classifies the class token alone;
 * {@code DeiTForImageClassificationWithTeacher} has a head on each of the two tokens and answers their mean.
 *
 * @param withTeacher whether the network is {@code DeiTForImageClassificationWithTeacher}
 */
public record Deit(boolean withTeacher) implements Architecture {

    public static final String CLASS_NAME = "DeiTForImageClassification";
    public static final String WITH_TEACHER = "DeiTForImageClassificationWithTeacher";

    @Override
    public String className() {
        return withTeacher ? WITH_TEACHER : CLASS_NAME;
    }

    @Override
    public String modelType() {
        return "deit";
    }

    /** With the teacher, both heads' inputs side by side: the class token, then the distillation token. */
    @Override
    public int embeddingSize(int hiddenSize) {
        return withTeacher ? 2 * hiddenSize : hiddenSize;
    }
}
