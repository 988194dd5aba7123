import NetfaultKernel

/// Cuts a GSO packet, as the BPF capture recorded it at tc egress (one record per skb,
/// before the qdisc), into the wire segments the kernel's software GSO makes of it after
/// the qdisc, header by header. Pure: tested with hand-made packets, and against tcpdump in
/// BPFCaptureTests.
///
/// What the kernel does (net/ipv4/tcp_offload.c tcp_gso_segment, net/ipv4/af_inet.c
/// inet_gso_segment, net/ipv6/ip6_offload.c ipv6_gso_segment): the TCP payload is cut
/// into `gso_size` pieces, the last one the rest; segment i's sequence number is the
/// packet's + i × gso_size; FIN and PSH stay only on the last segment, CWR only on the
/// first (`th->cwr &= ecn_cwr_mask`: AccECN packets keep it everywhere, but that mask is
/// not visible to a tc program, and netfault's hosts do not negotiate AccECN); IPv4's
/// total length and IPv6's payload length are each segment's own, IPv4's identification
/// is the packet's + i (a packet GRO merged with a fixed id, SKB_GSO_TCP_FIXEDID, keeps
/// it: only forwarded traffic, and a tc program cannot see that flag either) and its header
/// checksum is recomputed. The TCP checksum cannot be: it covers the payload, which the
/// capture does not keep, and at tc egress it holds only the pseudo-header's sum
/// (CHECKSUM_PARTIAL) — so every BPF frame gets 0 there, and comparisons leave it out.
public enum GSOSegments {
    /// One wire segment: its headers and its length.
    public struct Segment: Equatable, Sendable {
        /// The network header through the TCP header's options (no payload), TCP checksum 0.
        public var headers: [UInt8]
        /// The segment's length on the wire from the network header on.
        public var length: Int
    }

    /// The wire segments of one packet: `packet` from the network header on (at least
    /// through the TCP options), `length` the packet's whole length from the network header
    /// (skb->len − 14), `gsoSize` skb->gso_size (0: not GSO). A packet whose payload fits
    /// in one segment is one segment with its own header fields. nil when `packet` is not
    /// IPv4/IPv6 carrying TCP, or is cut before the end of its TCP header.
    public static func segments(of packet: ArraySlice<UInt8>, length: Int, gsoSize: Int) -> [Segment]? {
        let base = packet.startIndex
        guard let first = packet.first else { return nil }
        let ipv4 = first >> 4 == 4
        let ipHeader: Int
        if ipv4 {
            ipHeader = Int(first & 0x0F) * 4
            guard ipHeader >= 20, packet.count >= 20, packet[base + 9] == 6 else { return nil }
        } else if first >> 4 == 6 {
            ipHeader = 40
            guard packet.count >= 40, packet[base + 6] == 6 else { return nil }
        } else {
            return nil
        }
        guard packet.count >= ipHeader + 20 else { return nil }
        let tcpHeader = Int(packet[base + ipHeader + 12] >> 4) * 4
        guard tcpHeader >= 20, packet.count >= ipHeader + tcpHeader else { return nil }
        var headers = Array(packet.prefix(ipHeader + tcpHeader))
        headers[ipHeader + 16] = 0
        headers[ipHeader + 17] = 0
        let payload = length - ipHeader - tcpHeader
        // tcp_gso_segment: `if (skb->len <= mss) goto out;` — the packet goes as it is.
        guard gsoSize > 0, payload > gsoSize else { return [Segment(headers: headers, length: length)] }
        let count = (payload + gsoSize - 1) / gsoSize
        let sequence = read32(headers, ipHeader + 4)
        let identification = read16(headers, 4)
        let flags = headers[ipHeader + 13]
        let fin: UInt8 = 0x01, psh: UInt8 = 0x08, cwr: UInt8 = 0x80
        return (0..<count).map { index in
            let last = index == count - 1
            let piece = last ? payload - gsoSize * (count - 1) : gsoSize
            var segment = headers
            write32(&segment, ipHeader + 4, sequence &+ UInt32(truncatingIfNeeded: index * gsoSize))
            var segmentFlags = flags
            if !last { segmentFlags &= ~(fin | psh) }
            if index > 0 { segmentFlags &= ~cwr }
            segment[ipHeader + 13] = segmentFlags
            if ipv4 {
                write16(&segment, 2, UInt16(truncatingIfNeeded: ipHeader + tcpHeader + piece))
                write16(&segment, 4, identification &+ UInt16(truncatingIfNeeded: index))
                write16(&segment, 10, 0)
                write16(&segment, 10, ipv4Checksum(segment[0..<ipHeader]))
            } else {
                write16(&segment, 4, UInt16(truncatingIfNeeded: tcpHeader + piece))
            }
            return Segment(headers: segment, length: ipHeader + tcpHeader + piece)
        }
    }

    /// `packet`'s headers as the BPF capture has them (network header through the TCP
    /// options, TCP checksum 0): what a frame of another capture (tcpdump's, libpcap's) is
    /// compared by. nil when it is not TCP over IP or is cut before the TCP options end.
    public static func comparableHeaders(_ packet: ArraySlice<UInt8>) -> [UInt8]? {
        segments(of: packet, length: packet.count, gsoSize: 0)?.first?.headers
    }

    /// What `expansion` made of a BPF capture: the wire's frames and where their instants came from.
    public struct Expansion: Sendable {
        /// One cooked frame per wire segment (and per record that is not TCP over IP), in time order.
        public var frames: CapturedFrames
        /// Segments stamped with their own departure (the device taking them).
        public var departed: Int
        /// Segments left at their packet's tc egress instant: no departure matched (the
        /// program did not run, its ring was full, or the segment never reached the device).
        public var atPacketInstant: Int
        /// Departures no segment took (a packet whose record was lost; 0 normally).
        public var departuresUnmatched: Int
    }

    /// `expansion(recorded).frames`.
    public static func expand(_ recorded: BPFCapture.Recorded) -> CapturedFrames {
        expansion(recorded).frames
    }

    /// Every record of a BPF capture (cooked LINUX_SLL2 frames, one per skb) as the wire's
    /// frames: each cut into its segments, and each segment stamped with its departure, the
    /// instant the device took it (`BPFCapture.Departure`, matched by interface, sequence
    /// number and length), or, when none matches, with the packet's tc egress instant (the
    /// first segment's, nearly; later ones left tens of µs after it). A record that is not
    /// TCP over IP stays as it is.
    ///
    /// Matching: the same bytes may leave more than once (a retransmission, a fault's
    /// duplicate). Per (interface, sequence, length), in time order, each departure goes to
    /// the newest segment recorded at tc egress before it that has none yet: a segment
    /// that never left (dropped in a qdisc after tc egress) keeps its packet's instant
    /// instead of taking its retransmission's departure. TCP does not send a segment again
    /// while its earlier copy is still in the host's queues (skb_still_in_host_queue), so
    /// the copies of one segment do not overlap in flight, but for duplicates, which are
    /// the same frame twice.
    public static func expansion(_ recorded: BPFCapture.Recorded) -> Expansion {
        let input = recorded.frames
        let cooked = BPFCapture.cookedHeaderBytes
        struct Key: Hashable {
            let interface: UInt32
            let sequence: UInt32
            let length: Int
        }
        struct Piece {
            var time: Int64
            let length: Int
            let bytes: [UInt8]
        }
        var pieces: [Piece] = []
        var waiting: [Key: [Int]] = [:]
        for index in input.records.indices {
            let record = input.records[index]
            let bytes = input.bytes(index)
            let gsoSize = index < recorded.gso.count ? Int(recorded.gso[index].size) : 0
            guard bytes.count > cooked,
                  let segments = segments(of: bytes.dropFirst(cooked), length: record.length - cooked, gsoSize: gsoSize) else {
                pieces.append(Piece(time: record.timestamp, length: record.length, bytes: Array(bytes)))
                continue
            }
            let header = Array(bytes.prefix(cooked))
            let interface = UInt32(header[4]) << 24 | UInt32(header[5]) << 16 | UInt32(header[6]) << 8 | UInt32(header[7])
            for segment in segments {
                let key = Key(interface: interface, sequence: sequence(ofHeaders: segment.headers), length: segment.length)
                waiting[key, default: []].append(pieces.count)
                pieces.append(Piece(time: record.timestamp, length: cooked + segment.length, bytes: header + segment.headers))
            }
        }
        var departures: [Key: [Int64]] = [:]
        for departure in recorded.departures {
            departures[Key(interface: departure.interfaceIndex, sequence: departure.sequence, length: departure.length),
                       default: []].append(departure.timestamp)
        }
        var departed = 0, unmatched = 0
        for (key, times) in departures {
            guard let indices = waiting[key] else {
                unmatched += times.count
                continue
            }
            // Records from different CPUs may reach the ring slightly out of order.
            let pending = indices.sorted { pieces[$0].time < pieces[$1].time }
            var next = 0
            var candidates: [Int] = []
            for time in times.sorted() {
                while next < pending.count && pieces[pending[next]].time <= time {
                    candidates.append(pending[next])
                    next += 1
                }
                guard let newest = candidates.popLast() else {
                    unmatched += 1
                    continue
                }
                pieces[newest].time = time
                departed += 1
            }
        }
        var frames = CapturedFrames(linkType: input.linkType, snapLength: input.snapLength)
        // Time order (stable): a packet's later segments left after what was recorded next.
        for position in pieces.indices.sorted(by: { (pieces[$0].time, $0) < (pieces[$1].time, $1) }) {
            let piece = pieces[position]
            piece.bytes.withUnsafeBytes { frames.append(timestamp: piece.time, length: piece.length, bytes: $0) }
        }
        let segmentCount = waiting.values.reduce(0) { $0 + $1.count }
        return Expansion(frames: frames, departed: departed, atPacketInstant: segmentCount - departed, departuresUnmatched: unmatched)
    }

    /// The TCP sequence number in a segment's headers (IPv4 or IPv6, as `segments` makes them).
    static func sequence(ofHeaders headers: [UInt8]) -> UInt32 {
        let ipHeader = headers[0] >> 4 == 4 ? Int(headers[0] & 0x0F) * 4 : 40
        return read32(headers, ipHeader + 4)
    }

    /// The IPv4 header checksum (RFC 1071) of `header` with its checksum field 0.
    static func ipv4Checksum(_ header: ArraySlice<UInt8>) -> UInt16 {
        var sum: UInt32 = 0
        var index = header.startIndex
        while index + 1 < header.endIndex {
            sum += UInt32(header[index]) << 8 | UInt32(header[index + 1])
            index += 2
        }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    private static func read16(_ bytes: [UInt8], _ at: Int) -> UInt16 { UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]) }
    private static func read32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(read16(bytes, at)) << 16 | UInt32(read16(bytes, at + 2))
    }
    private static func write16(_ bytes: inout [UInt8], _ at: Int, _ value: UInt16) {
        bytes[at] = UInt8(value >> 8)
        bytes[at + 1] = UInt8(value & 0xFF)
    }
    private static func write32(_ bytes: inout [UInt8], _ at: Int, _ value: UInt32) {
        write16(&bytes, at, UInt16(value >> 16))
        write16(&bytes, at + 2, UInt16(value & 0xFFFF))
    }
}
