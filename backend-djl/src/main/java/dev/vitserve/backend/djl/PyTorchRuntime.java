package dev.vitserve.backend.djl;

import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.util.Utils;
import dev.vitserve.api.BackendException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts DJL's PyTorch engine once per process: offline, with the libtorch of the {@code pytorch-native-*}
 * jar on the classpath, and with the thread counts that PyTorch reads only when it starts.
 */
final class PyTorchRuntime {

    static final String ENGINE_NAME = "PyTorch";
    /** DJL's switch against downloads; its environment variable twin is {@code DJL_OFFLINE}. */
    static final String OFFLINE_PROPERTY = "ai.djl.offline";
    static final String INTRA_OP_THREADS_PROPERTY = "ai.djl.pytorch.num_threads";
    static final String INTER_OP_THREADS_PROPERTY = "ai.djl.pytorch.num_interop_threads";

    private static final Logger LOG = LoggerFactory.getLogger(PyTorchRuntime.class);

    private static Engine engine;

    private PyTorchRuntime() {
    }

    /**
     * The PyTorch engine, started on first use with {@code intraOpThreads} intra-op threads and one inter-op thread.
     * PyTorch fixes its threads when it starts: a later call asking for other counts gets a warning, not a change.
     *
     * @throws BackendException when libtorch cannot be loaded
     */
    static synchronized Engine start(int intraOpThreads) throws BackendException {
        if (engine == null) {
            keepOffline();
            System.setProperty(INTRA_OP_THREADS_PROPERTY, Integer.toString(intraOpThreads));
            System.setProperty(INTER_OP_THREADS_PROPERTY, "1");
            try {
                engine = Engine.getEngine(ENGINE_NAME);
            } catch (RuntimeException | LinkageError e) {
                throw new BackendException("DJL cannot start its PyTorch engine: " + e.getMessage() + ". libtorch comes"
                        + " from ai.djl.pytorch:pytorch-native-cpu:2.7.1:linux-x86_64 (or a pytorch-native-cu128 jar) on the"
                        + " classpath, next to pytorch-jni 2.7.1-0.36.0"
                        + (Utils.isOfflineMode() ? "; DJL runs offline here and downloads nothing"
                                : ", or from the download PYTORCH_FLAVOR selects"), e);
            }
        }
        int actual = intraOpThreads();
        if (actual != intraOpThreads) {
            LOG.warn("PyTorch was started with {} intra-op threads and cannot change that in this process;"
                    + " asked for {} (--threads)", actual, intraOpThreads);
        }
        return engine;
    }

    /** The intra-op threads PyTorch actually uses. */
    static int intraOpThreads() {
        return JniUtils.getNumThreads();
    }

    /** Whether the loaded libtorch was built with CUDA. */
    static boolean hasCuda(Engine started) {
        return started.hasCapability(StandardCapabilities.CUDA);
    }

    /** Turns DJL's downloads off unless the operator decided otherwise with DJL_OFFLINE or -Dai.djl.offline. */
    private static void keepOffline() {
        String environment = System.getenv("DJL_OFFLINE");
        String property = System.getProperty(OFFLINE_PROPERTY);
        if (environment == null && property == null) {
            System.setProperty(OFFLINE_PROPERTY, "true");
        } else if (!Boolean.parseBoolean(environment != null ? environment : property)) {
            LOG.info("DJL may download libtorch and models: {} is false", environment != null ? "DJL_OFFLINE" : OFFLINE_PROPERTY);
        }
    }
}
