package dev.vitserve.backend.djl;

import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.Device;
import dev.vitserve.api.NetworkBuild;
import java.nio.file.Path;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * What every backend whose network runs in DJL's PyTorch engine shares: what it reports (device, weights file, engine,
 * build) and its lifecycle, where calls hold a read lock and {@link #close()} the write lock, so nothing is closed
 * under a running call.
 */
abstract class PyTorchBackend implements Backend {

    /** One call on the open network. */
    @FunctionalInterface
    interface Call<T> {
        T run() throws BackendException;
    }

    private final String modelName;
    private final Path weightsFile;
    private final Device device;
    private final String engine;
    private NetworkBuild build;
    private final ReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private boolean closed;

    PyTorchBackend(String modelName, Path weightsFile, Device device, String engine, NetworkBuild build) {
        this.modelName = modelName;
        this.weightsFile = weightsFile;
        this.device = device;
        this.engine = engine;
        this.build = build;
    }

    /** The model's name, as messages give it. */
    final String modelName() {
        return modelName;
    }

    /** Records how the network was built, once it is loaded and checked. */
    final void built(NetworkBuild build) {
        this.build = build;
    }

    /**
     * Runs a call under the read lock.
     *
     * @throws IllegalStateException when the backend is closed
     */
    final <T> T whileOpen(Call<T> call) throws BackendException {
        lifecycle.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException("the DJL backend of " + modelName + " is closed");
            }
            return call.run();
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /** Releases the network's native memory; called once, under the write lock. */
    abstract void closeNetwork();

    @Override
    public final Device device() {
        return device;
    }

    @Override
    public final Path weightsFile() {
        return weightsFile;
    }

    @Override
    public final String engine() {
        return engine;
    }

    @Override
    public final NetworkBuild build() {
        return build;
    }

    @Override
    public final void close() {
        lifecycle.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                closeNetwork();
            }
        } finally {
            lifecycle.writeLock().unlock();
        }
    }
}
