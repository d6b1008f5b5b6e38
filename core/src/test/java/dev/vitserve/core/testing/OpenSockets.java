package dev.vitserve.core.testing;

import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.List;

/** Counts the client sockets a server has left open, for the tests of its connection bounds. */
public final class OpenSockets {

    private OpenSockets() {
    }

    /**
     * How many of the sockets the server has not closed: what it sent first (HTTP/2's settings) is read
     * away, then a read that neither ends nor fails within 2 ms means open.
     */
    public static int stillOpen(List<Socket> sockets) throws Exception {
        int open = 0;
        byte[] buffer = new byte[256];
        for (Socket socket : sockets) {
            socket.setSoTimeout(2);
            InputStream in = socket.getInputStream();
            try {
                while (in.read(buffer) != -1) {
                    // the server's frames, if any
                }
            } catch (SocketTimeoutException e) {
                open++;
            } catch (SocketException reset) {
                // closed by the server
            }
        }
        return open;
    }
}
