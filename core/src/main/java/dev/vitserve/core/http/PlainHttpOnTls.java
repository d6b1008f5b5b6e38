package dev.vitserve.core.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.nio.charset.StandardCharsets;

/**
 * Put first on a connection a TLS listener accepts, ahead of its TLS handler: when the first byte is a
 * letter (the start of an HTTP request line: {@code GET}, {@code POST}, {@code PRI}) rather than a TLS
 * record, the client spoke plain HTTP to an HTTPS port; it gets a 400 saying to use https, as nginx
 * answers, and the connection is closed (instead of a TLS handler dropping it without a word). Looks at
 * that one byte only, then steps aside.
 */
final class PlainHttpOnTls extends ChannelInboundHandlerAdapter {

    private static final byte[] ANSWER = answer();

    private static byte[] answer() {
        String body = ErrorResponses.json("https_required", "this port serves HTTPS and the request was plain HTTP: "
                + "use https:// (curl https://..., with --cacert for a private certificate)");
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        return ("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: " + bytes.length
                + "\r\nConnection: close\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf bytes && bytes.isReadable()) {
            byte first = bytes.getByte(bytes.readerIndex());
            ctx.pipeline().remove(this);
            if (first >= 'A' && first <= 'Z') {
                bytes.release();
                ctx.writeAndFlush(Unpooled.wrappedBuffer(ANSWER)).addListener(ChannelFutureListener.CLOSE);
                return;
            }
        }
        ctx.fireChannelRead(msg);
    }
}
