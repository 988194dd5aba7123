import Glibc

/// An IPv4 or IPv6 address parsed with inet_pton.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            bytes = withUnsafeBytes(of: v6) { Array($0) }
            return
        }
        return nil
    }

    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = Array(bytes)
    }

    public var isIPv6: Bool { bytes.count == 16 }
    public var family: Int32 { isIPv6 ? AF_INET6 : AF_INET }

    public var description: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

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
