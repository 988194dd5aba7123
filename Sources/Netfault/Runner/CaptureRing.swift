/// How much kernel memory each host's capture ring gets in a scenario.
///
/// The kernel zeroes the ring inside one setsockopt(PACKET_RX_RING), and this kernel does
/// not preempt it: 32 MiB of memory the hypervisor had not backed yet took ~100 ms, and
/// every timer and process on that CPU waited, in the other scenarios running alongside
/// too (a peer woke 97 ms late). So a scenario's ring holds what its peers can send, twice
/// over, within 4…32 MiB; a scenario that runs commands, whose traffic is unknown, gets 32.
enum CaptureRing {
    /// 16 of libpcap's 256 KiB blocks. At a trickle the kernel hands over a block per
    /// 20 ms timeout, so a capture thread may stall 320 ms before a frame is dropped.
    static let minimumBytes = 4 << 20
    /// At line rate on a veth (~700,000 frames/s both ways) 32 MiB is ~200 ms of frames.
    static let maximumBytes = 32 << 20
    /// A frame in the ring: TPACKET_V3 and sockaddr_ll headers, the SLL2 header and the
    /// 128-byte snap, 16-byte aligned, rounded up.
    static let bytesPerFrame = 256
    /// Handshakes, closes, retransmissions and keepalives of a scenario with little data.
    static let baseFrames = 1000
    /// The smallest payload counted per data segment (MSS is smaller only with a tiny MTU).
    static let payloadPerSegment = 500

    static func bytes(for scenario: Scenario) -> Int {
        var frames = baseFrames
        for step in scenario.steps {
            switch step {
            case .command: return maximumBytes
            case .peer(let peer): frames += peer.steps.reduce(0) { $0 + self.frames(of: $1) }
            case .wait, .waitFor: break
            }
        }
        let wanted = 2 * frames * bytesPerFrame
        let blocks = (wanted + (256 << 10) - 1) / (256 << 10)
        return min(max(blocks * (256 << 10), minimumBytes), maximumBytes)
    }

    /// Frames one peer step can put on the wire: its data segments and their ACKs.
    private static func frames(of step: PeerStep) -> Int {
        switch step {
        case .write(let bytes, let writes, _):
            2 * (bytes / payloadPerSegment + writes)
        case .sendDatagram(_, _, let bytes, _):
            2 * (bytes / payloadPerSegment + 1)
        case .repeat(let count, let steps):
            count * steps.reduce(0) { $0 + frames(of: $1) }
        default:
            0
        }
    }
}
