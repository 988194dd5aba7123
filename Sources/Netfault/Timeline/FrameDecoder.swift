/// One captured frame, decoded: where it went and its IP and TCP headers.
public struct DecodedFrame: Sendable, Equatable {
    /// Whether the host sent or received the frame.
    public enum Direction: String, Sendable, Codable {
        /// Sent by the capturing host (PACKET_OUTGOING).
        case out
        /// Received by it.
        case `in`
    }

    /// nil when the link type does not say (Ethernet, raw IP).
    public let direction: Direction?
    /// The interface the frame passed, when the link type says.
    public let interfaceIndex: UInt32?
    /// Whether it passed the loopback device.
    public let isLoopback: Bool
    /// Its IP and TCP header fields.
    public let header: PacketHeader
    /// The TCP window field, unscaled.
    public let window: UInt16
    /// Its TCP options.
    public let options: TCPOptions
}

/// Decodes captured frames of the link types netfault writes and reads: LINUX_SLL2
/// (its own captures), LINUX_SLL (`tcpdump -i any`), Ethernet and raw IP. Pure;
/// nil for anything that is not a whole TCP header, never a crash.
public enum FrameDecoder {
    /// DLT_LINUX_SLL2: interface index and direction (netfault's captures).
    public static let linuxSLL2: Int32 = 276
    /// DLT_LINUX_SLL: direction, no interface.
    public static let linuxSLL: Int32 = 113
    /// DLT_EN10MB: Ethernet.
    public static let ethernet: Int32 = 1
    /// DLT_RAW: bare IP.
    public static let rawIP: Int32 = 101

    /// ARPHRD_LOOPBACK: frames on `lo`, not on a test link.
    private static let loopbackHardware: UInt16 = 772
    /// PACKET_OUTGOING in the cooked headers' packet type.
    private static let outgoing: UInt16 = 4

    /// Decodes a captured frame of `linkType`; nil for anything that is not a whole TCP segment.
    public static func decode(_ bytes: ArraySlice<UInt8>, linkType: Int32) -> DecodedFrame? {
        func u16(_ at: Int) -> UInt16 { UInt16(bytes[bytes.startIndex + at]) << 8 | UInt16(bytes[bytes.startIndex + at + 1]) }
        func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) << 16 | UInt32(u16(at + 2)) }
        let protocolType: UInt16, linkHeader: Int
        var direction: DecodedFrame.Direction?, interface: UInt32?, hardware: UInt16 = 0
        switch linkType {
        case linuxSLL2:
            // protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1) addrlen(1) addr(8)
            guard bytes.count >= 20 else { return nil }
            protocolType = u16(0)
            interface = u32(4)
            hardware = u16(8)
            direction = UInt16(bytes[bytes.startIndex + 10]) == outgoing ? .out : .in
            linkHeader = 20
        case linuxSLL:
            // pkttype(2) hatype(2) addrlen(2) addr(8) protocol(2)
            guard bytes.count >= 16 else { return nil }
            direction = u16(0) == outgoing ? .out : .in
            hardware = u16(2)
            protocolType = u16(14)
            linkHeader = 16
        case ethernet:
            guard bytes.count >= 14 else { return nil }
            protocolType = u16(12)
            linkHeader = 14
        case rawIP:
            guard let first = bytes.first else { return nil }
            protocolType = first >> 4 == 6 ? 0x86DD : 0x0800
            linkHeader = 0
        default:
            return nil
        }
        guard protocolType == 0x0800 || protocolType == 0x86DD else { return nil }
        let packet = bytes.dropFirst(linkHeader)
        guard let header = packet.withUnsafeBytes({ PacketHeader.parse($0) }), header.isTCP else { return nil }
        let tcp = packet.startIndex + header.transportOffset
        let dataOffset = Int(packet[tcp + 12] >> 4) * 4
        // Options cut off by the snap length are left out rather than misread.
        let optionsEnd = min(tcp + dataOffset, packet.endIndex)
        let window = UInt16(packet[tcp + 14]) << 8 | UInt16(packet[tcp + 15])
        let options = TCPOptions.parse(packet[(tcp + 20)..<max(tcp + 20, optionsEnd)]) ?? TCPOptions()
        return DecodedFrame(direction: direction, interfaceIndex: interface, isLoopback: hardware == loopbackHardware,
                            header: header, window: window, options: options)
    }
}
