package dev.vitserve.core.model;

import dev.vitserve.api.BackendProvider;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** The backends found on the classpath with {@link ServiceLoader}, by id. */
public final class BackendRegistry {

    private final Map<String, BackendProvider> providers;

    private BackendRegistry(Map<String, BackendProvider> providers) {
        this.providers = providers;
    }

    /** Finds every {@link BackendProvider} registered in {@code META-INF/services} visible to the class loader. */
    public static BackendRegistry discover(ClassLoader classLoader) {
        Map<String, BackendProvider> found = new TreeMap<>();
        for (BackendProvider provider : ServiceLoader.load(BackendProvider.class, classLoader)) {
            BackendProvider earlier = found.putIfAbsent(provider.id(), provider);
            if (earlier != null) {
                throw new IllegalStateException("two backends claim the id '" + provider.id() + "': "
                        + earlier.getClass().getName() + " and " + provider.getClass().getName());
            }
        }
        return new BackendRegistry(found);
    }

    /** The provider with that id; the exception lists the ids that were found. */
    public BackendProvider get(String id) throws ModelLoadException {
        BackendProvider provider = providers.get(id);
        if (provider == null) {
            throw new ModelLoadException("unknown backend '" + id + "'; backends found on the classpath: "
                    + (providers.isEmpty() ? "none (add backend-onnx or backend-djl)" : String.join(", ", providers.keySet())));
        }
        return provider;
    }

    /** The ids found, sorted. */
    public java.util.Set<String> ids() {
        return providers.keySet();
    }
}
