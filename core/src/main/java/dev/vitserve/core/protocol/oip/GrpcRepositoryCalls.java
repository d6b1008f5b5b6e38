package dev.vitserve.core.protocol.oip;

import dev.vitserve.core.http.ApiException;
import dev.vitserve.core.http.ApiKeyCheck;
import dev.vitserve.core.protocol.oip.grpc.ModelRepositoryParameter;
import dev.vitserve.core.protocol.oip.grpc.RepositoryIndexRequest;
import dev.vitserve.core.protocol.oip.grpc.RepositoryIndexResponse;
import dev.vitserve.core.protocol.oip.grpc.RepositoryModelLoadRequest;
import dev.vitserve.core.protocol.oip.grpc.RepositoryModelLoadResponse;
import dev.vitserve.core.protocol.oip.grpc.RepositoryModelUnloadRequest;
import dev.vitserve.core.protocol.oip.grpc.RepositoryModelUnloadResponse;
import io.vertx.core.Future;

/**
 * The gRPC service's model repository calls (RepositoryIndex, RepositoryModelLoad, RepositoryModelUnload,
 * with Triton's messages): they read and write the protocol's messages around {@link OipModelRepository},
 * which does the work for the REST routes too. {@link OipGrpcService} checks the admin key before them.
 */
public final class GrpcRepositoryCalls {

    private final OipModelRepository repository;
    private final ApiKeyCheck adminKey;

    /** @param adminKey the key the calls must carry; null (no {@code --admin-api-key}) refuses them */
    public GrpcRepositoryCalls(OipModelRepository repository, ApiKeyCheck adminKey) {
        this.repository = repository;
        this.adminKey = adminKey;
    }

    /** The key the calls must carry, or null when they are off. */
    ApiKeyCheck adminKey() {
        return adminKey;
    }

    Future<RepositoryIndexResponse> index(RepositoryIndexRequest request) {
        checkRepository(request.getRepositoryName());
        return repository.index(request.getReady()).map(entries -> {
            RepositoryIndexResponse.Builder answer = RepositoryIndexResponse.newBuilder();
            entries.forEach(entry -> answer.addModels(RepositoryIndexResponse.ModelIndex.newBuilder().setName(entry.name())
                    .setVersion(entry.version()).setState(entry.state()).setReason(entry.reason())));
            return answer.build();
        });
    }

    Future<RepositoryModelLoadResponse> load(RepositoryModelLoadRequest request) {
        checkRepository(request.getRepositoryName());
        OipModelRepository.refuseModelFiles(request.getParametersMap().keySet());
        ModelRepositoryParameter config = request.getParametersMap().get("config");
        if (config != null && !config.hasStringParam()) {
            throw ApiException.badRequest("invalid_config", "the config parameter must be a string_param holding a JSON "
                    + "object of per-model settings");
        }
        return repository.load(requiredName(request.getModelName()), config == null ? null : config.getStringParam())
                .map(v -> RepositoryModelLoadResponse.getDefaultInstance());
    }

    Future<RepositoryModelUnloadResponse> unload(RepositoryModelUnloadRequest request) {
        checkRepository(request.getRepositoryName());
        return repository.unload(requiredName(request.getModelName()))
                .map(v -> RepositoryModelUnloadResponse.getDefaultInstance());
    }

    private static String requiredName(String model) {
        if (model.isEmpty()) {
            throw ApiException.badRequest("missing_model", "model_name is empty: name the model to load or unload");
        }
        return model;
    }

    /** vitserve has one repository: a request may leave its name empty or give the name of its folder. */
    private void checkRepository(String name) {
        String repositoryName = repository.name();
        if (!name.isEmpty() && !name.equals(repositoryName)) {
            throw new ApiException(404, "unknown_repository", "this server has no repository '" + name + "'; "
                    + (repositoryName.isEmpty() ? "it was started without --model-repository"
                    : "its one repository is '" + repositoryName + "' (an empty repository_name means it too)"));
        }
    }
}
