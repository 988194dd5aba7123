import Glibc

/// An IPv4 or IPv6 address parsed with inet_pton.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(_ text: String) {
        guard let bytes = Sys.parseAddress(text) else { return nil }
        self.bytes = bytes
    }

    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = Array(bytes)
    }

    public var isIPv6: Bool { bytes.count == 16 }
    public var family: Int32 { isIPv6 ? AF_INET6 : AF_INET }

    public var description: String { Sys.formatAddress(bytes, family: family) }

    /// The address with host bits beyond `prefixLength` cleared.
    public func network(prefixLength: Int) -> IPAddress {
        var masked = bytes
        for index in masked.indices {
            let keep = max(0, min(8, prefixLength - index * 8))
            masked[index] &= keep == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
        }
        return IPAddress(bytes: masked)!
    }

    /// The address plus `offset` in its last bytes (10.77.1.0 + 2 = 10.77.1.2).
    public func adding(_ offset: Int) -> IPAddress {
        var result = bytes
        var carry = offset
        for index in result.indices.reversed() where carry > 0 {
            let sum = Int(result[index]) + carry
            result[index] = UInt8(sum & 0xFF)
            carry = sum >> 8
        }
        return IPAddress(bytes: result)!
    }
}
