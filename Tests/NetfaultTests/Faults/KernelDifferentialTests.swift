import Foundation
import NetfaultKernel
import NetfaultScenarios
import Testing
@testable import Netfault

/// The tc engine (bpf/fault_engine.bpf.c) against its specification, the Swift
/// `VerdictEngine`: the same packet streams go to both — to the BPF programs through
/// `bpf_prog_test_run_opts` with the engine's clock set per packet — and every decision
/// and verdict must agree. Needs root (loading BPF), no namespace.
@Suite("Kernel fault engine against the Swift engine", .serialized, .enabled(if: RootOnly.isRoot, RootOnly.reason))
struct KernelDifferentialTests {
    /// The generator's seed; a failure names it and the case's index.
    static let generatorSeed: UInt64 = 0x6E66_2026_1207_0001
    /// NETFAULT_DIFFERENTIAL_CASES lowers it for emulated guests (scripts/in-vm).
    static let generatedCases = Int(ProcessInfo.processInfo.environment["NETFAULT_DIFFERENTIAL_CASES"] ?? "") ?? 10_000
    /// Where rules and impairments that name an interface point: in a test run skb->ifindex
    /// is the loopback's.
    static let testInterface: UInt32 = 1
    static let t0: Int64 = 1_000_000_000_000

    @Test func generatedFaultListsOverGeneratedFlowsAgree() throws {
        let engine = try TCFaultEngine(rules: [], impairments: [], seed: 0, t0: Self.t0, skipMark: FaultPlan.injectedMark)
        defer { engine.close() }
        var failures: [String] = []
        var decisions = 0, drops = 0, peerActions = 0
        for index in 0..<Self.generatedCases {
            var random = CaseRandom(seed: Self.generatorSeed ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
            let faults = Generator.faults(&random)
            let impairments = faults.isEmpty || random.chance(0.5) ? [Generator.impairment(&random)] : []
            let stream = Generator.stream(&random)
            let outcome = try Self.compare(engine, faults: faults, impairments: impairments, stream: stream, seed: random.next())
            decisions += outcome.decisions
            drops += outcome.drops
            peerActions += outcome.peerActions
            if let mismatch = outcome.mismatch {
                failures.append("case seed 0x\(String(Self.generatorSeed, radix: 16)) index \(index): \(mismatch)")
                if failures.count >= 3 { break }
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n\n"))")
        // The generator must exercise the engines: a stream set that never decides would agree vacuously.
        #expect(decisions > Self.generatedCases, "decisions: \(decisions)")
        #expect(drops > Self.generatedCases / 10, "drops: \(drops)")
        // …and segments inside GSO packets must be acted on by fault_peer, not only passed.
        #expect(peerActions > Self.generatedCases / 50, "segments of GSO packets fault_peer acted on: \(peerActions)")
    }

    @Test func catalogFaultsAgree() throws {
        let engine = try TCFaultEngine(rules: [], impairments: [], seed: 0, t0: Self.t0, skipMark: FaultPlan.injectedMark)
        defer { engine.close() }
        var failures: [String] = [], hostsRun = 0, decisions = 0
        for scenario in Catalog.all where !scenario.faults.isEmpty || !scenario.impairments.isEmpty {
            let network = NetworkPlan(scenario)
            let plan = FaultPlan(scenario, network: network, netemAvailable: false)
            for work in plan.hosts {
                let faults = work.faults.filter { $0.kernelRule(fqAvailable: true).entry != nil }.map(Self.onTestInterface)
                let impairments = work.impairments.filter { $0.kernelImpairment(fqAvailable: true).entry != nil }
                    .map(Self.onTestInterface)
                guard !faults.isEmpty || !impairments.isEmpty else { continue }
                let local = network.host(work.host)?.interfaces.first
                guard let local, let mine = local.addresses.first?.address,
                      let theirs = network.host(local.peerHost)?.interfaces.first(where: { $0.peerHost == work.host })?
                          .addresses.first(where: { $0.address.bytes.count == mine.bytes.count })?.address
                else { continue }
                hostsRun += 1
                let ports = Set(faults.compactMap(\.port))
                for index in 0..<40 {
                    var random = CaseRandom(seed: Self.generatorSeed ^ 0xCA7A ^ UInt64(index) << 20 ^ UInt64(hostsRun) << 40)
                    let stream = Generator.stream(&random, local: mine.description, remote: theirs.description,
                                                  remotePort: ports.sorted().first.map { Int($0) } ?? 8080)
                    let outcome = try Self.compare(engine, faults: faults, impairments: impairments, stream: stream,
                                                   seed: StepExecution.seed(scenario.id))
                    decisions += outcome.decisions
                    if let mismatch = outcome.mismatch {
                        failures.append("\(scenario.id) on \(work.host), stream \(index): \(mismatch)")
                        break
                    }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(3).joined(separator: "\n\n"))")
        #expect(hostsRun >= 5 && decisions > 0, "catalog hosts run: \(hostsRun), decisions: \(decisions)")
    }

    static func onTestInterface(_ fault: PlacedFault) -> PlacedFault {
        PlacedFault(name: fault.name, action: fault.action, kind: fault.kind, occurrence: fault.occurrence, port: fault.port,
                    window: fault.window, interfaceIndex: fault.interfaceIndex.map { _ in testInterface },
                    destinations: fault.destinations)
    }

    static func onTestInterface(_ impairment: PlacedImpairment) -> PlacedImpairment {
        impairment.moved(to: testInterface)
    }

    struct Outcome {
        var decisions = 0
        var drops = 0
        /// Segments of GSO packets that fault_peer dropped or changed.
        var peerActions = 0
        var mismatch: String?
    }

    /// Feeds `stream` to a fresh Swift engine and to `engine` reset to the same entries.
    static func compare(_ engine: TCFaultEngine, faults: [PlacedFault], impairments: [PlacedImpairment],
                        stream: [Generator.Packet], seed: UInt64) throws -> Outcome {
        let rules = faults.map { $0.kernelRule(fqAvailable: true).entry! }
        let entries = impairments.map { $0.kernelImpairment(fqAvailable: true).entry! }
        try engine.reset(rules: rules, impairments: entries, seed: seed, t0: t0, skipMark: FaultPlan.injectedMark)
        var swift = VerdictEngine(host: "h", faults: faults, impairments: impairments, seed: seed)
        let names = KernelFaultNames(rules: faults.map(\.name), impairments: impairments.map(\.name))
        var kernelDecisions: [FaultDecision] = []
        var outcome = Outcome()
        // Formatted only for a failure's message.
        var verdicts: [(id: UInt32, actions: [VerdictAction], verdict: UInt32, departure: UInt64)] = []
        var nextID: UInt32 = 0
        for packet in stream {
            let clock = UInt64(t0) + packet.nanoseconds
            if !packet.segments.isEmpty {
                // A GSO packet: the Swift engine sees its segments as the wire carries them;
                // the kernel's egress program sees the packet, and fault_peer each segment.
                var ids: [UInt32] = []
                var actions: [VerdictAction] = []
                for segment in packet.segments {
                    nextID += 1
                    ids.append(nextID)
                    swift.handle(EnginePacket(id: nextID, egress: true, interfaceIndex: testInterface, bytes: segment),
                                 at: Double(packet.nanoseconds) / 1e9, into: &actions)
                }
                let run = try engine.testRun(frame: Generator.ethernet(packet.bytes), clockNanoseconds: clock, program: .egress,
                                             gsoSegmentSize: packet.gsoSize, gsoSegments: packet.segments.count)
                verdicts.append((ids[0], actions, run.verdict, run.departureNanoseconds))
                if run.verdict != UInt32(bitPattern: -1) {
                    outcome.mismatch = "GSO packet #\(ids[0])…#\(ids.last!): kernel verdict \(run.verdict) at egress"
                    break
                }
                for (id, segment) in zip(ids, packet.segments) {
                    let peer = try engine.testRun(frame: Generator.ethernet(segment), clockNanoseconds: clock, program: .peer)
                    let kernelDropped = peer.verdict == 2  // TC_ACT_SHOT
                    if kernelDropped { outcome.drops += 1 }
                    if kernelDropped || peer.frame != Generator.ethernet(segment) { outcome.peerActions += 1 }
                    if actions.contains(.drop(id)) != kernelDropped || (peer.verdict != UInt32(bitPattern: -1) && !kernelDropped) {
                        outcome.mismatch = "GSO segment #\(id): swift \(actions), fault_peer verdict \(peer.verdict)"
                    } else if let mismatch = Self.corruptionMismatch(id, actions, segment, peer) {
                        outcome.mismatch = mismatch
                    }
                    if outcome.mismatch != nil { break }
                }
                if outcome.mismatch != nil { break }
                continue
            }
            nextID += 1
            let id = nextID
            var actions: [VerdictAction] = []
            swift.handle(EnginePacket(id: id, egress: packet.egress, interfaceIndex: testInterface, bytes: packet.bytes),
                         at: Double(packet.nanoseconds) / 1e9, into: &actions)
            let run = try engine.testRun(frame: Generator.ethernet(packet.bytes), clockNanoseconds: clock,
                                         program: packet.egress ? .egress : .ingress)
            let swiftDropped = actions.contains(.drop(id))
            let kernelDropped = run.verdict == 4  // TC_ACT_STOLEN
            if kernelDropped { outcome.drops += 1 }
            verdicts.append((id, actions, run.verdict, run.departureNanoseconds))
            let passed: UInt32 = packet.egress ? UInt32(bitPattern: -1) : 0  // TC_ACT_UNSPEC at egress, TC_ACT_OK at ingress
            if swiftDropped != kernelDropped || (run.verdict != passed && run.verdict != 4) {
                outcome.mismatch = "packet #\(id): swift \(actions), kernel verdict \(run.verdict)"
            } else if let mismatch = Self.corruptionMismatch(id, actions, packet.bytes, run) {
                outcome.mismatch = mismatch
            }
            if outcome.mismatch != nil { break }
        }
        // The ring holds thousands of records: one read per case.
        kernelDecisions = try engine.poll(timeoutMilliseconds: 0).map { FaultDecision($0, host: "h", names: names, t0: t0) }
        outcome.decisions = kernelDecisions.count
        if outcome.mismatch == nil && kernelDecisions.map(Self.withoutIPv4HeaderChecksum) != swift.decisions.map(Self.withoutIPv4HeaderChecksum) {
            outcome.mismatch = "decisions differ"
        }
        if var mismatch = outcome.mismatch {
            mismatch += "\nfaults: \(faults)\nimpairments: \(impairments)\nverdicts:\n  "
                + verdicts.map { "#\($0.id) swift \($0.actions.map(Self.short)) kernel verdict \($0.verdict) tstamp \($0.departure)" }
                .joined(separator: "\n  ")
            mismatch += "\nswift decisions:\n  " + swift.decisions.map(Self.describe).joined(separator: "\n  ")
            mismatch += "\nkernel decisions:\n  " + kernelDecisions.map(Self.describe).joined(separator: "\n  ")
            outcome.mismatch = mismatch
        }
        return outcome
    }

    /// A corrupted packet: the same bit flipped (the kernel also moves the checksum, which the Swift copy keeps).
    static func corruptionMismatch(_ id: UInt32, _ actions: [VerdictAction], _ sent: [UInt8], _ run: TCFaultEngine.TestRun) -> String? {
        guard let replaced = actions.lazy.compactMap({ if case .acceptReplacing(id, let b) = $0 { b } else { nil } }).first else { return nil }
        let kernelPacket = Array(run.frame.dropFirst(14))
        let checksum = Generator.checksumRange(sent)
        let differs = zip(replaced, kernelPacket).enumerated().contains { $0.element.0 != $0.element.1 && !checksum.contains($0.offset) }
        return differs || kernelPacket.count != replaced.count ? "packet #\(id): corrupted differently" : nil
    }

    /// The kernel keeps a dropped GSO segment's IPv4 header with its checksum moved to the
    /// segment's length and id; the test's packets carry no checksums to compare it with.
    /// Where a decision is carried out (here or at the link's other end) is not compared either.
    static func withoutIPv4HeaderChecksum(_ decision: FaultDecision) -> FaultDecision {
        var decision = decision
        decision.atLinkEnd = false  // where it is carried out is the kernel's; the Swift engine has one place
        if var packet = decision.droppedPacket, packet.count >= 12, packet[0] >> 4 == 4 {
            packet[10] = 0
            packet[11] = 0
            decision.droppedPacket = packet
        }
        return decision
    }

    static func short(_ action: VerdictAction) -> String {
        switch action {
        case .accept: "accept"
        case .drop: "drop"
        case .acceptReplacing: "replace"
        case .inject: "inject"
        }
    }

    static func describe(_ d: FaultDecision) -> String {
        "\(d.time) \(d.fault): \(d.action) \(d.source)>\(d.destination) \(d.flags) seq \(d.sequence) ack \(d.acknowledgment) len \(d.length)"
            + (d.droppedPacket.map { " kept \($0.count)" } ?? "")
    }
}

/// A seeded generator for the test's cases (the library's SplitMix64: it only makes cases).
struct CaseRandom: RandomNumberGenerator {
    private var generator: SplitMix64
    init(seed: UInt64) { generator = SplitMix64(seed: seed) }
    mutating func next() -> UInt64 { generator.next() }
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
    mutating func pick<T>(_ values: [T]) -> T { values[Int(next() % UInt64(values.count))] }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
}

/// Random fault lists and TCP conversations (handshakes with repeats, data both ways,
/// retransmissions, duplicate ACKs, FINs and their ACKs, RSTs, some UDP and ICMP; IPv4
/// and IPv6), as the engine on one host sees them: its own packets on egress, its peer's
/// on ingress.
enum Generator {
    struct Packet {
        let egress: Bool
        let bytes: [UInt8]
        let nanoseconds: UInt64
        /// A GSO packet's segment payload size, and its segments as the device cuts them.
        var gsoSize = 0
        var segments: [[UInt8]] = []
    }

    /// What a conversation sends: a packet, or a GSO packet and its segments.
    struct Sent {
        let egress: Bool
        let bytes: [UInt8]
        var gsoSize = 0
        var segments: [[UInt8]] = []
    }

    static let ports: [UInt16] = [80, 8080, 443]

    static func faults(_ random: inout CaseRandom) -> [PlacedFault] {
        (0..<random.int(0...4)).map { index in
            let action: FaultAction = random.pick([.drop, .drop, .duplicate, .delay(Double(random.int(1...300)) / 1000)])
            let kind: SegmentKind? = random.chance(0.1) ? nil : random.pick(SegmentKind.allCases)
            let occurrence: Occurrence = random.pick([.all, .nth(random.int(1...3)), .first(random.int(1...2)),
                                                      .everyNth(random.int(1...3)), .afterNth(random.int(0...2))])
            let port: UInt16? = random.chance(0.3) ? random.pick(ports + [4000]) : nil
            var window: Range<Double>?
            if random.chance(0.3) {
                let start = random.int(0...200)
                window = Double(start) / 1000..<Double(start + random.int(1...500)) / 1000
            }
            let interface: UInt32? = random.chance(0.6) ? nil : random.chance(0.75) ? KernelDifferentialTests.testInterface : 99
            var destinations: Set<PacketAddress>?
            if kind == nil && random.chance(0.5) {
                destinations = [PacketAddress(IPAddressBytes.parse(random.pick(["10.77.2.2", "fd77::2:2", "10.77.9.9"])))]
            }
            return PlacedFault(name: "f\(index)", action: action, kind: kind, occurrence: occurrence, port: port, window: window,
                               interfaceIndex: interface, destinations: destinations)
        }
    }

    static func impairment(_ random: inout CaseRandom) -> PlacedImpairment {
        var value = Impairment(from: "h", to: "peer")
        value.loss = random.pick([0, 0, 5, 30, 100])
        value.duplicate = random.pick([0, 0, 10, 50])
        value.corrupt = random.pick([0, 0, 10, 100])
        value.delay = random.pick([0, 0, 0.01, 0.05])
        value.jitter = random.pick([0, 0, 0.005, 0.03])
        value.reorder = random.pick([0, 0, 25, 50])
        return PlacedImpairment(value, interfaceIndex: random.chance(0.9) ? KernelDifferentialTests.testInterface : 99)
    }

    /// One to three conversations between `local` (this host) and `remote`, interleaved.
    static func stream(_ random: inout CaseRandom, local: String? = nil, remote: String? = nil,
                       remotePort: Int? = nil) -> [Packet] {
        let ipv6 = local.map { $0.contains(":") } ?? random.chance(0.4)
        let me = local ?? (ipv6 ? "fd77::1:1" : "10.77.1.1")
        let peer = remote ?? random.pick(ipv6 ? ["fd77::2:2", "fd77::3:3"] : ["10.77.2.2", "10.77.3.3"])
        var conversations = (0..<random.int(1...3)).map { _ in
            conversation(&random, me: me, peer: peer, remotePort: remotePort.map { UInt16($0) } ?? random.pick(ports))
        }
        if random.chance(0.2) {
            conversations.append((0..<random.int(1...3)).map { _ in Sent(egress: random.chance(0.5), bytes: udp(me, peer, &random)) })
        }
        var merged: [Packet] = []
        var time: UInt64 = 0
        while conversations.contains(where: { !$0.isEmpty }) {
            let which = conversations.indices.filter { !conversations[$0].isEmpty }
            let index = random.pick(which)
            let sent = conversations[index].removeFirst()
            // Half a millisecond past a whole one: window edges (whole ms) never tie.
            time += UInt64(random.int(0...40)) * 1_000_000
            merged.append(Packet(egress: sent.egress, bytes: sent.bytes, nanoseconds: time + 500_000, gsoSize: sent.gsoSize,
                                 segments: sent.segments))
        }
        return merged
    }

    /// What each side sends, in order. This host's bulk data goes as GSO packets too.
    static func conversation(_ random: inout CaseRandom, me: String, peer: String, remotePort: UInt16) -> [Sent] {
        let localPort = UInt16(random.int(30000...60000))
        var out: [Sent] = []
        // Sequence state per side: true = this host.
        var next: [Bool: UInt32] = [true: UInt32(truncatingIfNeeded: random.next()), false: UInt32(truncatingIfNeeded: random.next())]
        func packet(_ mine: Bool, _ flags: TCPFlags, payload: Int, seq s: UInt32) -> [UInt8] {
            let ack = flags.contains(.ack) ? next[!mine]! : 0
            return mine
                ? TestPackets.tcp(from: me, to: peer, sourcePort: localPort, destinationPort: remotePort, flags: flags, seq: s, ack: ack, payload: payload)
                : TestPackets.tcp(from: peer, to: me, sourcePort: remotePort, destinationPort: localPort, flags: flags, seq: s, ack: ack, payload: payload)
        }
        func send(_ mine: Bool, _ flags: TCPFlags, payload: Int = 0, seq: UInt32? = nil) {
            out.append(Sent(egress: mine, bytes: packet(mine, flags, payload: payload, seq: seq ?? next[mine]!)))
        }
        /// Bulk data from `start`: from this host one GSO packet of its segments (cut as
        /// tcp_gso_segment cuts it: FIN and PSH on the last, the IPv4 id counting up), from
        /// the peer the segments as they arrive.
        func bulk(_ mine: Bool, from start: UInt32, size: Int, lengths: [Int], fin: Bool) {
            let last: TCPFlags = fin ? [.fin, .psh, .ack] : [.psh, .ack]
            var segments: [[UInt8]] = []
            var seq = start
            for (index, length) in lengths.enumerated() {
                var segment = packet(mine, index == lengths.count - 1 ? last : .ack, payload: length, seq: seq)
                if segment[0] >> 4 == 4 { (segment[4], segment[5]) = (UInt8(index >> 8), UInt8(index & 0xFF)) }
                segments.append(segment)
                seq &+= UInt32(length)
            }
            if mine {
                out.append(Sent(egress: true, bytes: packet(true, last, payload: lengths.reduce(0, +), seq: start), gsoSize: size,
                                segments: segments))
            } else {
                out += segments.map { Sent(egress: false, bytes: $0) }
            }
        }
        let initiator = random.chance(0.6)
        let isn = next[initiator]!, peerISN = next[!initiator]!
        for _ in 0..<random.int(1...3) { send(initiator, .syn, seq: isn) }
        next[initiator] = isn &+ 1
        if random.chance(0.1) {
            send(!initiator, [.rst, .ack])
            return out
        }
        for _ in 0..<random.int(1...2) { send(!initiator, [.syn, .ack], seq: peerISN) }
        next[!initiator] = peerISN &+ 1
        for _ in 0..<random.int(1...2) { send(initiator, .ack) }
        for _ in 0..<random.int(0...8) {
            let side = random.chance(0.5)
            switch random.int(0...6) {
            case 6:
                // A test run's packet must fit in a page (bpf_test_init): 3 000 payload bytes at most.
                let size = random.pick([100, 536, 1400]), count = random.int(2...min(6, 3000 / size))
                let lengths = (0..<count).map { $0 == count - 1 ? random.int(1...size) : size }
                let start = next[side]!, total = UInt32(lengths.reduce(0, +))
                let fin = random.chance(0.2)
                bulk(side, from: start, size: size, lengths: lengths, fin: fin)
                next[side] = start &+ total
                // Sometimes all of it again: a retransmission, segment by segment its identity's second.
                if random.chance(0.25) { bulk(side, from: start, size: size, lengths: lengths, fin: fin) }
                if fin {
                    next[side]! &+= 1
                    if random.chance(0.7) { send(!side, .ack) }
                    return out
                }
                if random.chance(0.7) { send(!side, .ack) }
            case 0, 1, 2:
                let length = random.pick([1, 100, 536, 1400])
                let start = next[side]!
                send(side, [.psh, .ack], payload: length)
                next[side] = start &+ UInt32(length)
                if random.chance(0.25) { send(side, [.psh, .ack], payload: length, seq: start) }
                if random.chance(0.7) { send(!side, .ack) }
            case 3:
                for _ in 0..<random.int(2...4) { send(side, .ack) }
            case 4:
                send(side, .ack)
            default:
                if random.chance(0.3) {
                    send(side, [.rst, .ack])
                    return out
                }
            }
        }
        let closer = random.chance(0.5)
        for _ in 0..<random.int(1...2) { send(closer, [.fin, .ack]) }
        next[closer]! &+= 1
        if random.chance(0.8) { for _ in 0..<random.int(1...2) { send(!closer, .ack) } }
        if random.chance(0.7) {
            send(!closer, [.fin, .ack])
            next[!closer]! &+= 1
            for _ in 0..<random.int(1...2) { send(closer, .ack) }
        }
        return out
    }

    static func udp(_ me: String, _ peer: String, _ random: inout CaseRandom) -> [UInt8] {
        if me.contains(":") || random.chance(0.3) {
            // ICMP echo (or, on IPv6, ICMPv6's number): ports 0.
            let src = IPAddressBytes.parse(me), dst = IPAddressBytes.parse(peer)
            let body: [UInt8] = [8, 0, 0, 0, 0, 1, 0, 1] + [UInt8](repeating: 7, count: 8)
            if src.count == 16 { return [0x60, 0, 0, 0] + TestPackets.be16(UInt16(body.count)) + [58, 64] + src + dst + body }
            return [0x45, 0] + TestPackets.be16(UInt16(20 + body.count)) + [0, 0, 0x40, 0, 64, 1, 0, 0] + src + dst + body
        }
        return TestPackets.udp(from: me, to: peer, payload: random.int(1...64))
    }

    static func ethernet(_ packet: [UInt8]) -> [UInt8] {
        let type: [UInt8] = packet.first.map { $0 >> 4 == 6 } == true ? [0x86, 0xDD] : [0x08, 0x00]
        return [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1] + type + packet
    }

    /// The transport checksum's bytes in an IP packet (TCP 16–17, UDP 6–7 past the IP header).
    static func checksumRange(_ packet: [UInt8]) -> Range<Int> {
        let ipv6 = packet[0] >> 4 == 6
        let offset = ipv6 ? 40 : Int(packet[0] & 0x0F) * 4
        let transport = ipv6 ? packet[6] : packet[9]
        let field = transport == 6 ? 16 : transport == 17 ? 6 : -100
        return field < 0 ? 0..<0 : (offset + field)..<(offset + field + 2)
    }
}
