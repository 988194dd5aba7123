/// Expectations on the packet timeline: when segments left, how many, the time between events.
extension Expect {
    /// The host sent segments of `kind` at the schedule's instants, offsets from the
    /// first of them ("client SYNs at 0, 1, 2, 3 s"), no more and no fewer; with
    /// `givingUp`, that call failed at the schedule's end.
    public static func segments(_ kind: SegmentKind, from host: String, port: Int? = nil,
                                at schedule: RetransmissionSchedule, tolerance: Tolerance = .timer,
                                givingUp: PeerCall? = nil, file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.segmentTimes(SegmentSelector(kind, from: host, port: port), schedule, tolerance: tolerance,
                                  givingUp: givingUp), file: file, line: line)
    }

    /// The host sent segments of `kind` spaced by these intervals (one fewer than the segments).
    public static func segments(_ kind: SegmentKind, from host: String, port: Int? = nil, spacedBy intervals: [Double],
                                tolerance: Tolerance = .timer, file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.segmentIntervals(SegmentSelector(kind, from: host, port: port), intervals, tolerance: tolerance),
                    file: file, line: line)
    }

    /// How many segments of `kind` the host sent.
    public static func segments(_ kind: SegmentKind, from host: String, port: Int? = nil, count: Comparison,
                                file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.segmentCount(SegmentSelector(kind, from: host, port: port), count), file: file, line: line)
    }

    /// The host sent no segment of `kind` ("no RST").
    public static func noSegments(_ kind: SegmentKind, from host: String, port: Int? = nil,
                                  file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.segmentCount(SegmentSelector(kind, from: host, port: port), .equals(0)), file: file, line: line)
    }

    /// The first segment of `kind` from the host carries these relative numbers, payload
    /// length and MSS option ("the SYN-ACK acknowledges ISN+1": `ack: 1`).
    public static func segment(_ kind: SegmentKind, from host: String, port: Int? = nil, seq: UInt32? = nil,
                               ack: UInt32? = nil, length: Int? = nil, mss: Int? = nil,
                               file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.segmentFields(SegmentSelector(kind, from: host, port: port),
                                   SegmentFields(seq: seq, ack: ack, length: length, mss: mss)), file: file, line: line)
    }

    /// Every segment of `kind` from the host carries at most `bytes` of payload.
    public static func segments(_ kind: SegmentKind, from host: String, port: Int? = nil, lengthAtMost bytes: Int,
                                file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.segmentLengths(SegmentSelector(kind, from: host, port: port), atMost: bytes), file: file, line: line)
    }

    /// `to` came `seconds` after `from` ("the FIN's ACK 200 ms after the FIN").
    public static func delay(from start: TimelineEvent, to end: TimelineEvent, is seconds: Double,
                             tolerance: Tolerance = .timer, file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.delay(from: start, to: end, seconds: seconds, tolerance: tolerance), file: file, line: line)
    }
}
