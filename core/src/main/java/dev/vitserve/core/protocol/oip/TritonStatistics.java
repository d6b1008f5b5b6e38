package dev.vitserve.core.protocol.oip;

import dev.vitserve.core.metrics.ModelMetrics;
import dev.vitserve.core.protocol.oip.grpc.InferBatchStatistics;
import dev.vitserve.core.protocol.oip.grpc.InferStatistics;
import dev.vitserve.core.protocol.oip.grpc.ModelStatistics;
import dev.vitserve.core.protocol.oip.grpc.StatisticDuration;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.search.Search;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;

/**
 * A model's statistics in Triton's {@code ModelStatistics} schema, read from the very meters {@code /metrics}
 * exports ({@link ModelMetrics}, labelled with the model's name), so both always agree: inference_count and
 * execution_count from the batch sizes, success and fail from the images the scheduler took, queue, compute_input
 * (decode plus preprocess) and compute_infer from their timers, and one batch_stats entry per batch size the engine
 * ran. vitserve counts images, the unit its scheduler batches: a request of N images counts N.
 */
public final class TritonStatistics {

    private final MeterRegistry registry;

    /** @param registry the registry {@code /metrics} exports */
    public TritonStatistics(MeterRegistry registry) {
        this.registry = registry;
    }

    ModelStatistics of(String model) {
        DistributionSummary batches = search(ModelMetrics.BATCH_SIZE, model).summary();
        Timer decode = search(ModelMetrics.DECODE, model).timer();
        Timer preprocess = search(ModelMetrics.PREPROCESS, model).timer();
        StatisticDuration input = StatisticDuration.newBuilder().setCount(count(preprocess))
                .setNs(ns(decode) + ns(preprocess)).build();
        ModelStatistics.Builder statistics = ModelStatistics.newBuilder().setName(model)
                .setVersion(ModelMetadata.VERSION).setLastInference(lastInference(model))
                .setInferenceCount(batches == null ? 0 : Math.round(batches.totalAmount()))
                .setExecutionCount(batches == null ? 0 : batches.count())
                .setInferenceStats(InferStatistics.newBuilder()
                        .setSuccess(duration(search(ModelMetrics.IMAGES, model)
                                .tag(ModelMetrics.OUTCOME_TAG, ModelMetrics.SUCCESS).timer()))
                        .setFail(duration(search(ModelMetrics.IMAGES, model)
                                .tag(ModelMetrics.OUTCOME_TAG, ModelMetrics.FAILURE).timer()))
                        .setQueue(duration(search(ModelMetrics.QUEUE_WAIT, model).timer()))
                        .setComputeInput(input)
                        .setComputeInfer(duration(search(ModelMetrics.INFERENCE, model).timer()))
                        .setComputeOutput(StatisticDuration.getDefaultInstance()));
        search(ModelMetrics.BATCH_RUNS, model).timers().stream()
                .sorted(Comparator.comparingInt(TritonStatistics::batchSize))
                .forEach(runs -> statistics.addBatchStats(InferBatchStatistics.newBuilder()
                        .setBatchSize(batchSize(runs)).setComputeInput(StatisticDuration.getDefaultInstance())
                        .setComputeInfer(duration(runs)).setComputeOutput(StatisticDuration.getDefaultInstance())));
        return statistics.build();
    }

    private Search search(String meter, String model) {
        return registry.find(meter).tag("model", model);
    }

    private long lastInference(String model) {
        Gauge gauge = search(ModelMetrics.LAST_INFERENCE, model).gauge();
        double seconds = gauge == null ? Double.NaN : gauge.value();
        return Double.isNaN(seconds) ? 0 : Math.round(seconds * 1000);
    }

    private static int batchSize(Timer runs) {
        return Integer.parseInt(runs.getId().getTag(ModelMetrics.BATCH_SIZE_TAG));
    }

    private static StatisticDuration duration(Timer timer) {
        return StatisticDuration.newBuilder().setCount(count(timer)).setNs(ns(timer)).build();
    }

    private static long count(Timer timer) {
        return timer == null ? 0 : timer.count();
    }

    private static long ns(Timer timer) {
        return timer == null ? 0 : Math.round(timer.totalTime(TimeUnit.NANOSECONDS));
    }
}
