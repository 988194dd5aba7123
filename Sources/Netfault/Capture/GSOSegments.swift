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
        var segments: [Segment] = []
        let cut = forEachSegment(of: packet, length: length, gsoSize: gsoSize) { headers, length in
            segments.append(Segment(headers: headers, length: length))
        }
        return cut ? segments : nil
    }

    /// `segments(of:length:gsoSize:)` one segment at a time, in order, each in the same
    /// buffer, rewritten for the next (a bulk transfer cuts hundreds of thousands: no array
    /// each). false, and no call, where `segments` gives nil.
    static func forEachSegment(of packet: ArraySlice<UInt8>, length: Int, gsoSize: Int,
                               _ body: (_ headers: [UInt8], _ length: Int) -> Void) -> Bool {
        let base = packet.startIndex
        guard let first = packet.first else { return false }
        let ipv4 = first >> 4 == 4
        let ipHeader: Int
        if ipv4 {
            ipHeader = Int(first & 0x0F) * 4
            guard ipHeader >= 20, packet.count >= 20, packet[base + 9] == 6 else { return false }
        } else if first >> 4 == 6 {
            ipHeader = 40
            guard packet.count >= 40, packet[base + 6] == 6 else { return false }
        } else {
            return false
        }
        guard packet.count >= ipHeader + 20 else { return false }
        let tcpHeader = Int(packet[base + ipHeader + 12] >> 4) * 4
        guard tcpHeader >= 20, packet.count >= ipHeader + tcpHeader else { return false }
        var segment = Array(packet.prefix(ipHeader + tcpHeader))
        segment[ipHeader + 16] = 0
        segment[ipHeader + 17] = 0
        let payload = length - ipHeader - tcpHeader
        // tcp_gso_segment: `if (skb->len <= mss) goto out;` — the packet goes as it is.
        guard gsoSize > 0, payload > gsoSize else {
            body(segment, length)
            return true
        }
        let count = (payload + gsoSize - 1) / gsoSize
        let sequence = read32(segment, ipHeader + 4)
        let identification = read16(segment, 4)
        let flags = segment[ipHeader + 13]
        let fin: UInt8 = 0x01, psh: UInt8 = 0x08, cwr: UInt8 = 0x80
        // Every field that differs between segments is written for each one.
        for index in 0..<count {
            let last = index == count - 1
            let piece = last ? payload - gsoSize * (count - 1) : gsoSize
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
            body(segment, ipHeader + tcpHeader + piece)
        }
        return true
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
        // Every wire segment (and every record that is not TCP over IP), in record order:
        // its bytes in `cut`, its instant in `times`; each segment's key in `keyed`.
        var cut = CapturedFrames(linkType: input.linkType, snapLength: input.snapLength)
        var times: [Int64] = []
        var keyed: [(key: MatchKey, piece: Int)] = []
        var frame: [UInt8] = []
        for index in input.records.indices {
            let record = input.records[index]
            let bytes = input.bytes(index)
            let gsoSize = index < recorded.gso.count ? Int(recorded.gso[index].size) : 0
            let interface = bytes.count > cooked ? BPFCapture.cookedInterfaceIndex(bytes) : 0
            let isTCP = bytes.count > cooked && forEachSegment(of: bytes.dropFirst(cooked), length: record.length - cooked,
                                                               gsoSize: gsoSize) { headers, length in
                keyed.append((MatchKey(interface: interface, sequence: sequence(ofHeaders: headers), length: length), times.count))
                frame.removeAll(keepingCapacity: true)
                frame.append(contentsOf: bytes.prefix(cooked))
                frame.append(contentsOf: headers)
                frame.withUnsafeBytes { cut.append(timestamp: record.timestamp, length: cooked + length, bytes: $0) }
                times.append(record.timestamp)
            }
            if !isTCP {
                bytes.withUnsafeBytes { cut.append(timestamp: record.timestamp, length: record.length, bytes: $0) }
                times.append(record.timestamp)
            }
        }
        // Both sides by key, then time (records from different CPUs may reach the ring
        // slightly out of order), and matched key by key.
        keyed.sort { ($0.key, times[$0.piece], $0.piece) < ($1.key, times[$1.piece], $1.piece) }
        let departures = recorded.departures
            .map { (key: MatchKey(interface: $0.interfaceIndex, sequence: $0.sequence, length: $0.length), time: $0.timestamp) }
            .sorted { ($0.key, $0.time) < ($1.key, $1.time) }
        var departed = 0, unmatched = 0
        var piece = 0, departure = 0
        var candidates: [Int] = []
        while departure < departures.count {
            let key = departures[departure].key
            var departuresEnd = departure
            while departuresEnd < departures.count && departures[departuresEnd].key == key { departuresEnd += 1 }
            while piece < keyed.count && keyed[piece].key < key { piece += 1 }
            var next = piece
            candidates.removeAll(keepingCapacity: true)
            for index in departure..<departuresEnd {
                let time = departures[index].time
                while next < keyed.count && keyed[next].key == key && times[keyed[next].piece] <= time {
                    candidates.append(keyed[next].piece)
                    next += 1
                }
                guard let newest = candidates.popLast() else {
                    unmatched += 1
                    continue
                }
                times[newest] = time
                departed += 1
            }
            departure = departuresEnd
        }
        var frames = CapturedFrames(linkType: input.linkType, snapLength: input.snapLength)
        // Time order (stable): a packet's later segments left after what was recorded next.
        for position in times.indices.sorted(by: { (times[$0], $0) < (times[$1], $1) }) {
            cut.bytes(position).withUnsafeBytes { frames.append(timestamp: times[position], length: cut.records[position].length, bytes: $0) }
        }
        return Expansion(frames: frames, departed: departed, atPacketInstant: keyed.count - departed, departuresUnmatched: unmatched)
    }

    /// What a segment and its departure are matched by: interface, sequence number and
    /// length; ordered so that both lists can be sorted and walked together.
    struct MatchKey: Comparable {
        let interface: UInt32
        let sequence: UInt32
        let length: Int

        static func < (a: MatchKey, b: MatchKey) -> Bool {
            (a.interface, a.sequence, a.length) < (b.interface, b.sequence, b.length)
        }
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
