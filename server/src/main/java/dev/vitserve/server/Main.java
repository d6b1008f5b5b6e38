package dev.vitserve.server;

/** Starts vitserve from the command line. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.out.println("vitserve");
    }
}
