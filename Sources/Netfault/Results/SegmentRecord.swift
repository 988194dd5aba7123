/// One captured segment in a scenario's result (`segments` in the JSON): as seen
/// by `host`, sent ("out") or received ("in"). A segment that crossed a link
/// appears twice, once at each end; one a fault dropped on the way out appears
/// once, marked, at the instant the fault engine saw it.
public struct SegmentRecord: Codable, Sendable, Equatable {
    /// Seconds since the scenario's start: the kernel's capture timestamp.
    public var time: Double
    /// The host whose capture saw it.
    public var host: String
    /// "out" or "in".
    public var direction: String
    /// "10.77.1.1:43210", "[fd77:1::1]:8080"
    public var src: String
    /// The destination, address:port.
    public var dst: String
    /// tcpdump's notation: "S", "S.", ".", "P.", "F.", "R", "R."
    public var flags: String
    /// Relative to the direction's SYN (tcpdump's relative numbers).
    public var seq: UInt32
    /// Relative to the other direction's SYN; 0 without the ACK flag.
    public var ack: UInt32
    /// Payload bytes.
    public var length: Int
    /// The advertised window (unscaled); null for a segment only the fault engine saw.
    public var window: Int?
    /// Its TCP options, when it has any.
    public var options: TCPOptions?
    /// null, or what a fault did: "dropped by lose-syn", "delayed 300 ms by slow-fin", …
    public var fault: String?
    /// For a sent segment: the host whose capture saw it arrive (null if none did).
    public var receiver: String?

    /// A segment as the JSON lists it.
    public init(time: Double, host: String, direction: String, src: String, dst: String, flags: String, seq: UInt32,
                ack: UInt32, length: Int, window: Int? = nil, options: TCPOptions? = nil, fault: String? = nil,
                receiver: String? = nil) {
        self.time = time
        self.host = host
        self.direction = direction
        self.src = src
        self.dst = dst
        self.flags = flags
        self.seq = seq
        self.ack = ack
        self.length = length
        self.window = window
        self.options = options
        self.fault = fault
        self.receiver = receiver
    }

    /// The JSON's record of an observed segment.
    public init(_ segment: ObservedSegment) {
        self.init(segment, src: segment.source, dst: segment.destination, flags: segment.flags)
    }

    /// The JSON's records of `segments`, in order: `init(_:)` of each, with each endpoint's
    /// and each flags' text made once. A bulk transfer's hundreds of thousands of segments
    /// share a handful of them, and making each anew was most of this conversion's time.
    public static func records(_ segments: [ObservedSegment]) -> [SegmentRecord] {
        struct Endpoint: Hashable {
            let address: PacketAddress
            let port: UInt16
        }
        var endpoints: [Endpoint: String] = [:]
        var flags: [TCPFlags: String] = [:]
        func text(_ address: PacketAddress, _ port: UInt16) -> String {
            let endpoint = Endpoint(address: address, port: port)
            if let text = endpoints[endpoint] { return text }
            let text = VerdictEngine.endpoint(address, port)
            endpoints[endpoint] = text
            return text
        }
        func text(_ segmentFlags: TCPFlags) -> String {
            if let text = flags[segmentFlags] { return text }
            let text = segmentFlags.tcpdump
            flags[segmentFlags] = text
            return text
        }
        return segments.map { segment in
            let header = segment.header
            return SegmentRecord(segment, src: text(header.source, header.sourcePort),
                                 dst: text(header.destination, header.destinationPort), flags: text(header.flags))
        }
    }

    private init(_ segment: ObservedSegment, src: String, dst: String, flags: String) {
        var options = segment.options
        // SACK blocks in the same relative numbers as the acknowledgment they go with.
        let offset = segment.header.acknowledgment &- segment.relativeAcknowledgment
        options.sack = options.sack?.map { $0.map { $0 &- offset } }
        self.init(time: segment.time, host: segment.host, direction: segment.direction.rawValue, src: src,
                  dst: dst, flags: flags, seq: segment.relativeSequence,
                  ack: segment.relativeAcknowledgment, length: segment.length,
                  window: segment.engineStamped ? nil : Int(segment.window),
                  options: options.isEmpty ? nil : options, fault: segment.fault, receiver: segment.receiver)
    }

    enum CodingKeys: String, CodingKey {
        case time, host, direction, src, dst, flags, seq, ack, length, window, options, fault, receiver
    }

    /// `fault` is always present: null when no fault touched the segment.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(time, forKey: .time)
        try c.encode(host, forKey: .host)
        try c.encode(direction, forKey: .direction)
        try c.encode(src, forKey: .src)
        try c.encode(dst, forKey: .dst)
        try c.encode(flags, forKey: .flags)
        try c.encode(seq, forKey: .seq)
        try c.encode(ack, forKey: .ack)
        try c.encode(length, forKey: .length)
        try c.encodeIfPresent(window, forKey: .window)
        try c.encodeIfPresent(options, forKey: .options)
        try c.encode(fault, forKey: .fault)
        try c.encodeIfPresent(receiver, forKey: .receiver)
    }
}
