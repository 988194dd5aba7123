import NetfaultKernel

/// One host's capture as its pcapng file shows it: every frame, a faulted one with a comment
/// saying what the fault did ("delayed 300 ms by slow FIN", "duplicate (…)"), and each
/// segment a fault dropped — which never reached the wire — at the engine's instant, from the
/// queue's copy of it under a LINUX_SLL2 header like the capture's, commented "dropped by …".
/// Pure: tested with hand-made frames.
public enum AnnotatedCapture {
    /// The pcapng packets of `host`'s capture, faulted frames commented and dropped segments added.
    public static func packets(host: String, frames: CapturedFrames, segments: [ObservedSegment],
                               decisions: [FaultDecision], zero: Int64) -> [PcapngEncoder.Packet] {
        var comments: [Int: String] = [:]
        for segment in segments where segment.host == host {
            if let frame = segment.frame, let fault = segment.fault { comments[frame] = fault }
        }
        var packets = frames.records.indices.map { index in
            PcapngEncoder.Packet(timestamp: frames.records[index].timestamp, originalLength: frames.records[index].length,
                                 bytes: Array(frames.bytes(index)), comment: comments[index])
        }
        var dropped: [PcapngEncoder.Packet] = []
        if frames.linkType == linuxSLL2 {
            for decision in decisions where decision.host == host && decision.action == "dropped" {
                guard let packet = decision.droppedPacket, let ipLength = ipLength(packet) else { continue }
                let header = sll2Header(ipVersion: packet[0] >> 4, interfaceIndex: decision.interfaceIndex ?? 0)
                // Cut as the capture cuts its frames: readers refuse a frame longer than the snap length.
                dropped.append(PcapngEncoder.Packet(timestamp: zero + Int64((decision.time * 1e9).rounded()),
                                                    originalLength: header.count + ipLength,
                                                    bytes: Array((header + packet).prefix(frames.snapLength)),
                                                    comment: "\(decision.action) by \(decision.fault)"))
            }
        }
        guard !dropped.isEmpty else { return packets }
        packets += dropped
        // Stable: a dropped segment stamped at a frame's instant stays after it.
        return packets.enumerated().sorted { ($0.element.timestamp, $0.offset) < ($1.element.timestamp, $1.offset) }.map(\.element)
    }

    static let linuxSLL2: Int32 = 276

    /// LINUX_SLL2 (20 bytes, big-endian): protocol, reserved, interface index, ARPHRD_ETHER,
    /// PACKET_OUTGOING, no link-layer address (the queue copy has none).
    static func sll2Header(ipVersion: UInt8, interfaceIndex: UInt32) -> [UInt8] {
        let protocolType: UInt16 = ipVersion == 6 ? 0x86DD : 0x0800
        var header: [UInt8] = []
        header += withUnsafeBytes(of: protocolType.bigEndian, Array.init)
        header += [0, 0]
        header += withUnsafeBytes(of: interfaceIndex.bigEndian, Array.init)
        header += withUnsafeBytes(of: UInt16(1).bigEndian, Array.init)
        header += [4, 0]
        header += [UInt8](repeating: 0, count: 8)
        return header
    }

    /// The packet's whole length from its IP header (the copy may be cut shorter).
    static func ipLength(_ packet: [UInt8]) -> Int? {
        switch packet.first.map({ $0 >> 4 }) {
        case 4 where packet.count >= 4: Int(packet[2]) << 8 | Int(packet[3])
        case 6 where packet.count >= 6: 40 + (Int(packet[4]) << 8 | Int(packet[5]))
        default: nil
        }
    }
}
