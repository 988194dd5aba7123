/// pcapng files, written here: libpcap 1.10 writes only pcap (no comments), and no Debian
/// library fits (libwiretap is Wireshark's internal API; DPDK's librte-pcapng needs DPDK
/// mbufs), while the blocks we need are a few fixed layouts (pcapng, RFC draft
/// draft-ietf-opsawg-pcapng): a Section Header Block, one Interface Description Block
/// (LINUX_SLL2 carries each frame's interface; if_tsresol 9 for nanoseconds), and an
/// Enhanced Packet Block per frame with an opt_comment when it has one. Little-endian,
/// as the byte-order magic says. tcpdump, tshark and Wireshark read it; libpcap reads it back.
public struct PcapngEncoder {
    /// One frame: CLOCK_REALTIME nanoseconds, its length on the wire, the bytes kept.
    public struct Packet: Sendable, Equatable {
        public let timestamp: Int64
        public let originalLength: Int
        public let bytes: [UInt8]
        public let comment: String?

        public init(timestamp: Int64, originalLength: Int, bytes: [UInt8], comment: String? = nil) {
            self.timestamp = timestamp
            self.originalLength = originalLength
            self.bytes = bytes
            self.comment = comment
        }
    }

    /// Encoded blocks not yet taken.
    public private(set) var bytes: [UInt8] = []

    static let sectionHeaderType: UInt32 = 0x0A0D_0D0A
    static let interfaceDescriptionType: UInt32 = 1
    static let enhancedPacketType: UInt32 = 6
    static let byteOrderMagic: UInt32 = 0x1A2B_3C4D
    static let optionEnd: UInt16 = 0, optionComment: UInt16 = 1, optionUserApplication: UInt16 = 4
    static let optionTimestampResolution: UInt16 = 9

    /// Starts the file: its section header and its one interface.
    public init(linkType: Int32, snapLength: Int) {
        var section: [UInt8] = []
        Self.append(Self.byteOrderMagic, to: &section)
        Self.append(UInt16(1), to: &section)  // version 1.0
        Self.append(UInt16(0), to: &section)
        Self.append(UInt64.max, to: &section)  // section length: not given
        Self.appendOption(Self.optionUserApplication, Array("netfault".utf8), to: &section)
        Self.append(Self.optionEnd, to: &section)
        Self.append(UInt16(0), to: &section)
        appendBlock(Self.sectionHeaderType, section)

        var interface: [UInt8] = []
        Self.append(UInt16(truncatingIfNeeded: linkType), to: &interface)
        Self.append(UInt16(0), to: &interface)  // reserved
        Self.append(UInt32(snapLength), to: &interface)
        Self.appendOption(Self.optionTimestampResolution, [9], to: &interface)  // 10^-9 s
        Self.append(Self.optionEnd, to: &interface)
        Self.append(UInt16(0), to: &interface)
        appendBlock(Self.interfaceDescriptionType, interface)
    }

    public mutating func append(_ packet: Packet) {
        var body: [UInt8] = []
        let timestamp = UInt64(bitPattern: packet.timestamp)
        Self.append(UInt32(0), to: &body)  // interface 0
        Self.append(UInt32(truncatingIfNeeded: timestamp >> 32), to: &body)
        Self.append(UInt32(truncatingIfNeeded: timestamp), to: &body)
        Self.append(UInt32(packet.bytes.count), to: &body)
        Self.append(UInt32(packet.originalLength), to: &body)
        body += packet.bytes
        Self.pad(&body)
        if let comment = packet.comment {
            Self.appendOption(Self.optionComment, Array(comment.utf8), to: &body)
            Self.append(Self.optionEnd, to: &body)
            Self.append(UInt16(0), to: &body)
        }
        appendBlock(Self.enhancedPacketType, body)
    }

    /// Hands over what is encoded so far (to write it out) and starts empty again.
    public mutating func take() -> [UInt8] {
        defer { bytes = [] }
        return bytes
    }

    /// type, total length, body, total length again (so readers can walk backwards).
    private mutating func appendBlock(_ type: UInt32, _ body: [UInt8]) {
        let total = UInt32(12 + body.count)
        Self.append(type, to: &bytes)
        Self.append(total, to: &bytes)
        bytes += body
        Self.append(total, to: &bytes)
    }

    /// code, length, value padded to 32 bits.
    private static func appendOption(_ code: UInt16, _ value: [UInt8], to body: inout [UInt8]) {
        append(code, to: &body)
        append(UInt16(value.count), to: &body)
        body += value
        pad(&body)
    }

    private static func pad(_ body: inout [UInt8]) {
        body += [UInt8](repeating: 0, count: (4 - body.count % 4) % 4)
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to body: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { body += $0 }
    }
}

/// Writes a pcapng file a megabyte at a time, so a large capture is never encoded whole.
public enum PcapngFile {
    public static func write(linkType: Int32, snapLength: Int, packets: some Sequence<PcapngEncoder.Packet>,
                             to path: String) throws {
        let file = try OutputFile(path)
        var encoder = PcapngEncoder(linkType: linkType, snapLength: snapLength)
        for packet in packets {
            encoder.append(packet)
            if encoder.bytes.count >= 1 << 20 { try file.write(encoder.take()) }
        }
        try file.write(encoder.take())
        try file.close()
    }
}
