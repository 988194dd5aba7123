import Foundation
@testable import Netfault

/// Hand-built IPv4/IPv6 + TCP packets for the fault engine's tests (checksums
/// are left zero: the engine never reads them).
enum TestPackets {
    static let client = "10.77.1.1", server = "10.77.1.2"

    static func tcp(from source: String = client, to destination: String = server, sourcePort: UInt16 = 40000,
                    destinationPort: UInt16 = 8080, flags: TCPFlags, seq: UInt32 = 1000, ack: UInt32 = 0,
                    payload: Int = 0) -> [UInt8] {
        let src = IPAddressBytes.parse(source), dst = IPAddressBytes.parse(destination)
        var tcp = be16(sourcePort) + be16(destinationPort) + be32(seq) + be32(ack)
        tcp += [0x50, flags.rawValue] + be16(65535) + [0, 0, 0, 0]
        tcp += [UInt8](repeating: 0xAB, count: payload)
        if src.count == 16 {
            return [0x60, 0, 0, 0] + be16(UInt16(tcp.count)) + [6, 64] + src + dst + tcp
        }
        let total = UInt16(20 + tcp.count)
        return [0x45, 0] + be16(total) + [0, 0, 0x40, 0, 64, 6, 0, 0] + src + dst + tcp
    }

    static func udp(from source: String = client, to destination: String = server, payload: Int = 4) -> [UInt8] {
        let src = IPAddressBytes.parse(source), dst = IPAddressBytes.parse(destination)
        let udp = be16(5000) + be16(5001) + be16(UInt16(8 + payload)) + [0, 0] + [UInt8](repeating: 1, count: payload)
        return [0x45, 0] + be16(UInt16(20 + udp.count)) + [0, 0, 0x40, 0, 64, 17, 0, 0] + src + dst + udp
    }

    static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
}

/// Address text to bytes without the kernel module (dotted quads, or full/compressed IPv6).
enum IPAddressBytes {
    static func parse(_ text: String) -> [UInt8] {
        if !text.contains(":") { return text.split(separator: ".").map { UInt8($0)! } }
        let halves = text.components(separatedBy: "::")
        func groups(_ part: String) -> [UInt16] { part.isEmpty ? [] : part.split(separator: ":").map { UInt16($0, radix: 16)! } }
        let head = groups(halves[0]), tail = halves.count > 1 ? groups(halves[1]) : []
        let all = head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }
}
