import NetfaultKernel

/// An IPv4 or IPv6 address in a fixed-size form, cheap to hash per packet.
public struct PacketAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address's first 64 bits (IPv6; 0 for IPv4).
    public let high: UInt64
    /// The address's last 64 bits (the IPv4 address in the low 32).
    public let low: UInt64
    /// Whether it is an IPv6 address.
    public let isIPv6: Bool

    init(ipv4 value: UInt32) {
        high = 0
        low = UInt64(value)
        isIPv6 = false
    }

    init(ipv6High high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
        isIPv6 = true
    }

    /// The address of these 4 or 16 bytes.
    public init(_ bytes: [UInt8]) {
        if bytes.count == 4 {
            self.init(ipv4: bytes.reduce(0) { $0 << 8 | UInt32($1) })
        } else {
            let value = { (range: Range<Int>) in bytes[range].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
            self.init(ipv6High: value(0..<8), low: value(8..<16))
        }
    }

    /// The address's bytes in network order (4 or 16).
    public var bytes: [UInt8] {
        let words = isIPv6 ? [high, low] : [low << 32]
        return words.flatMap { word in (0..<8).map { UInt8(truncatingIfNeeded: word >> (56 - 8 * UInt64($0))) } }
            .prefix(isIPv6 ? 16 : 4).map { $0 }
    }

    public var description: String { IPAddress(bytes: bytes)!.description }
}

/// TCP header flag bits (byte 13 of the header).
public struct TCPFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// FIN.
    public static let fin = TCPFlags(rawValue: 0x01)
    /// SYN.
    public static let syn = TCPFlags(rawValue: 0x02)
    /// RST.
    public static let rst = TCPFlags(rawValue: 0x04)
    /// PSH.
    public static let psh = TCPFlags(rawValue: 0x08)
    /// ACK.
    public static let ack = TCPFlags(rawValue: 0x10)

    /// tcpdump's notation: "S", "S.", ".", "P.", "F.", "R", "R."
    public var tcpdump: String {
        var text = ""
        if contains(.syn) { text += "S" }
        if contains(.fin) { text += "F" }
        if contains(.rst) { text += "R" }
        if contains(.psh) { text += "P" }
        if contains(.ack) { text += "." }
        return text.isEmpty ? "none" : text
    }
}

/// The headers of one IP packet, as the fault engine needs them.
public struct PacketHeader: Sendable, Equatable {
    /// The source address.
    public let source: PacketAddress
    /// The destination address.
    public let destination: PacketAddress
    /// IPPROTO_TCP (6), IPPROTO_UDP (17), …
    public let transport: UInt8
    /// The source port (0 for other transports).
    public let sourcePort: UInt16
    /// The destination port (0 for other transports).
    public let destinationPort: UInt16
    /// The TCP flags.
    public let flags: TCPFlags
    /// The sequence number (absolute).
    public let sequence: UInt32
    /// The acknowledgment number (absolute).
    public let acknowledgment: UInt32
    /// TCP payload bytes, from the IP header's length (not the captured length).
    public let payloadLength: Int
    /// Where the transport header starts, for corrupting past the IP header.
    public let transportOffset: Int

    /// Whether it is a TCP segment.
    public var isTCP: Bool { transport == 6 }

    /// Parses the IP and TCP (or UDP ports) headers; nil when the bytes are not
    /// a whole IPv4/IPv6 header (IPv6 extension headers are not followed: their
    /// packets count as non-TCP).
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> PacketHeader? {
        guard bytes.count >= 1 else { return nil }
        func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]) }
        func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) << 16 | UInt32(u16(at + 2)) }
        func u64(_ at: Int) -> UInt64 { UInt64(u32(at)) << 32 | UInt64(u32(at + 4)) }
        let source: PacketAddress, destination: PacketAddress
        let transport: UInt8, offset: Int, totalLength: Int
        switch bytes[0] >> 4 {
        case 4:
            let headerLength = Int(bytes[0] & 0x0F) * 4
            guard headerLength >= 20, bytes.count >= headerLength else { return nil }
            totalLength = Int(u16(2))
            transport = bytes[9]
            source = PacketAddress(ipv4: u32(12))
            destination = PacketAddress(ipv4: u32(16))
            offset = headerLength
        case 6:
            guard bytes.count >= 40 else { return nil }
            totalLength = 40 + Int(u16(4))
            transport = bytes[6]
            source = PacketAddress(ipv6High: u64(8), low: u64(16))
            destination = PacketAddress(ipv6High: u64(24), low: u64(32))
            offset = 40
        default:
            return nil
        }
        guard totalLength >= offset else { return nil }
        switch transport {
        case 6:
            guard bytes.count >= offset + 20 else { return nil }
            let dataOffset = Int(bytes[offset + 12] >> 4) * 4
            guard dataOffset >= 20, totalLength >= offset + dataOffset else { return nil }
            return PacketHeader(source: source, destination: destination, transport: transport,
                                sourcePort: u16(offset), destinationPort: u16(offset + 2),
                                flags: TCPFlags(rawValue: bytes[offset + 13] & 0x3F), sequence: u32(offset + 4),
                                acknowledgment: u32(offset + 8), payloadLength: totalLength - offset - dataOffset,
                                transportOffset: offset)
        case 17 where bytes.count >= offset + 4:
            return PacketHeader(source: source, destination: destination, transport: transport,
                                sourcePort: u16(offset), destinationPort: u16(offset + 2), flags: [], sequence: 0,
                                acknowledgment: 0, payloadLength: max(0, totalLength - offset - 8), transportOffset: offset)
        default:
            return PacketHeader(source: source, destination: destination, transport: transport, sourcePort: 0,
                                destinationPort: 0, flags: [], sequence: 0, acknowledgment: 0,
                                payloadLength: totalLength - offset, transportOffset: offset)
        }
    }

    /// One direction of a flow.
    public var flow: FlowKey {
        FlowKey(source: source, destination: destination, sourcePort: sourcePort, destinationPort: destinationPort,
                transport: transport)
    }
}

/// One direction of a connection (or of a UDP/other flow).
public struct FlowKey: Hashable, Sendable {
    /// The source address.
    public let source: PacketAddress
    /// The destination address.
    public let destination: PacketAddress
    /// The source port.
    public let sourcePort: UInt16
    /// The destination port.
    public let destinationPort: UInt16
    /// IPPROTO_TCP (6), IPPROTO_UDP (17), …
    public let transport: UInt8

    /// The other direction of the same flow.
    public var reversed: FlowKey {
        FlowKey(source: destination, destination: source, sourcePort: destinationPort, destinationPort: sourcePort,
                transport: transport)
    }
}
