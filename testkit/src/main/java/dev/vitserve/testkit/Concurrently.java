package dev.vitserve.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

/** Runs a test's tasks on several threads at once and hands back their results or their first failure. */
public final class Concurrently {

    private Concurrently() {
    }

    /** Runs every task on a pool of {@code threads}; returns the results in the tasks' order. */
    public static <T> List<T> call(int threads, List<Callable<T>> tasks) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (Callable<T> task : tasks) {
                futures.add(pool.submit(task));
            }
            List<T> results = new ArrayList<>();
            for (Future<T> future : futures) {
                results.add(unwrapped(future));
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Runs {@code task(0) .. task(threads - 1)}, each on its own thread, and waits for all of them. */
    public static void run(int threads, IntFunction<Callable<?>> task) throws Exception {
        List<Callable<Object>> tasks = new ArrayList<>();
        for (int thread = 0; thread < threads; thread++) {
            Callable<?> one = task.apply(thread);
            tasks.add(one::call);
        }
        call(threads, tasks);
    }

    /** The future's value; a failure inside the task is thrown as itself, so its assertion message shows. */
    private static <T> T unwrapped(Future<T> future) throws Exception {
        try {
            return future.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            if (e.getCause() instanceof Exception exception) {
                throw exception;
            }
            throw e;
        }
    }
}
