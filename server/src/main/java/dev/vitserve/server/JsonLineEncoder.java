package dev.vitserve.server;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.Set;
import org.slf4j.event.KeyValuePair;

/**
 * {@code --log-format json}: one flat JSON object per line, as log shippers read it: {@code timestamp} (ISO-8601 UTC,
 * milliseconds), {@code level}, {@code logger}, {@code thread}, {@code message}, {@code exception} (the stack trace,
 * when there is one), then the event's key-value pairs as fields of their own type (numbers as numbers; a null value
 * is left out). A pair named like a fixed field is left out too, so a line never has a key twice.
 */
public final class JsonLineEncoder extends EncoderBase<ILoggingEvent> {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ISO_INSTANT;
    private static final Set<String> FIXED = Set.of("timestamp", "level", "logger", "thread", "message", "exception");
    private static final byte[] NONE = new byte[0];
    private final JsonFactory json = new JsonFactory();

    @Override
    public byte[] headerBytes() {
        return NONE;
    }

    @Override
    public byte[] footerBytes() {
        return NONE;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator line = json.createGenerator(out)) {
            line.writeStartObject();
            // ISO_INSTANT prints no fraction for a whole second: always three digits, as shippers parse
            Instant at = Instant.ofEpochMilli(event.getTimeStamp());
            String time = TIME.format(at);
            line.writeStringField("timestamp", at.getNano() == 0 ? time.replace("Z", ".000Z") : time);
            line.writeStringField("level", event.getLevel().toString());
            line.writeStringField("logger", event.getLoggerName());
            line.writeStringField("thread", event.getThreadName());
            line.writeStringField("message", event.getFormattedMessage());
            if (event.getThrowableProxy() != null) {
                line.writeStringField("exception", ThrowableProxyUtil.asString(event.getThrowableProxy()));
            }
            if (event.getKeyValuePairs() != null) {
                for (KeyValuePair pair : event.getKeyValuePairs()) {
                    if (pair.key != null && pair.value != null && !FIXED.contains(pair.key)) {
                        line.writeFieldName(pair.key);
                        value(line, pair.value);
                    }
                }
            }
            line.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.write('\n');
        return out.toByteArray();
    }

    private static void value(JsonGenerator line, Object value) throws IOException {
        if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
            line.writeNumber(((Number) value).longValue());
        } else if (value instanceof Double || value instanceof Float) {
            double number = ((Number) value).doubleValue();
            if (Double.isFinite(number)) {
                line.writeNumber(Math.round(number * 1000) / 1000.0);
            } else {
                line.writeNull();
            }
        } else if (value instanceof BigInteger || value instanceof BigDecimal) {
            line.writeNumber(value.toString());
        } else if (value instanceof Boolean flag) {
            line.writeBoolean(flag);
        } else {
            line.writeString(value.toString());
        }
    }
}
