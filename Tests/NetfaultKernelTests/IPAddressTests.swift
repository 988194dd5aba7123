import Foundation
import Glibc
import Testing
@testable import NetfaultKernel

@Suite struct IPAddressTests {
    @Test func parsesIPv4() throws {
        let address = try #require(IPAddress("10.77.250.1"))
        #expect(address.bytes == [10, 77, 250, 1])
        #expect(!address.isIPv6)
        #expect(address.family == AF_INET)
    }

    @Test func parsesIPv6() throws {
        let address = try #require(IPAddress("fd77:250::1"))
        #expect(address.bytes == KT.hex("fd 77 02 50 00 00 00 00 00 00 00 00 00 00 00 01"))
        #expect(address.isIPv6)
        #expect(address.family == AF_INET6)
        #expect(IPAddress("::ffff:10.77.250.1")?.bytes == [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, 10, 77, 250, 1])
    }

    @Test(arguments: ["", "10.77.250", "10.77.250.256", "10.77.250.1/24", " 10.77.250.1", "fd77::250::1",
                      "fd77:250::1%lo", "[fd77::1]", "localhost", "10.77.250.1:80"])
    func rejectsNonAddresses(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func bytesInitializerAcceptsOnly4Or16() {
        #expect(IPAddress(bytes: [10, 77, 250, 9])?.description == "10.77.250.9")
        #expect(IPAddress(bytes: [UInt8](repeating: 0, count: 16))?.description == "::")
        for count in [0, 3, 5, 15, 17] {
            #expect(IPAddress(bytes: [UInt8](repeating: 1, count: count)) == nil, "\(count) bytes")
        }
        // Any collection, e.g. a slice of a larger buffer.
        let buffer: [UInt8] = [0, 0, 127, 0, 0, 1, 0]
        #expect(IPAddress(bytes: buffer[2..<6])?.description == "127.0.0.1")
    }

    @Test(arguments: ["10.77.250.1", "0.0.0.0", "255.255.255.255", "::", "::1", "fd77:250::1",
                      "fd77:250:0:1:2:3:4:5", "fe80::1:2", "::ffff:10.77.250.1"])
    func descriptionRoundTrips(text: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.description == text)
        #expect(IPAddress(address.description) == address)
    }

    @Test func descriptionIsCanonical() {
        #expect(IPAddress("FD77:0250:0000:0000:0000:0000:0000:0001")?.description == "fd77:250::1")
    }

    @Test func network() throws {
        let v4 = try #require(IPAddress("10.77.250.201"))
        #expect(v4.network(prefixLength: 24).description == "10.77.250.0")
        #expect(v4.network(prefixLength: 28).description == "10.77.250.192")
        #expect(v4.network(prefixLength: 17).description == "10.77.128.0")
        #expect(v4.network(prefixLength: 32) == v4)
        #expect(v4.network(prefixLength: 0).description == "0.0.0.0")
        #expect(v4.network(prefixLength: 1).description == "0.0.0.0")
        #expect(IPAddress("200.1.1.1")!.network(prefixLength: 1).description == "128.0.0.0")
        let v6 = try #require(IPAddress("fd77:a250::abcd:1"))
        #expect(v6.network(prefixLength: 64).description == "fd77:a250::")
        #expect(v6.network(prefixLength: 120).description == "fd77:a250::abcd:0")
        #expect(v6.network(prefixLength: 20).description == "fd77:a000::")
        #expect(v6.network(prefixLength: 128) == v6)
    }

    @Test func adding() throws {
        #expect(IPAddress("10.77.1.0")!.adding(2).description == "10.77.1.2")
        #expect(IPAddress("10.77.250.1")!.adding(0).description == "10.77.250.1")
        // Carry into the next bytes.
        #expect(IPAddress("10.77.250.255")!.adding(1).description == "10.77.251.0")
        #expect(IPAddress("10.77.250.200")!.adding(100).description == "10.77.251.44")
        #expect(IPAddress("10.77.255.255")!.adding(1).description == "10.78.0.0")
        #expect(IPAddress("10.77.250.0")!.adding(0x1_0203).description == "10.78.252.3")
        #expect(IPAddress("fd77:250::ffff")!.adding(1).description == "fd77:250::1:0")
        #expect(IPAddress("fd77:250::")!.adding(256).description == "fd77:250::100")
        #expect(IPAddress("fd77:250::ffff:ffff:ffff:ffff")!.adding(1).description == "fd77:250:0:1::")
    }

    @Test func hashableAndEquatableByBytes() {
        #expect(IPAddress("fd77:250::1") == IPAddress("fd77:250:0::0:1"))
        #expect(Set([IPAddress("10.77.250.1")!, IPAddress("10.77.250.1")!, IPAddress("10.77.250.2")!]).count == 2)
        // ::ffff:a.b.c.d is IPv6, never equal to the IPv4 address.
        #expect(IPAddress("::ffff:10.77.250.1") != IPAddress("10.77.250.1"))
    }
}

@Suite struct EndpointTests {
    @Test func descriptions() {
        #expect(Endpoint(address: IPAddress("10.77.250.1")!, port: 8080).description == "10.77.250.1:8080")
        #expect(Endpoint(address: IPAddress("fd77:250::1")!, port: 8080).description == "[fd77:250::1]:8080")
        #expect(Endpoint(address: IPAddress("::")!, port: 0).description == "[::]:0")
    }

    @Test(arguments: ["10.77.250.1:8080", "[fd77:250::1]:8080", "[::]:0", "0.0.0.0:65535", "[::ffff:10.77.250.1]:1"])
    func codableRoundTrip(text: String) throws {
        let json = Data("[\"\(text)\"]".utf8)
        let decoded = try JSONDecoder().decode([Endpoint].self, from: json)
        #expect(decoded.count == 1)
        #expect(decoded[0].description == text)
        let encoded = try JSONEncoder().encode(decoded)
        #expect(String(decoding: encoded, as: UTF8.self) == "[\"\(text)\"]")
        #expect(try JSONDecoder().decode([Endpoint].self, from: encoded) == decoded)
    }

    @Test func codableInsideAStructure() throws {
        struct Pair: Codable, Equatable { let local: Endpoint; let remote: Endpoint }
        let pair = Pair(local: Endpoint(address: IPAddress("fd77:250::1")!, port: 443),
                        remote: Endpoint(address: IPAddress("10.77.250.2")!, port: 50000))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(pair)
        #expect(String(decoding: data, as: UTF8.self) == #"{"local":"[fd77:250::1]:443","remote":"10.77.250.2:50000"}"#)
        #expect(try JSONDecoder().decode(Pair.self, from: data) == pair)
    }

    @Test(arguments: ["10.77.250.1", "10.77.250.1:", "10.77.250.1:65536", "10.77.250.1:-1", "nohost:80",
                      "[fd77::1]", ":80", "", "[fd77::1]:x"])
    func decodingRejectsBadEndpoints(text: String) {
        let json = Data("[\"\(text)\"]".utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([Endpoint].self, from: json) }
    }

    @Test func decodingRejectsNonStrings() {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([Endpoint].self, from: Data("[8080]".utf8)) }
    }
}
