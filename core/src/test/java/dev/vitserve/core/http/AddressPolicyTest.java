package dev.vitserve.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class AddressPolicyTest {

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "127.255.1.2", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
        "169.254.169.254", "100.64.0.1", "100.127.255.255", "0.0.0.0", "224.0.0.1", "255.255.255.255", "240.0.0.1",
        "198.18.0.1", "192.0.0.8", "::1", "::", "fc00::1", "fd12:3456::1", "fe80::1", "febf::1", "ff02::1",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::127.0.0.1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::1", "2002:c0a8:101::1"})
    void internalAddressesAreRefused(String address) throws Exception {
        assertTrue(AddressPolicy.refusal(InetAddress.getByName(address)).isPresent(), address);
    }

    /** One address in each IANA special-purpose block that is not globally reachable, with the reason it is refused. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "0.1.2.3|unspecified", "10.255.0.1|private", "100.64.0.1|carrier-grade NAT", "127.8.9.10|loopback",
        "169.254.169.254|link-local", "172.20.0.1|private", "192.0.0.170|IETF protocol", "192.0.2.1|documentation",
        "192.88.99.1|6to4 relay", "192.168.0.1|private", "198.18.0.1|benchmarking", "198.19.255.255|benchmarking",
        "198.51.100.7|documentation", "203.0.113.9|documentation", "224.0.0.251|multicast", "240.0.0.1|reserved",
        "255.255.255.255|reserved or broadcast",
        "::|IPv4-translated", "::1|loopback", "::ffff:0:7f00:1|IPv4-translated", "::7f00:1|IPv4-compatible",
        "64:ff9b::7f00:1|loopback address (127.0.0.0/8) inside a NAT64", "64:ff9b:1::1|local-use IPv4/IPv6 translation",
        "100::1|discard-only", "100:0:0:1::1|dummy", "2001::1|Teredo", "2001:0:4136:e378:8000:63bf:3fff:fdd2|Teredo",
        "2001:2::1|benchmarking", "2001:db8::1|documentation", "3fff::1|documentation", "5f00::1|segment routing",
        "2002:c000:201::1|documentation address (192.0.2.0/24) inside a 6to4", "2002:a00:1::1|private address (10.0.0.0/8) inside a 6to4",
        "fc00::1|unique local", "fd12:3456::1|unique local", "fe80::1|link-local", "fec0::1|site-local",
        "ff02::1|multicast", "4000::1|unallocated", "1000::1|unallocated"})
    void everySpecialPurposeBlockNotGloballyReachableIsRefused(String address, String reason) throws Exception {
        String refusal = AddressPolicy.refusal(InetAddress.getByName(address)).orElse("allowed");
        assertTrue(refusal.contains(reason), address + ": " + refusal);
    }

    @ParameterizedTest
    @ValueSource(strings = {"8.8.8.8", "1.1.1.1", "192.0.3.1", "192.31.196.1", "198.20.0.1", "203.0.114.1",
        "2a00:1450:4001::1", "2001:4860:4860::8888", "2001:200::1", "2002:101:101::1", "93.184.216.34", "172.32.0.1", "100.128.0.1", "169.255.0.1", "2606:4700::1111",
        "2002:808:808::1", "64:ff9b::808:808"})
    void publicAddressesAreAllowed(String address) throws Exception {
        assertFalse(AddressPolicy.refusal(InetAddress.getByName(address)).isPresent(), address);
    }

    @ParameterizedTest
    @CsvSource({"2130706433,127.0.0.1", "0x7f000001,127.0.0.1", "0177.0.0.1,127.0.0.1", "127.1,127.0.0.1",
        "0x7f.1,127.0.0.1", "10.0.258,10.0.1.2", "0,0.0.0.0", "017700000001,127.0.0.1", "169.254.43518,169.254.169.254",
        "8.8.8.8.,8.8.8.8"})
    void numericHostsAreReadAsBrowsersReadThem(String host, String expected) {
        assertEquals(expected, AddressPolicy.numericIpv4(host).orElseThrow().getHostAddress());
    }

    @ParameterizedTest
    @ValueSource(strings = {"example.com", "1.2.3.4.5", "256.1.1.1", "0x", "09.1.1.1", "deadbeef", "1..2", "4294967296"})
    void namesAndInvalidNumbersAreNotNumericHosts(String host) {
        assertFalse(AddressPolicy.numericIpv4(host).isPresent(), host);
    }
}
