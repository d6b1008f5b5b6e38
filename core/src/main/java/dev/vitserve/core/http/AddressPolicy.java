package dev.vitserve.core.http;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Decides which addresses image URLs may reach. A public server must not be turned into a
 * proxy into its own network (server-side request forgery): every block of IANA's IPv4 and IPv6
 * Special-Purpose Address Registries that is not globally reachable is refused (loopback,
 * private, link-local with cloud metadata at 169.254.169.254, CGNAT, documentation,
 * benchmarking, reserved, local-use NAT64, Teredo, discard...), and multicast; IPv6 outside the
 * global unicast range 2000::/3 is refused as unallocated, and IPv6 forms that carry an IPv4
 * address (NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by that address.
 */
public final class AddressPolicy {

    /** A block of addresses and why it is refused. */
    private record Block(byte[] prefix, int bits, String reason) {

        static Block of(String cidr, String reason) {
            int slash = cidr.indexOf('/');
            try {
                return new Block(InetAddress.getByName(cidr.substring(0, slash)).getAddress(),
                        Integer.parseInt(cidr.substring(slash + 1)), reason + " (" + cidr + ")");
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException(cidr, e);
            }
        }

        boolean contains(byte[] address) {
            if (address.length != prefix.length) {
                return false;
            }
            for (int bit = 0; bit < bits; bit += 8) {
                int mask = bits - bit >= 8 ? 0xff : (0xff << (8 - (bits - bit))) & 0xff;
                if ((address[bit / 8] & mask) != (prefix[bit / 8] & mask)) {
                    return false;
                }
            }
            return true;
        }
    }

    /** IANA IPv4 Special-Purpose Address Registry entries not globally reachable, and multicast. */
    private static final List<Block> IPV4 = List.of(
            Block.of("0.0.0.0/8", "the unspecified address, \"this network\""),
            Block.of("10.0.0.0/8", "a private address"),
            Block.of("100.64.0.0/10", "a shared carrier-grade NAT address"),
            Block.of("127.0.0.0/8", "a loopback address"),
            Block.of("169.254.0.0/16", "a link-local address (cloud metadata lives there)"),
            Block.of("172.16.0.0/12", "a private address"),
            Block.of("192.0.0.0/24", "an IETF protocol address"),
            Block.of("192.0.2.0/24", "a documentation address"),
            Block.of("192.88.99.0/24", "a 6to4 relay anycast address (deprecated)"),
            Block.of("192.168.0.0/16", "a private address"),
            Block.of("198.18.0.0/15", "a benchmarking address"),
            Block.of("198.51.100.0/24", "a documentation address"),
            Block.of("203.0.113.0/24", "a documentation address"),
            Block.of("224.0.0.0/4", "a multicast address"),
            Block.of("240.0.0.0/4", "a reserved or broadcast address"));

    /** IANA IPv6 Special-Purpose Address Registry entries not globally reachable, and the non-unicast ranges; the first match names the reason. */
    private static final List<Block> IPV6 = List.of(
            Block.of("64:ff9b:1::/48", "a local-use IPv4/IPv6 translation address"),
            Block.of("::/8", "a loopback, unspecified, IPv4-mapped, IPv4-compatible or IPv4-translated address"),
            Block.of("100::/64", "a discard-only address"),
            Block.of("100:0:0:1::/64", "a dummy address"),
            Block.of("2001::/23", "an IETF protocol address (Teredo 2001::/32, benchmarking, ORCHID...)"),
            Block.of("2001:db8::/32", "a documentation address"),
            Block.of("3fff::/20", "a documentation address"),
            Block.of("5f00::/16", "a segment routing address"),
            Block.of("fc00::/7", "a private (unique local) address"),
            Block.of("fe80::/10", "a link-local address"),
            Block.of("fec0::/10", "a site-local address"),
            Block.of("ff00::/8", "a multicast address"));

    private static final Block NAT64 = Block.of("64:ff9b::/96", "an IPv4/IPv6 translation address");
    private static final Block SIX_TO_FOUR = Block.of("2002::/16", "a 6to4 address");
    private static final Block GLOBAL_UNICAST = Block.of("2000::/3", "global unicast");

    private AddressPolicy() {
    }

    /** Why the address must not be fetched, or empty when it is a globally reachable unicast address. */
    public static Optional<String> refusal(InetAddress address) {
        byte[] b = address.getAddress();
        if (address instanceof Inet4Address) {
            return refusal(IPV4, b);
        }
        if (NAT64.contains(b)) {
            return refusal(IPV4, Arrays.copyOfRange(b, 12, 16)).map(reason -> reason + " inside a NAT64 address");
        }
        if (SIX_TO_FOUR.contains(b)) {
            return refusal(IPV4, Arrays.copyOfRange(b, 2, 6)).map(reason -> reason + " inside a 6to4 address");
        }
        Optional<String> special = refusal(IPV6, b);
        if (special.isPresent() || GLOBAL_UNICAST.contains(b)) {
            return special;
        }
        return Optional.of("an unallocated IPv6 address (outside 2000::/3)");
    }

    private static Optional<String> refusal(List<Block> blocks, byte[] address) {
        for (Block block : blocks) {
            if (block.contains(address)) {
                return Optional.of(block.reason());
            }
        }
        return Optional.empty();
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
