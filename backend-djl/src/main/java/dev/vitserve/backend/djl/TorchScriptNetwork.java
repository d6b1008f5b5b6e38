package dev.vitserve.backend.djl;

import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.TranslateException;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/** A TorchScript network loaded by DJL; each runner is a {@link Predictor} of its own, as predictors are not thread-safe. */
final class TorchScriptNetwork implements TorchNetwork {

    private final ZooModel<NDList, NDList> model;
    /** Every predictor handed out, so that {@link #close()} closes them all. */
    private final Queue<Predictor<NDList, NDList>> predictors = new ConcurrentLinkedQueue<>();

    TorchScriptNetwork(ZooModel<NDList, NDList> model) {
        this.model = model;
    }

    @Override
    public NDManager manager() {
        return model.getNDManager();
    }

    @Override
    public Runner newRunner() {
        Predictor<NDList, NDList> predictor = model.newPredictor();
        predictors.add(predictor);
        return pixels -> {
            NDList outputs = predictor.predict(new NDList(pixels));
            if (outputs.isEmpty()) {
                throw new TranslateException("the TorchScript network returned nothing");
            }
            return new NDList(outputs.get(0));
        };
    }

    @Override
    public void close() {
        for (Predictor<NDList, NDList> each = predictors.poll(); each != null; each = predictors.poll()) {
            each.close();
        }
        model.close();
    }
}
