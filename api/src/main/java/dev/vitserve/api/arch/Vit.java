package dev.vitserve.api.arch;

import dev.vitserve.api.Architecture;

/** Hugging Face's {@code ViTForImageClassification} (modeling_vit.py): the classifier on the final-layernormed class token. */
public record Vit() implements Architecture {

    public static final Vit INSTANCE = new Vit();
    public static final String CLASS_NAME = "ViTForImageClassification";

    @Override
    public String className() {
        return CLASS_NAME;
    }

    @Override
    public String modelType() {
        return "vit";
    }
}
