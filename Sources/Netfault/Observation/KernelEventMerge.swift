import NetfaultKernel

/// Joins the kernel's events with the sampler's sockets into one recording. Pure.
///
/// A full socket's transitions come from its inet_sock_set_state events, at exact
/// instants. The sampler keeps what no event shows: a request socket's SYN_RECV before the
/// child exists, and a TIME_WAIT socket's life (the full socket's CLOSE event is the
/// instant the TIME_WAIT socket replaced it, so that CLOSE becomes TIME_WAIT there).
enum KernelEventMerge {
    struct Input {
        var events: [TCPEvent]
        /// Namespace inode → host name.
        var hosts: [UInt32: String]
        /// CLOCK_MONOTONIC nanoseconds at the scenario's start.
        var t0: Int64
        /// The sampler's last sample, before the processes were stopped: state changes after it
        /// are the teardown's, not the scenario's (as sampling ends there too).
        var statesUntil: Int64
        var dropReasons: [UInt32: String]
        var resetReasons: [UInt32: String]
    }

    struct Output {
        var sockets: [ObservedSocket]
        var drops: [KernelDrop] = []
        var retransmissions: [KernelRetransmission] = []
        var resets: [KernelReset] = []
    }

    static func merge(_ input: Input, sampled: [ObservedSocket]) -> Output {
        func seconds(_ time: Int64) -> Double { Double(time - input.t0) / 1e9 }
        var output = Output(sockets: [])
        var lifetimes: [SocketKey: [ObservedTransition]] = [:]
        var keyOrder: [SocketKey] = []
        var open: [LifeKey: (transitions: [ObservedTransition], local: Endpoint?, remote: Endpoint)] = [:]
        // Retransmissions still held in a queue when announced, by socket and sequence number.
        var awaitingDeparture: [DepartureKey: Int] = [:]

        for event in input.events {
            guard let host = input.hosts[event.netns] else { continue }
            let time = seconds(event.time)
            switch event.kind {
            case .state:
                guard let state = event.newState, event.time <= input.statesUntil else { continue }
                let life = LifeKey(netns: event.netns, socket: event.socket)
                var entry = open[life] ?? ([], nil, event.remote)
                entry.transitions.append(ObservedTransition(time: time, state: state, source: .event))
                // SYN_SENT is entered before the local port is chosen: later events carry it.
                if event.local.port != 0 { entry.local = event.local }
                entry.remote = event.remote
                if state == .close {
                    open[life] = nil
                    if let local = entry.local {
                        let key = SocketKey(host: host, local: local, remote: entry.remote)
                        if lifetimes[key] == nil { keyOrder.append(key) }
                        lifetimes[key, default: []] += entry.transitions
                    }
                } else {
                    open[life] = entry
                }
            case .drop:
                let reason = event.reason.map { input.dropReasons[$0] ?? "reason \($0)" } ?? "unknown"
                output.drops.append(KernelDrop(time: time, host: host, reason: reason, segment: segment(event, ack: true)))
            case .retransmit, .retransmitSynAck:
                // A stamp after the tracepoint is a later transmission's (the segment was sent again meanwhile).
                let earliest = event.stamped.flatMap { $0 <= event.time ? seconds($0) : nil }
                if event.departed == nil {
                    awaitingDeparture[DepartureKey(netns: event.netns, socket: event.socket, sequence: event.sequence)] = output.retransmissions.count
                }
                output.retransmissions.append(KernelRetransmission(announced: time, departed: event.departed.map(seconds), earliest: earliest,
                                                                   host: host, kind: retransmissionKind(event), segment: segment(event, ack: false)))
            case .departure:
                let key = DepartureKey(netns: event.netns, socket: event.socket, sequence: event.sequence)
                guard let index = awaitingDeparture.removeValue(forKey: key), let departed = event.departed else { continue }
                output.retransmissions[index].departed(at: seconds(departed))
            case .sendReset, .receiveReset:
                output.resets.append(KernelReset(time: time, host: host, direction: event.kind == .sendReset ? .sent : .received,
                                                 local: event.local.description, remote: event.remote.description,
                                                 reason: event.reason.map { input.resetReasons[$0] ?? "reason \($0)" }))
            }
        }
        // Sockets still open at the end (listeners, held connections).
        for (life, entry) in open.sorted(by: { $0.value.transitions[0].time < $1.value.transitions[0].time }) {
            guard let local = entry.local, let host = input.hosts[life.netns] else { continue }
            let key = SocketKey(host: host, local: local, remote: entry.remote)
            if lifetimes[key] == nil { keyOrder.append(key) }
            lifetimes[key, default: []] += entry.transitions
        }

        var merged: [ObservedSocket] = sampled.map { socket in
            let key = socket.key
            guard let events = lifetimes.removeValue(forKey: key) else { return socket }
            var result = socket
            let transitions = mergeTransitions(events: events, sampled: socket.transitions)
            // Never less than sampling: should the events miss a state the sampler saw (seen once
            // in C8 under load: an orphan's FIN_WAIT2 lost between the lifetimes of one 4-tuple),
            // the socket keeps its samples.
            let announced = Set(transitions.map(\.state))
            result.transitions = socket.transitions.allSatisfy { announced.contains($0.state) } ? transitions : socket.transitions
            return result
        }
        // Sockets that lived and died between two samples: known from events alone.
        for key in keyOrder {
            guard let events = lifetimes[key] else { continue }
            merged.append(ObservedSocket(host: key.host, local: key.local, remote: key.remote,
                                         transitions: mergeTransitions(events: events, sampled: []), samples: []))
        }
        output.sockets = merged
        return output
    }

    /// A segment a fault dropped before the wire carries the engine's instant, up to
    /// `Tolerance.queueStamped.early` after the kernel sent it. Where the kernel announced that
    /// sending (a retransmission: same host, endpoints and sequence number, no later than the
    /// engine's reading and within that margin of it), it takes the kernel's instant instead:
    /// the device's if it got that far, else TCP's stamp.
    /// A connection's first SYN is no retransmission: it takes its socket's announced SYN_SENT
    /// (`sockets`), which the kernel enters just before it builds and sends that SYN
    /// (tcp_v4_connect/tcp_v6_connect, then tcp_connect): earlier than the SYN by microseconds
    /// here (0.5–16 ms in an emulated guest, choosing a port), never later, so offsets from it
    /// are never early — while the engine's reading was 238 ms late once in an emulated guest.
    static func restamp(_ segments: [ObservedSegment], with retransmissions: [KernelRetransmission],
                        sockets: [ObservedSocket] = []) -> [ObservedSegment] {
        var used = Set<Int>()
        var result = segments.map { segment -> ObservedSegment in
            guard segment.engineStamped else { return segment }
            if let connecting = connectionStart(of: segment, sockets, segments) {
                var restamped = segment
                restamped.time = connecting
                restamped.kernelStamped = true
                return restamped
            }
            let match = retransmissions.indices.first { index in
                let retransmission = retransmissions[index]
                return !used.contains(index) && retransmission.host == segment.host
                    && retransmission.segment.from == segment.source && retransmission.segment.to == segment.destination
                    && retransmission.segment.seq == segment.header.sequence
                    && retransmission.sentAt <= segment.time
                    && segment.time - retransmission.announced <= Tolerance.queueStamped.early
            }
            guard let match else { return segment }
            used.insert(match)
            var restamped = segment
            restamped.time = retransmissions[match].sentAt
            restamped.kernelStamped = true
            return restamped
        }
        result.sort { $0.time < $1.time }
        return result
    }

    /// When the socket that sent `segment`, a SYN, entered SYN_SENT (the kernel's instant), if
    /// this is its first SYN: nothing of its flow was sent between that instant and this one.
    private static func connectionStart(of segment: ObservedSegment, _ sockets: [ObservedSocket],
                                        _ segments: [ObservedSegment]) -> Double? {
        guard segment.header.flags.contains(.syn), !segment.header.flags.contains(.ack) else { return nil }
        let entered = sockets.filter { socket in
            socket.host == segment.host && socket.local.description == segment.source && socket.remote.description == segment.destination
        }.flatMap { socket in
            socket.transitions.filter { $0.state == .synSent && $0.source == .event && $0.time <= segment.time }.map(\.time)
        }.max()
        guard let entered else { return nil }
        let earlier = segments.contains { other in
            other.host == segment.host && other.isSent && other.source == segment.source && other.destination == segment.destination
                && other.time >= entered && other.time < segment.time
        }
        return earlier ? nil : entered
    }

    /// Events for the full socket; from sampling, only the states events cannot show: a
    /// request socket's SYN_RECV before any event, and a timewait socket's life after the full
    /// socket's CLOSE (TIME_WAIT, or an orphan's FIN_WAIT2 for tcp_fin_timeout) — known to be
    /// there when a sample taken after that CLOSE still shows the 4-tuple.
    static func mergeTransitions(events: [ObservedTransition], sampled: [ObservedTransition]) -> [ObservedTransition] {
        let firstEvent = events.first?.time ?? .infinity
        var merged = sampled.filter { $0.state == .synRecv && $0.time < firstEvent }
        for (index, event) in events.enumerated() {
            guard event.state == .close else {
                merged.append(event)
                continue
            }
            let next = index + 1 < events.count ? events[index + 1].time : .infinity
            let after = sampled.filter { event.time < $0.time && $0.time < next }
            // Evidence of a timewait socket: TIME_WAIT sampled (a full socket never shows it), a
            // dump that began after the CLOSE still listing the 4-tuple, or the tuple listed to
            // the end. (A dump that ended after the CLOSE may have read the full socket before it.)
            let gone = after.first { $0.state == .close }
            let lingered = after.contains { $0.state == .timeWait } || (gone.map { $0.earliest > event.time } ?? false)
                || (gone == nil && next == .infinity && [.finWait2, .timeWait].contains(sampled.last?.state))
            guard lingered else {
                merged.append(event)
                continue
            }
            // The timewait socket starts as an orphan's FIN_WAIT2 (out of FIN_WAIT2, seen so after
            // the CLOSE) or as TIME_WAIT, at the CLOSE's instant. Samples that end after the
            // CLOSE may still show the full socket's last states: only what follows the timewait
            // socket's first sighting is its own.
            let startsAs: TCPState = index > 0 && events[index - 1].state == .finWait2
                && after.contains { $0.state == .finWait2 } ? .finWait2 : .timeWait
            if startsAs == .timeWait {
                merged.append(ObservedTransition(time: event.time, state: .timeWait, source: .event))
            }
            if let sighting = after.firstIndex(where: { $0.state == startsAs }) {
                merged += after[(sighting + 1)...]
            } else {
                merged += after.filter { $0.state == .close }
            }
        }
        merged.sort { $0.time < $1.time }
        // One entry per state change and source: a child's SYN_RECV (event) stays apart from
        // its request socket's (sample), which began earlier.
        var result: [ObservedTransition] = []
        for transition in merged where result.last.map({ $0.state != transition.state || $0.source != transition.source }) ?? true {
            result.append(transition)
        }
        return result
    }

    private static func segment(_ event: TCPEvent, ack: Bool) -> EventSegment {
        EventSegment(from: event.local.description, to: event.remote.description, flags: EventSegment.flagNames(event.flags),
                     seq: event.sequence, ack: ack && event.flags & 0x10 != 0 ? event.acknowledgment : nil, length: event.length)
    }

    private static func retransmissionKind(_ event: TCPEvent) -> KernelRetransmission.Kind {
        if event.kind == .retransmitSynAck { return .synAck }
        if event.flags & 0x02 != 0 { return .syn }
        if event.flags & 0x01 != 0 && event.length == 0 { return .fin }
        return .data
    }

    private struct DepartureKey: Hashable {
        let netns: UInt32
        let socket: UInt64
        let sequence: UInt32
    }

    private struct LifeKey: Hashable {
        let netns: UInt32
        let socket: UInt64
    }
}
