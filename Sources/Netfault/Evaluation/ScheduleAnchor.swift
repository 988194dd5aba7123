/// Where a schedule's offsets are measured from: the instant its timer was armed, or the
/// last captured instant before it, so that an offset is never early for a timer that was not.
///
/// A connecting socket arms its SYN timer after sending the SYN (tcp_connect), and data and
/// FINs arm the retransmission timer after their first send (tcp_event_new_data_sent): those
/// schedules start at their first send. A listener arms a request's SYN-ACK timer when it
/// makes the request, on the SYN's arrival, before it sends the first SYN-ACK (tcp_conn_request:
/// inet_csk_reqsk_queue_hash_add, then send_synack): the retransmissions come a timeout after
/// the SYN's arrival, not after the first SYN-ACK, which lags it by µs on an idle machine and
/// by milliseconds in an emulated guest.
struct ScheduleAnchor: Equatable {
    let time: Double
    /// What the offsets are from, when not from the first send: "the SYN's arrival at server".
    let name: String?
    /// How long after the anchor the first send came.
    let lag: Double

    /// The first of the sends.
    static func firstSend(_ times: [Double]) -> ScheduleAnchor {
        ScheduleAnchor(time: times.first ?? 0, name: nil, lag: 0)
    }

    /// For SYN-ACKs, the arrival (the server's captured copy) of the SYN that made the request
    /// the first of them answers; for other kinds, or when no such SYN was captured, the first send.
    static func of(_ kind: SegmentKind, _ sends: [ObservedSegment], _ recording: Recording) -> ScheduleAnchor {
        let times = sends.map(\.time)
        guard kind == .synAck, let first = sends.first else { return firstSend(times) }
        // The last before the first SYN-ACK: an earlier SYN of the flow may have been dropped on arrival.
        let syn = recording.segments.last { segment in
            segment.host == first.host && segment.direction == .in && segment.kinds.contains(.syn)
                && segment.source == first.destination && segment.destination == first.source && segment.time <= first.time
        }
        guard let syn else { return firstSend(times) }
        return ScheduleAnchor(time: syn.time, name: "the SYN's arrival at \(first.host)", lag: first.time - syn.time)
    }

    /// " (offsets from the SYN's arrival at server, 12.345 s)", or nothing for the first send.
    var note: String {
        name.map { " (offsets from \($0), \(Format.seconds(time)))" } ?? ""
    }

    /// The range each expected send may be observed in. At the anchor's own instant the first
    /// send is no timer: a SYN-ACK answers the SYN in the softirq that made the request, after
    /// the SYN's capture on the same host (so never before it), delayed only by how long that
    /// softirq waits for a CPU — the scheduling delay the tolerance's late margin accepts for
    /// the first timer, which the same CPUs run.
    func allowedRanges(_ sends: [Double], _ tolerance: Tolerance) -> [ClosedRange<Double>] {
        sends.enumerated().map { index, send in
            guard name != nil, index == 0 else { return tolerance.range(around: send) }
            let firstTimeout = sends.count > 1 ? sends[1] : RetransmissionSchedule.initialTimeout
            return send...(send + tolerance.range(around: firstTimeout).upperBound - firstTimeout)
        }
    }
}
