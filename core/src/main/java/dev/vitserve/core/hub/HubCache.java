package dev.vitserve.core.hub;

import dev.vitserve.core.hub.HubException.Kind;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One repository's folder in huggingface_hub's cache, {@code models--org--name}, laid out as Python lays
 * it out: {@code blobs/<etag>} holds each file once (named by its sha256 or git sha1),
 * {@code snapshots/<commit>/<file>} are relative symlinks {@code ../../blobs/<etag>}, {@code refs/<revision>}
 * holds the commit a branch or tag pointed to, {@code .no_exist/<commit>/<file>} remembers files the
 * repository lacks, and {@code ../.locks/models--org--name/<etag>.lock} guards a download. Blocking:
 * use it off the event loop.
 */
final class HubCache {

    private static final Logger LOG = LoggerFactory.getLogger(HubCache.class);
    private static final Map<Path, ReentrantLock> IN_PROCESS_LOCKS = new ConcurrentHashMap<>();

    private final Path cacheDir;
    private final RepoId repo;
    private final Path folder;

    HubCache(Path cacheDir, RepoId repo) {
        this.cacheDir = cacheDir;
        this.repo = repo;
        this.folder = cacheDir.resolve(repo.cacheFolderName());
    }

    /** {@code <cache>/models--org--name}. */
    Path folder() {
        return folder;
    }

    Path blob(String etag) {
        return folder.resolve("blobs").resolve(etag);
    }

    /** Where a blob grows while it downloads, kept across runs to resume from. */
    Path incomplete(String etag) {
        return folder.resolve("blobs").resolve(etag + ".incomplete");
    }

    Path snapshot(String commit) {
        return folder.resolve("snapshots").resolve(commit);
    }

    Path pointer(String commit, String file) {
        return snapshot(commit).resolve(file);
    }

    Path ref(String revision) {
        return folder.resolve("refs").resolve(revision);
    }

    private Path noExist(String commit, String file) {
        return folder.resolve(".no_exist").resolve(commit).resolve(file);
    }

    /** The commit a revision stands for: itself if it is a commit hash, else what {@code refs/<revision>} says. */
    Optional<String> commitFor(String revision) {
        if (FileMetadata.isCommitHash(revision)) {
            return Optional.of(revision);
        }
        try {
            Path ref = ref(revision);
            if (Files.isRegularFile(ref)) {
                String commit = Files.readString(ref, StandardCharsets.UTF_8).strip();
                return FileMetadata.isCommitHash(commit) ? Optional.of(commit) : Optional.empty();
            }
        } catch (IOException e) {
            LOG.warn("cannot read {}: {}", ref(revision), e.getMessage());
        }
        return Optional.empty();
    }

    /** Records that the revision (a branch or tag) points to the commit, if it does not say so already. */
    void saveRef(String revision, String commit) throws HubException {
        if (revision.equals(commit)) {
            return;
        }
        Path ref = ref(revision);
        try {
            if (Files.isRegularFile(ref) && Files.readString(ref, StandardCharsets.UTF_8).equals(commit)) {
                return;
            }
            Files.createDirectories(ref.getParent());
            Path temporary = Files.createTempFile(ref.getParent(), ".ref-", ".tmp");
            Files.writeString(temporary, commit, StandardCharsets.UTF_8);
            Files.move(temporary, ref, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw cannotWrite(ref, e);
        }
    }

    /** The file of that commit, if the snapshot has it (a symlink whose blob is there, or a plain file). */
    Optional<Path> cachedFile(String commit, String file) {
        Path pointer = pointer(commit, file);
        return Files.isRegularFile(pointer) ? Optional.of(pointer) : Optional.empty();
    }

    /** Whether an earlier answer of the Hub said the repository has no such file at that commit. */
    boolean isMarkedMissing(String commit, String file) {
        return Files.exists(noExist(commit, file));
    }

    /** Remembers that the repository has no such file at that commit, as huggingface_hub does. */
    void markMissing(String commit, String file) {
        Path marker = noExist(commit, file);
        try {
            Files.createDirectories(marker.getParent());
            if (!Files.exists(marker)) {
                Files.createFile(marker);
            }
        } catch (IOException e) {
            LOG.debug("could not remember that {} lacks {}: {}", repo, file, e.getMessage());
        }
    }

    /**
     * Makes {@code snapshots/<commit>/<file>} point at the blob with a relative symlink; where symlinks are
     * not possible, moves a new blob there (or copies one other snapshots may share), as huggingface_hub does.
     */
    Path link(String commit, String file, String etag, boolean newBlob) throws HubException {
        Path pointer = pointer(commit, file);
        Path blob = blob(etag);
        try {
            Files.createDirectories(pointer.getParent());
            Files.deleteIfExists(pointer);
            try {
                Files.createSymbolicLink(pointer, pointer.getParent().relativize(blob));
            } catch (FileAlreadyExistsException raced) {
                if (!Files.isSameFile(pointer, blob)) {
                    throw raced;
                }
            } catch (UnsupportedOperationException | IOException noSymlink) {
                LOG.warn("symlinks are not possible in {} ({}); {} the file instead", folder, noSymlink.getMessage(),
                        newBlob ? "moving" : "copying");
                if (newBlob) {
                    Files.move(blob, pointer, StandardCopyOption.ATOMIC_MOVE);
                } else {
                    Files.copy(blob, pointer);
                }
            }
        } catch (IOException e) {
            throw cannotWrite(pointer, e);
        }
        return pointer;
    }

    /** Creates the folders a download writes into. */
    void prepare(String commit) throws HubException {
        for (Path needed : new Path[] {folder.resolve("blobs"), snapshot(commit), lockFile("x").getParent()}) {
            try {
                Files.createDirectories(needed);
            } catch (IOException e) {
                throw cannotWrite(needed, e);
            }
        }
    }

    private Path lockFile(String etag) {
        return cacheDir.resolve(".locks").resolve(repo.cacheFolderName()).resolve(etag + ".lock");
    }

    /**
     * Holds the blob's lock file, so two vitserve processes sharing the cache do not download the same blob
     * at once (the second runs {@code whileWaiting}, waits, then finds the blob). Java's lock is a POSIX
     * record lock, not the {@code flock} Python's filelock takes, so it does not exclude a Python download
     * running at the same moment; the hash check still refuses whatever such a race could produce.
     */
    BlobLock lock(String etag, Runnable whileWaiting) throws HubException {
        Path path = lockFile(etag);
        ReentrantLock local = IN_PROCESS_LOCKS.computeIfAbsent(path, p -> new ReentrantLock());
        local.lock();
        try {
            Files.createDirectories(path.getParent());
            FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            try {
                FileLock lock = channel.tryLock();
                if (lock == null) {
                    whileWaiting.run();
                    lock = channel.lock();
                }
                return new BlobLock(local, channel, lock);
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        } catch (IOException | OverlappingFileLockException e) {
            LOG.debug("no lock file {} ({}): only this process is kept out", path, e.getMessage());
            return new BlobLock(local, null, null);
        } catch (RuntimeException e) {
            local.unlock();
            throw e;
        }
    }

    /** A held blob lock; closing releases it. */
    static final class BlobLock implements AutoCloseable {
        private final ReentrantLock local;
        private final FileChannel channel;
        private final FileLock lock;

        private BlobLock(ReentrantLock local, FileChannel channel, FileLock lock) {
            this.local = local;
            this.channel = channel;
            this.lock = lock;
        }

        @Override
        public void close() {
            try {
                if (lock != null) {
                    lock.release();
                }
                if (channel != null) {
                    channel.close();
                }
            } catch (IOException e) {
                LOG.debug("releasing a blob lock: {}", e.getMessage());
            } finally {
                if (local != null) {
                    local.unlock();
                }
            }
        }
    }

    private static HubException cannotWrite(Path path, IOException e) {
        return DiskErrors.writeFailure(path, 0, e);
    }
}
