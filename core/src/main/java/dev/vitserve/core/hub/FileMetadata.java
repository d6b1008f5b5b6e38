package dev.vitserve.core.hub;

import java.util.regex.Pattern;

/**
 * What a HEAD request on {@code /{repo}/resolve/{revision}/{file}} tells about a file, as huggingface_hub's
 * {@code HfFileMetadata}: the commit the revision points to ({@code X-Repo-Commit}), the file's ETag
 * ({@code X-Linked-Etag} for LFS files, the sha256 of the content; else {@code ETag}, the git blob sha1),
 * its size ({@code X-Linked-Size}, else {@code Content-Length}) and where to download it from (the CDN
 * {@code Location} of a redirect, else the resolve URL itself).
 *
 * @param lfs whether the file is stored with git LFS (the Hub sent {@code X-Linked-Etag})
 */
public record FileMetadata(String commitHash, String etag, long size, String location, boolean lfs) {

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern SHA1 = Pattern.compile("[0-9a-f]{40}");

    /** The ETag is a sha256 of the content (LFS files): the download can be checked against it. */
    public boolean etagIsSha256() {
        return SHA256.matcher(etag).matches();
    }

    /** The ETag is a git blob sha1 (small files kept in git): the download can be checked against it. */
    public boolean etagIsGitSha1() {
        return !lfs && SHA1.matcher(etag).matches();
    }

    /** A revision that is already a full commit hash. */
    static boolean isCommitHash(String revision) {
        return SHA1.matcher(revision).matches();
    }
}
