package dev.vitserve.core.hub;

import dev.vitserve.api.arch.Architectures;
import dev.vitserve.api.arch.ConfigValues;
import dev.vitserve.core.hub.HubException.Kind;
import java.nio.file.Path;
import java.util.List;

/**
 * Brings the files vitserve reads of a model repository into one snapshot folder, the way
 * {@code from_pretrained} does: {@code config.json} at the requested revision first, then the other files
 * at the very commit it resolved to (so one snapshot holds them all, and a warm start revalidates with a
 * single HEAD). Refuses, with the way out, repositories whose weights are not one {@code model.safetensors}.
 */
final class HubModelFetcher {

    static final String CONFIG = "config.json";
    static final String PREPROCESSOR_CONFIG = "preprocessor_config.json";
    static final String WEIGHTS = "model.safetensors";
    static final String SHARDED_WEIGHTS_INDEX = "model.safetensors.index.json";
    static final String PYTORCH_WEIGHTS = "pytorch_model.bin";
    /** What vitserve needs, in the order it is fetched. */
    static final List<String> FILES = List.of(CONFIG, PREPROCESSOR_CONFIG, WEIGHTS);
    /** What a zero-shot (CLIP) model needs besides: its tokenizer, then the optional files that configure it. */
    static final String TOKENIZER = "tokenizer.json";
    /** Where Optimum's export of an architecture vitserve does not build is looked for, in order. */
    static final List<String> EXPORTS = List.of("onnx/model.onnx", "model.onnx");
    static final List<String> OPTIONAL_TOKENIZER_FILES = List.of("tokenizer_config.json", "special_tokens_map.json");

    private final HubFileFetcher files;
    private final RepoId repo;

    HubModelFetcher(HubFileFetcher files, RepoId repo) {
        this.files = files;
        this.repo = repo;
    }

    /** The snapshot folder of the revision, holding every file of {@link #FILES}. */
    Path fetch(String revision) throws HubException {
        HubFileFetcher.CachedFile config = files.fetch(revision, CONFIG);
        String commit = config.commit();
        try {
            files.fetch(commit, PREPROCESSOR_CONFIG);
        } catch (HubException e) {
            throw e.kind() != Kind.ENTRY_NOT_FOUND ? e : new HubException(Kind.ENTRY_NOT_FOUND, repo + " has no "
                    + PREPROCESSOR_CONFIG + " at revision " + revision + ": vitserve needs it to prepare images "
                    + "exactly as Hugging Face does, so it serves image classifiers that have one", commit);
        }
        boolean built = builds(config.path());
        if (!built && fetchedExport(commit)) {
            // an architecture vitserve does not build runs from its ONNX export: its weights are in the graph
            return config.path().getParent();
        }
        if (!built && !files.exists(commit, WEIGHTS)) {
            throw new HubException(Kind.ENTRY_NOT_FOUND, repo + " is of an architecture vitserve does not build"
                    + " itself, and has no " + String.join(" or ", EXPORTS) + " at revision " + revision + ": export it"
                    + " with Optimum (optimum-cli export onnx --model " + repo + " --task image-classification <folder>)"
                    + " and serve that folder, or push the export to the repository", commit);
        }
        try {
            files.fetch(commit, WEIGHTS);
        } catch (HubException e) {
            if (e.kind() != Kind.ENTRY_NOT_FOUND) {
                throw e;
            }
            throw missingWeights(revision, commit);
        }
        if (isClip(config.path())) {
            try {
                files.fetch(commit, TOKENIZER);
            } catch (HubException e) {
                throw e.kind() != Kind.ENTRY_NOT_FOUND ? e : new HubException(Kind.ENTRY_NOT_FOUND, repo + " has no "
                        + TOKENIZER + " at revision " + revision + ": a zero-shot model needs its fast tokenizer's file",
                        commit);
            }
            for (String optional : OPTIONAL_TOKENIZER_FILES) {
                try {
                    files.fetch(commit, optional);
                } catch (HubException e) {
                    if (e.kind() != Kind.ENTRY_NOT_FOUND) {
                        throw e;
                    }
                }
            }
        }
        return config.path().getParent();
    }

    /**
     * Fetches the ONNX export of Optimum's layout ({@code onnx/model.onnx}, else {@code model.onnx}, with its
     * external data file when there is one); false when the repository has none.
     */
    private boolean fetchedExport(String commit) throws HubException {
        for (String export : EXPORTS) {
            try {
                files.fetch(commit, export);
            } catch (HubException e) {
                if (e.kind() != Kind.ENTRY_NOT_FOUND) {
                    throw e;
                }
                continue;
            }
            try {
                files.fetch(commit, export + "_data");
            } catch (HubException e) {
                if (e.kind() != Kind.ENTRY_NOT_FOUND) {
                    throw e;
                }
            }
            return true;
        }
        return false;
    }

    /** Whether vitserve builds the network of the downloaded config.json itself (ViT family, CLIP, SigLIP). */
    private static boolean builds(Path config) {
        if (isClip(config)) {
            return true;
        }
        try {
            @SuppressWarnings("unchecked")
            java.util.Map<String, Object> values = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readValue(java.nio.file.Files.readAllBytes(config), java.util.Map.class);
            return values == null || Architectures.choose(new ConfigValues(values)).isPresent();
        } catch (java.io.IOException | RuntimeException e) {
            // the loader reads config.json next and says what is wrong with it
            return true;
        }
    }

    /** Whether the downloaded config.json is a CLIP or SigLIP model's (then its tokenizer is fetched too). */
    private static boolean isClip(Path config) {
        try {
            com.fasterxml.jackson.databind.JsonNode root = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(java.nio.file.Files.readAllBytes(config));
            if (root == null) {
                return false;
            }
            String type = root.path("model_type").asText("");
            if (type.equals("clip") || type.equals("siglip")) {
                return true;
            }
            for (com.fasterxml.jackson.databind.JsonNode architecture : root.path("architectures")) {
                if (architecture.asText().equals("CLIPModel") || architecture.asText().equals("SiglipModel")) {
                    return true;
                }
            }
            return false;
        } catch (java.io.IOException e) {
            // the loader reads config.json next and says what is wrong with it
            return false;
        }
    }

    private HubException missingWeights(String revision, String commit) throws HubException {
        if (files.exists(commit, SHARDED_WEIGHTS_INDEX)) {
            return new HubException(Kind.UNSUPPORTED, repo + " keeps its weights in several safetensors files ("
                    + SHARDED_WEIGHTS_INDEX + "), which vitserve does not support yet: serve a checkpoint with one "
                    + WEIGHTS + ", or merge the shards into one with the safetensors library and pass that folder");
        }
        if (files.exists(commit, PYTORCH_WEIGHTS)) {
            return new HubException(Kind.UNSUPPORTED, repo + " has only PyTorch weights (" + PYTORCH_WEIGHTS
                    + ") and vitserve reads safetensors weights only: convert them, e.g. in Python "
                    + "ViTForImageClassification.from_pretrained(\"" + repo + "\").save_pretrained(\"some-folder\") "
                    + "(which writes " + WEIGHTS + "), then pass --model some-folder, or push the converted model "
                    + "to the Hub");
        }
        return new HubException(Kind.ENTRY_NOT_FOUND, repo + " has no " + WEIGHTS + " at revision " + revision
                + ": vitserve needs the model's weights as safetensors", commit);
    }
}
