package dev.vitserve.core.hub;

import dev.vitserve.core.hub.HubException.Kind;
import io.vertx.core.Future;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings one file of one repository into the cache, following {@code hf_hub_download}: a commit hash
 * whose snapshot has the file needs no request; offline mode reads the cache only; otherwise a HEAD
 * revalidates (and when it cannot be answered, the cached copy of the revision serves, with a warning);
 * a blob already in the cache is linked, else downloaded to {@code blobs/<etag>.incomplete} (resumed
 * from its size), checked against the announced size and hash, and renamed into place. Blocks the
 * calling thread, which must not be an event loop.
 */
final class HubFileFetcher {

    private static final Logger LOG = LoggerFactory.getLogger(HubFileFetcher.class);
    /** Attempts in a row that may end without a byte of progress before a download gives up. */
    static final int RETRIES_WITHOUT_PROGRESS = 5;

    /** A file in the cache and the commit it belongs to. */
    record CachedFile(Path path, String commit) {
    }

    private final HubClient client;
    private final HubSettings settings;
    private final RepoId repo;
    private final HubCache cache;
    private final Consumer<String> status;
    private final DownloadProgress.Output progressOutput;
    private final LongSupplier clock;
    private final long retryDelayMs;

    HubFileFetcher(HubClient client, HubSettings settings, RepoId repo, Consumer<String> status,
                   DownloadProgress.Output progressOutput, LongSupplier clock, long retryDelayMs) {
        this.client = client;
        this.settings = settings;
        this.repo = repo;
        this.cache = new HubCache(settings.cacheDir(), repo);
        this.status = status;
        this.progressOutput = progressOutput;
        this.clock = clock;
        this.retryDelayMs = retryDelayMs;
    }

    HubCache cache() {
        return cache;
    }

    /** The file at that revision (a branch, tag or commit hash), from the cache or the Hub. */
    CachedFile fetch(String revision, String file) throws HubException {
        if (FileMetadata.isCommitHash(revision)) {
            Optional<Path> cached = cache.cachedFile(revision, file);
            if (cached.isPresent()) {
                return new CachedFile(cached.get(), revision);
            }
        }
        if (settings.offline()) {
            return fromCache(revision, file).orElseThrow(() -> notInCache(revision, file));
        }
        status.accept("checking " + file + " of " + repo + " on the Hub");
        FileMetadata metadata;
        try {
            metadata = await(client.metadata(repo, revision, file));
        } catch (HubException e) {
            if (e.kind() == Kind.ENTRY_NOT_FOUND && e.commitHash().isPresent()) {
                cache.markMissing(e.commitHash().get(), file);
                cache.saveRef(revision, e.commitHash().get());
            }
            if (e.kind().cacheMayAnswer()) {
                Optional<CachedFile> cached = fromCache(revision, file);
                if (cached.isPresent()) {
                    LOG.warn("could not check {} of {} on the Hub, so serving the cached copy of commit {}: {}", file,
                            repo, cached.get().commit(), e.getMessage());
                    return cached.get();
                }
            }
            throw e;
        }
        cache.prepare(metadata.commitHash());
        cache.saveRef(revision, metadata.commitHash());
        Optional<Path> cached = cache.cachedFile(metadata.commitHash(), file);
        if (cached.isPresent()) {
            return new CachedFile(cached.get(), metadata.commitHash());
        }
        Runnable waiting = () -> {
            status.accept("waiting for another process downloading " + file + " of " + repo);
            LOG.info("another process is downloading {} of {} into {}; waiting for it", file, repo, cache.folder());
        };
        try (HubCache.BlobLock lock = cache.lock(metadata.etag(), waiting)) {
            boolean newBlob = !Files.isRegularFile(cache.blob(metadata.etag()));
            if (newBlob) {
                download(file, metadata);
            }
            return new CachedFile(cache.link(metadata.commitHash(), file, metadata.etag(), newBlob),
                    metadata.commitHash());
        }
    }

    /**
     * Whether the repository has the file at that commit: a HEAD (whose "no" is remembered in the cache),
     * or in offline mode what the cache knows.
     */
    boolean exists(String commit, String file) throws HubException {
        if (cache.cachedFile(commit, file).isPresent()) {
            return true;
        }
        if (settings.offline() || cache.isMarkedMissing(commit, file)) {
            return false;
        }
        try {
            await(client.metadata(repo, commit, file));
            return true;
        } catch (HubException e) {
            if (e.kind() == Kind.ENTRY_NOT_FOUND) {
                cache.markMissing(commit, file);
                return false;
            }
            throw e;
        }
    }

    /** The cached file of a revision: a commit hash, or the commit {@code refs/<revision>} names. */
    private Optional<CachedFile> fromCache(String revision, String file) {
        return cache.commitFor(revision)
                .flatMap(commit -> cache.cachedFile(commit, file).map(path -> new CachedFile(path, commit)));
    }

    private HubException notInCache(String revision, String file) {
        Optional<String> commit = cache.commitFor(revision);
        if (commit.isPresent() && cache.isMarkedMissing(commit.get(), file)) {
            return new HubException(Kind.ENTRY_NOT_FOUND, repo + " has no " + file + " at revision " + revision
                    + " (as the cache at " + settings.cacheDir() + " remembers)", commit.get());
        }
        String missing = commit.isEmpty()
                ? (Files.isDirectory(cache.folder()) ? "revision " + revision + " of " + repo : repo.toString())
                : file + " of " + repo + (revision.equals(commit.get()) ? " at commit " + revision
                : " at revision " + revision + " (commit " + commit.get() + ")");
        return new HubException(Kind.NOT_IN_CACHE, missing + " is not in the cache at " + settings.cacheDir()
                + " and offline mode is on (HF_HUB_OFFLINE=1): download it once with the network on, or point "
                + "HF_HUB_CACHE at a cache that has it");
    }

    private void download(String file, FileMetadata metadata) throws HubException {
        Path incomplete = cache.incomplete(metadata.etag());
        long size = metadata.size();
        int failures = 0;
        while (true) {
            long have = sizeOf(incomplete);
            if (have > size) {
                LOG.warn("{} is larger than {} announced for {}; starting that download over", incomplete, repo, file);
                delete(incomplete);
                have = 0;
            }
            if (have == size && size > 0) {
                break;
            }
            DiskErrors.checkSpace(incomplete.getParent(), size - have, file + " of " + repo);
            if (have > 0) {
                LOG.info("resuming the download of {} of {} at {} of {}", file, repo, DownloadProgress.size(have),
                        DownloadProgress.size(size));
            }
            DownloadProgress progress = new DownloadProgress(repo.toString(), file, size, have, progressOutput,
                    status, clock);
            try {
                await(client.download(repo, file, metadata, incomplete, have, progress::advance));
                progress.finish();
                break;
            } catch (HubException e) {
                progress.finish();
                if (e.kind() != Kind.INTERRUPTED) {
                    throw e;
                }
                failures = sizeOf(incomplete) > have ? 1 : failures + 1;
                if (failures > RETRIES_WITHOUT_PROGRESS) {
                    throw new HubException(Kind.INTERRUPTED, e.getMessage() + ", " + failures + " times in a row "
                            + "without progress; start again to resume from the " + DownloadProgress.size(
                            sizeOf(incomplete)) + " kept in " + incomplete, e);
                }
                LOG.warn("{}; resuming in {} ms", e.getMessage(), retryDelayMs);
                pause(retryDelayMs);
            }
        }
        verify(file, metadata, incomplete);
        try {
            Files.move(incomplete, cache.blob(metadata.etag()), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw DiskErrors.writeFailure(cache.blob(metadata.etag()), 0, e);
        }
    }

    /** Checks size and hash; a file that fails is deleted so that nothing ever uses it. */
    private void verify(String file, FileMetadata metadata, Path incomplete) throws HubException {
        long size = sizeOf(incomplete);
        if (size != metadata.size()) {
            delete(incomplete);
            throw new HubException(Kind.CORRUPTED, "the download of " + file + " of " + repo + " has " + size
                    + " bytes where the Hub announced " + metadata.size() + "; the partial file was deleted, start "
                    + "again to download it anew");
        }
        boolean sha256 = metadata.etagIsSha256();
        boolean gitSha1 = metadata.etagIsGitSha1();
        if (!sha256 && !gitSha1) {
            return;
        }
        status.accept("checking " + file + " of " + repo + (sha256 ? " (sha256)" : " (git sha1)"));
        String actual;
        try {
            actual = sha256 ? ContentHash.sha256(incomplete) : ContentHash.gitBlobSha1(incomplete);
        } catch (IOException e) {
            throw new HubException(Kind.OTHER, "cannot read " + incomplete + " back to check it: " + e.getMessage(), e);
        }
        if (!actual.equals(metadata.etag())) {
            delete(incomplete);
            throw new HubException(Kind.CORRUPTED, "the download of " + file + " of " + repo + " is corrupted: its "
                    + (sha256 ? "sha256" : "git sha1") + " is " + actual + " where the Hub announced "
                    + metadata.etag() + "; it was deleted and not used, start again to download it anew");
        }
    }

    private static long sizeOf(Path file) {
        try {
            return Files.isRegularFile(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.warn("could not delete {}: {}", file, e.getMessage());
        }
    }

    private static void pause(long millis) throws HubException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException(Kind.INTERRUPTED, "interrupted while waiting to resume a download", e);
        }
    }

    /** Waits for the future on this (non event-loop) thread; its failure comes back as a {@link HubException}. */
    static <T> T await(Future<T> future) throws HubException {
        try {
            return future.await();
        } catch (Exception e) {
            if (e instanceof HubException hub) {
                throw hub;
            }
            throw new HubException(Kind.OTHER, String.valueOf(e.getMessage()), e);
        }
    }
}
