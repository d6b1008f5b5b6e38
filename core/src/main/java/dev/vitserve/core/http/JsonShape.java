package dev.vitserve.core.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.IOException;

/**
 * Bounds on the shape of a JSON request body, checked by one streaming pass that builds nothing, before the body is
 * parsed into objects: a body within the size limit can otherwise hold ten million empty objects or numbers, each
 * costing tens of bytes of heap once parsed (a 20 MB body of {@code {},} becomes gigabytes).
 *
 * @param maxDepth the deepest nesting of objects and arrays
 * @param maxContainers objects and arrays in all
 * @param maxValues numbers, strings, booleans and nulls in all
 */
public record JsonShape(int maxDepth, int maxContainers, int maxValues) {

    /**
     * The bounds of vitserve's JSON bodies: nesting 32 deep, 10 000 objects and arrays, and 4 194 304 values (16
     * images of 3 x 256 x 256 as plain JSON numbers in an Open Inference Protocol request, with room to spare).
     */
    public static final JsonShape REQUESTS = new JsonShape(32, 10_000, 4 * 1024 * 1024);

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE - 8).build())
            .build();

    /**
     * Checks the body; malformed JSON passes, for the parser after it to say what is wrong where.
     *
     * @throws ApiException 413 {@code json_too_complex} naming the bound passed, as soon as it is passed
     */
    public void check(byte[] body, int offset, int length) {
        int depth = 0;
        int containers = 0;
        int values = 0;
        try (JsonParser parser = FACTORY.createParser(body, offset, length)) {
            for (JsonToken token = parser.nextToken(); token != null; token = parser.nextToken()) {
                switch (token) {
                    case START_OBJECT, START_ARRAY -> {
                        if (++depth > maxDepth) {
                            throw refusal("nests objects and arrays more than " + maxDepth + " deep");
                        }
                        if (++containers > maxContainers) {
                            throw refusal("holds more than " + maxContainers + " objects and arrays");
                        }
                    }
                    case END_OBJECT, END_ARRAY -> depth--;
                    case FIELD_NAME -> {
                    }
                    default -> {
                        if (++values > maxValues) {
                            throw refusal("holds more than " + maxValues + " values");
                        }
                    }
                }
            }
        } catch (IOException e) {
            // not JSON: the parser that follows answers invalid_json
        }
    }

    /** As {@link #check(byte[], int, int)} on a whole array. */
    public void check(byte[] body) {
        check(body, 0, body.length);
    }

    private static ApiException refusal(String what) {
        return ApiException.tooLarge("json_too_complex", "the JSON body " + what + "; send images as base64 strings,"
                + " uploads or binary tensor data instead");
    }
}
