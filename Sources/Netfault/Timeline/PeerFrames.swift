import NetfaultKernel

/// Turns what the BPF capture recorded where frames leave into each host's frames, both
/// ways. Pure: tested with hand-made frames.
///
/// The capture's program sits at tc egress of every veth end, behind the fault engine, so
/// each frame is recorded once, at its departure, as it leaves (a dropped segment never
/// does). That record is the sender's "out" on its interface and, through the link, the
/// receiver's "in" on the other end: a veth hands a frame to its peer within the sending
/// call, and AF_PACKET stamps a received frame when it is queued there (netif_rx), so the
/// departure is the arrival tcpdump sees (how close, `netfault bench timeline` measures).
public enum PeerFrames {
    /// One end of a link: its host and interface index.
    public struct End: Hashable, Sendable {
        /// The host (namespace) the end is in.
        public let host: String
        /// The end's interface index in that namespace.
        public let interfaceIndex: UInt32

        /// The end of `host` with index `interfaceIndex`.
        public init(host: String, interfaceIndex: UInt32) {
            self.host = host
            self.interfaceIndex = interfaceIndex
        }
    }

    /// Each link end's peer, both ways.
    public static func peers(of links: [NetworkPlan.LinkPlan]) -> [End: End] {
        var peers: [End: End] = [:]
        for link in links {
            let a = End(host: link.hostA, interfaceIndex: UInt32(link.indexA))
            let b = End(host: link.hostB, interfaceIndex: UInt32(link.indexB))
            peers[a] = b
            peers[b] = a
        }
        return peers
    }

    /// Every host's frames in time order: its own records, and for each record at a peer
    /// the same frame seen from this end of the link: same instant and bytes, on this end's
    /// interface, direction turned (a departure there is an arrival here, PACKET_HOST; an
    /// arrival there, a departure here, PACKET_OUTGOING). A record on an interface with no
    /// known peer stays on its host only. `hosts` sets the order.
    public static func hostCaptures(_ recorded: [String: CapturedFrames], peers: [End: End],
                                    hosts: [String]) -> [TimelineBuilder.HostCapture] {
        struct Source {
            let host: String
            let index: Int
            /// The link end to rewrite the cooked header to (the frame seen from the peer).
            let mirrorEnd: End?
        }
        var sources: [String: [Source]] = [:]
        var stamps: [String: [Int64]] = [:]
        for (host, frames) in recorded {
            for index in frames.records.indices {
                let bytes = frames.bytes(index)
                sources[host, default: []].append(Source(host: host, index: index, mirrorEnd: nil))
                stamps[host, default: []].append(frames.records[index].timestamp)
                guard frames.linkType == FrameDecoder.linuxSLL2, bytes.count >= BPFCapture.cookedHeaderBytes else { continue }
                let interface = BPFCapture.cookedInterfaceIndex(bytes)
                if let peer = peers[End(host: host, interfaceIndex: interface)] {
                    sources[peer.host, default: []].append(Source(host: host, index: index, mirrorEnd: peer))
                    stamps[peer.host, default: []].append(frames.records[index].timestamp)
                }
            }
        }
        var scratch = [UInt8](repeating: 0, count: BPFCapture.cookedHeaderBytes + BPFCapture.keptBytes)
        return hosts.compactMap { host -> TimelineBuilder.HostCapture? in
            guard let own = recorded[host] ?? recorded.values.first else { return nil }
            var frames = CapturedFrames(linkType: own.linkType, snapLength: own.snapLength)
            let list = sources[host] ?? [], times = stamps[host] ?? []
            // Stable: a frame and its mirror keep the order they came in.
            for position in list.indices.sorted(by: { (times[$0], $0) < (times[$1], $1) }) {
                let source = list[position]
                let from = recorded[source.host]!
                let record = from.records[source.index]
                let bytes = from.bytes(source.index)
                guard let end = source.mirrorEnd else {
                    bytes.withUnsafeBytes { frames.append(timestamp: record.timestamp, length: record.length, bytes: $0) }
                    continue
                }
                let count = min(bytes.count, scratch.count)
                scratch.replaceSubrange(0..<count, with: bytes.prefix(count))
                scratch.withUnsafeMutableBytes { out in
                    let protocolType = UInt16(out[0]) << 8 | UInt16(out[1])
                    let outgoing = out[10] != 4
                    BPFCapture.writeCookedHeader(into: out, protocolType: protocolType, interfaceIndex: end.interfaceIndex,
                                                 outgoing: outgoing)
                    frames.append(timestamp: record.timestamp, length: record.length,
                                  bytes: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(out)[0..<count]))
                }
            }
            return TimelineBuilder.HostCapture(host: host, frames: frames)
        }
    }
}
