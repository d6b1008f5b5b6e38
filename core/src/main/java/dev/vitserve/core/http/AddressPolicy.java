package dev.vitserve.core.http;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Optional;

/**
 * Decides which addresses image URLs may reach. A public server must not be turned into a
 * proxy into its own network (server-side request forgery): loopback, private, link-local
 * (cloud metadata at 169.254.169.254), CGNAT, multicast, unspecified and reserved ranges are
 * refused, in IPv4 and IPv6, including IPv6 forms that embed an IPv4 address.
 */
public final class AddressPolicy {

    private AddressPolicy() {
    }

    /** Why the address must not be fetched, or empty when it is a public unicast address. */
    public static Optional<String> refusal(InetAddress address) {
        if (address instanceof Inet4Address) {
            return ipv4Refusal(address.getAddress());
        }
        byte[] b = address.getAddress();
        if (address.isAnyLocalAddress()) {
            return Optional.of("the unspecified address");
        }
        if (address.isLoopbackAddress()) {
            return Optional.of("a loopback address");
        }
        if ((b[0] & 0xfe) == 0xfc) {
            return Optional.of("a private (unique local, fc00::/7) address");
        }
        if ((b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0x80) {
            return Optional.of("a link-local address");
        }
        if ((b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0xc0) {
            return Optional.of("a site-local address");
        }
        if ((b[0] & 0xff) == 0xff) {
            return Optional.of("a multicast address");
        }
        byte[] embedded = embeddedIpv4((Inet6Address) address);
        if (embedded != null) {
            return ipv4Refusal(embedded).map(reason -> reason + " (inside an IPv6 address)");
        }
        if ((b[0] & 0xff) == 0x20 && b[1] == 0x01 && (b[2] & 0xfe) == 0x0d && b[3] == (byte) 0xb8) {
            return Optional.of("a documentation address");
        }
        return Optional.empty();
    }

    private static Optional<String> ipv4Refusal(byte[] b) {
        int a0 = b[0] & 0xff;
        int a1 = b[1] & 0xff;
        if (a0 == 0) {
            return Optional.of("the unspecified address (0.0.0.0/8)");
        }
        if (a0 == 127) {
            return Optional.of("a loopback address");
        }
        if (a0 == 10 || (a0 == 172 && (a1 & 0xf0) == 16) || (a0 == 192 && a1 == 168)) {
            return Optional.of("a private address");
        }
        if (a0 == 169 && a1 == 254) {
            return Optional.of("a link-local address (cloud metadata lives there)");
        }
        if (a0 == 100 && (a1 & 0xc0) == 64) {
            return Optional.of("a shared carrier-grade NAT address (100.64.0.0/10)");
        }
        if (a0 == 192 && a1 == 0 && (b[2] & 0xff) == 0) {
            return Optional.of("an IETF protocol address (192.0.0.0/24)");
        }
        if (a0 == 198 && (a1 & 0xfe) == 18) {
            return Optional.of("a benchmarking address (198.18.0.0/15)");
        }
        if (a0 >= 224 && a0 <= 239) {
            return Optional.of("a multicast address");
        }
        if (a0 >= 240) {
            return Optional.of("a reserved or broadcast address");
        }
        return Optional.empty();
    }

    /** The IPv4 address inside IPv4-mapped, IPv4-compatible, NAT64 (64:ff9b::/96) and 6to4 (2002::/16) forms. */
    private static byte[] embeddedIpv4(Inet6Address address) {
        byte[] b = address.getAddress();
        boolean zeroPrefix = true;
        for (int i = 0; i < 10; i++) {
            zeroPrefix &= b[i] == 0;
        }
        boolean mapped = zeroPrefix && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
        boolean compatible = zeroPrefix && b[10] == 0 && b[11] == 0;
        boolean nat64 = b[0] == 0 && (b[1] & 0xff) == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b;
        for (int i = 4; nat64 && i < 12; i++) {
            nat64 = b[i] == 0;
        }
        if (mapped || compatible || nat64) {
            return new byte[] {b[12], b[13], b[14], b[15]};
        }
        if (b[0] == 0x20 && b[1] == 0x02) {
            return new byte[] {b[2], b[3], b[4], b[5]};
        }
        return null;
    }

    /**
     * Reads a host written as an IPv4 number the way browsers and curl do ({@code inet_aton}):
     * 1 to 4 parts, each decimal, octal (leading 0) or hex (0x), the last part filling the
     * remaining bytes; so {@code 2130706433}, {@code 0x7f000001}, {@code 0177.1} and
     * {@code 127.1} are all 127.0.0.1. Empty when the host is not such a number.
     */
    public static Optional<InetAddress> numericIpv4(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        if (h.isEmpty() || !h.matches("[0-9a-fx.]+") || h.chars().noneMatch(Character::isDigit)) {
            return Optional.empty();
        }
        String[] parts = h.split("\\.", -1);
        if (parts.length > 4) {
            return Optional.empty();
        }
        long[] values = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            Long value = parsePart(parts[i]);
            if (value == null) {
                return Optional.empty();
            }
            values[i] = value;
        }
        long result = 0;
        for (int i = 0; i < values.length - 1; i++) {
            if (values[i] > 255) {
                return Optional.empty();
            }
            result |= values[i] << (24 - 8 * i);
        }
        long last = values[values.length - 1];
        if (last >= 1L << (8 * (5 - values.length))) {
            return Optional.empty();
        }
        result |= last;
        byte[] bytes = {(byte) (result >> 24), (byte) (result >> 16), (byte) (result >> 8), (byte) result};
        try {
            return Optional.of(InetAddress.getByAddress(host, bytes));
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }

    private static Long parsePart(String part) {
        try {
            if (part.startsWith("0x")) {
                return part.length() > 2 && part.length() <= 10 ? Long.parseLong(part.substring(2), 16) : null;
            }
            if (part.length() > 1 && part.startsWith("0")) {
                return part.length() <= 12 ? Long.parseLong(part.substring(1), 8) : null;
            }
            return part.length() <= 10 ? Long.parseLong(part) : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
