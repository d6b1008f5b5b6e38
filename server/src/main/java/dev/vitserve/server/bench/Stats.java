package dev.vitserve.server.bench;

import java.util.Arrays;
import java.util.List;

/** Percentiles and rates of a set of measured durations, in milliseconds. */
record Stats(double[] sortedMs) {

    static Stats of(List<Double> millis) {
        double[] values = millis.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(values);
        return new Stats(values);
    }

    int count() {
        return sortedMs.length;
    }

    /** The q-th percentile (0..100) by the nearest-rank method. */
    double percentile(double q) {
        if (sortedMs.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(q / 100.0 * sortedMs.length);
        return sortedMs[Math.max(0, Math.min(sortedMs.length - 1, rank - 1))];
    }

    double median() {
        return percentile(50);
    }
}
