package dev.vitserve.core.hub;

import dev.vitserve.core.model.ModelLoadException;
import java.util.Optional;

/** A model could not be fetched from the Hub or found in the cache; the message says what to do about it. */
public final class HubException extends ModelLoadException {

    private static final long serialVersionUID = 1L;

    /** What went wrong, which decides whether a cached copy may be used instead. */
    public enum Kind {
        /** No answer: DNS, refused or reset connection, timeout, TLS. */
        NETWORK(true),
        /** The Hub answered 5xx or 429. */
        SERVER(true),
        /** 401 or 403, gated repositories included. */
        ACCESS(true),
        /** The repository does not exist, or is private and the token cannot see it. */
        REPO_NOT_FOUND(true),
        /** The endpoint answered without the Hub's headers (proxy, captive portal, wrong HF_ENDPOINT). */
        NOT_A_HUB(true),
        /** The branch, tag or commit does not exist in the repository. */
        REVISION_NOT_FOUND(false),
        /** The repository has no such file at that revision. */
        ENTRY_NOT_FOUND(false),
        /** The download stopped half-way; what arrived is kept to resume from. */
        INTERRUPTED(false),
        /** The bytes received do not match the size or hash the Hub announced. */
        CORRUPTED(false),
        /** The disk holding the cache is full. */
        DISK_FULL(false),
        /** Offline mode is on and the cache lacks something. */
        NOT_IN_CACHE(false),
        /** The repository holds something vitserve cannot serve (no safetensors, sharded weights). */
        UNSUPPORTED(false),
        /** Anything else, such as a cache folder that cannot be written. */
        OTHER(false);

        private final boolean cacheMayAnswer;

        Kind(boolean cacheMayAnswer) {
            this.cacheMayAnswer = cacheMayAnswer;
        }

        /** Whether huggingface_hub would fall back to a cached copy after this failure of a HEAD request. */
        public boolean cacheMayAnswer() {
            return cacheMayAnswer;
        }
    }

    private final Kind kind;
    private final String commitHash;

    public HubException(Kind kind, String message) {
        this(kind, message, (String) null);
    }

    public HubException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.commitHash = null;
    }

    /** A failure that names the commit the Hub answered for (a missing file's {@code X-Repo-Commit}). */
    public HubException(Kind kind, String message, String commitHash) {
        super(message);
        this.kind = kind;
        this.commitHash = commitHash;
    }

    public Kind kind() {
        return kind;
    }

    /** The commit the Hub named in its answer, if it did. */
    public Optional<String> commitHash() {
        return Optional.ofNullable(commitHash);
    }
}
