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

    @ParameterizedTest
    @ValueSource(strings = {"8.8.8.8", "93.184.216.34", "172.32.0.1", "100.128.0.1", "169.255.0.1", "2606:4700::1111",
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
