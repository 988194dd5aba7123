@testable import Netfault

/// Frames from a real capture (H1 on Linux 6.18, `--pcap`), in LINUX_SLL2.
enum CapturedBytes {
    /// client → server SYN, sent (PACKET_OUTGOING) on ifindex 2: mss 1460, sackOK,
    /// TS val 389157722 ecr 0, nop, wscale 10; window 64240.
    static let synOut = hex("080000000000000200010406d64a86b2c2c500004500003c42c340004006e15c0a4d01010a4d010289ac1f908b672fa600000000a002faf016cb0000020405b40402080a1732135a000000000103030a")
    /// server → client SYN-ACK, received (PACKET_HOST).
    static let synAckIn = hex("0800000000000002000100067e0f0466bfcc00004500003c00004000400624200a4d01020a4d01011f9089ac5932f6b88b672fa7a012fe8816cb0000020405b40402080a4bd662671732135a0103030a")

    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    /// An SLL2 header for a hand-made IP packet.
    static func sll2(_ packet: [UInt8], outgoing: Bool, interface: UInt32 = 2, loopback: Bool = false) -> [UInt8] {
        let protocolType: [UInt8] = packet.first.map { $0 >> 4 == 6 } == true ? [0x86, 0xDD] : [0x08, 0x00]
        return protocolType + [0, 0] + TestPackets.be32(interface) + (loopback ? [0x03, 0x04] : [0x00, 0x01])
            + [outgoing ? 4 : 0, 6] + [UInt8](repeating: 0xEE, count: 8) + packet
    }
}
