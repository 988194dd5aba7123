import Testing
@testable import Netfault

/// The verdict engine is a pure state machine: packets and time in, verdicts out.
@Suite struct VerdictEngineTests {
    typealias P = TestPackets
    static let eth0: UInt32 = 2

    func engine(_ faults: [PlacedFault], impairments: [PlacedImpairment] = []) -> VerdictEngine {
        VerdictEngine(host: "client", faults: faults, impairments: impairments, seed: 7)
    }

    /// Feeds one egress packet and returns what the engine did with it.
    func feed(_ engine: inout VerdictEngine, id: UInt32, _ bytes: [UInt8], at time: Double = 0, egress: Bool = true,
              interface: UInt32? = eth0) -> [VerdictAction] {
        var actions: [VerdictAction] = []
        engine.handle(EnginePacket(id: id, egress: egress, interfaceIndex: interface, bytes: bytes), at: time, into: &actions)
        return actions
    }

    @Test func dropsOnlyTheSecondSynOfEachFlow() {
        var e = engine([PlacedFault(name: "f", action: .drop, kind: .syn, occurrence: .nth(2))])
        let syn = P.tcp(flags: .syn)
        #expect(feed(&e, id: 1, syn) == [.accept(1)])
        #expect(feed(&e, id: 2, syn) == [.drop(2)])
        #expect(feed(&e, id: 3, syn) == [.accept(3)])
        // Another flow counts from 1 again.
        let other = P.tcp(sourcePort: 40001, flags: .syn)
        #expect(feed(&e, id: 4, other) == [.accept(4)])
        #expect(feed(&e, id: 5, other) == [.drop(5)])
        #expect(e.decisions.map(\.action) == ["dropped", "dropped"])
        #expect(e.decisions.first?.flags == "S")
        #expect(e.decisions.first?.source == "10.77.1.1:40000")
    }

    @Test(arguments: [
        (Occurrence.first(2), [true, true, false, false, false, false]),
        (Occurrence.everyNth(3), [false, false, true, false, false, true]),
        (Occurrence.afterNth(4), [false, false, false, false, true, true]),
        (Occurrence.all, [true, true, true, true, true, true]),
    ])
    func occurrences(_ occurrence: Occurrence, _ dropped: [Bool]) {
        var e = engine([PlacedFault(name: "f", action: .drop, kind: .data, occurrence: occurrence)])
        let verdicts = (1...6).map { id in feed(&e, id: UInt32(id), P.tcp(flags: [.ack, .psh], payload: 10)) }
        #expect(verdicts.map { $0.first.map { if case .drop = $0 { true } else { false } } ?? false } == dropped)
    }

    @Test func segmentKindsAreToldApart() {
        let packets: [(SegmentKind, [UInt8])] = [
            (.syn, P.tcp(flags: .syn)),
            (.synAck, P.tcp(flags: [.syn, .ack])),
            (.pureAck, P.tcp(flags: .ack)),
            (.data, P.tcp(flags: [.ack, .psh], payload: 100)),
            (.fin, P.tcp(flags: [.fin, .ack])),
            (.rst, P.tcp(flags: .rst)),
        ]
        for (kind, _) in packets {
            var e = engine([PlacedFault(name: "f", action: .drop, kind: kind)])
            let dropped = packets.enumerated().filter { index, packet in
                feed(&e, id: UInt32(index), packet.1) == [.drop(UInt32(index))]
            }.map { $0.element.0 }
            #expect(dropped == [kind], "fault on \(kind) dropped \(dropped)")
        }
    }

    @Test func handshakeAckIsTheConnectingSidesAckOfTheSynAckAndItsRepeats() {
        var e = engine([PlacedFault(name: "f", action: .drop, kind: .handshakeAck)])
        #expect(feed(&e, id: 1, P.tcp(flags: .syn, seq: 1000)) == [.accept(1)])
        #expect(feed(&e, id: 2, P.tcp(flags: .ack, seq: 1001, ack: 5001)) == [.drop(2)])
        // Sent again for a retransmitted SYN-ACK: the same ACK.
        #expect(feed(&e, id: 3, P.tcp(flags: .ack, seq: 1001, ack: 5001)) == [.drop(3)])
        // Data carries the ACK on and is not a handshake ACK; nor is anything after it.
        #expect(feed(&e, id: 4, P.tcp(flags: [.ack, .psh], seq: 1001, ack: 5001, payload: 5)) == [.accept(4)])
        #expect(feed(&e, id: 5, P.tcp(flags: .ack, seq: 1006, ack: 5001)) == [.accept(5)])
        // The server's direction never opened with a SYN: its pure ACKs are not handshake ACKs.
        #expect(feed(&e, id: 6, P.tcp(from: P.server, to: P.client, sourcePort: 8080, destinationPort: 40000,
                                      flags: .ack, seq: 5001, ack: 1006)) == [.accept(6)])
    }

    @Test func finAckNeedsTheOtherSidesFinSeenOnTheWayIn() {
        var e = engine([PlacedFault(name: "f", action: .drop, kind: .finAck)])
        let ackOfFin = P.tcp(flags: .ack, seq: 1000, ack: 5011)
        #expect(feed(&e, id: 1, ackOfFin) == [.accept(1)], "no FIN seen yet")
        let fin = P.tcp(from: P.server, to: P.client, sourcePort: 8080, destinationPort: 40000, flags: [.fin, .ack],
                        seq: 5000, ack: 1000, payload: 10)
        #expect(feed(&e, id: 2, fin, egress: false) == [.accept(2)], "packets on the way in are only observed")
        #expect(feed(&e, id: 3, ackOfFin) == [.drop(3)])
        #expect(feed(&e, id: 4, P.tcp(flags: .ack, seq: 1000, ack: 5010)) == [.accept(4)], "acks the data, not the FIN")
    }

    @Test func delayHoldsUntilTheTimeAndOthersOvertake() {
        var e = engine([PlacedFault(name: "f", action: .delay(0.3), kind: .fin)])
        #expect(feed(&e, id: 1, P.tcp(flags: [.fin, .ack]), at: 1.0) == [])
        #expect(e.isHolding && e.nextDeadline == 1.3)
        #expect(feed(&e, id: 2, P.tcp(flags: .ack), at: 1.1) == [.accept(2)])
        var actions: [VerdictAction] = []
        e.advance(to: 1.29, into: &actions)
        #expect(actions.isEmpty, "never early")
        e.advance(to: 1.3, into: &actions)
        #expect(actions == [.accept(1)])
        #expect(!e.isHolding)
        #expect(e.decisions.map(\.action) == ["delayed 300 ms"])
    }

    @Test func duplicateAcceptsAndSendsACopyOfTheWholePacket() {
        var e = engine([PlacedFault(name: "f", action: .duplicate, kind: .syn)])
        let syn = P.tcp(flags: .syn)
        #expect(feed(&e, id: 1, syn) == [.accept(1), .inject(syn)])
        // A copy cut at the copy range cannot be sent again: accepted, and the record says why.
        var cut = engine([PlacedFault(name: "f", action: .duplicate, kind: .data)])
        var actions: [VerdictAction] = []
        cut.handle(EnginePacket(id: 2, egress: true, interfaceIndex: Self.eth0, bytes: Array(P.tcp(flags: .ack, payload: 200).prefix(128)), length: 240),
                   at: 0, into: &actions)
        #expect(actions == [.accept(2)])
        #expect(cut.decisions.first?.action.hasPrefix("not duplicated") == true)
    }

    @Test func reorderReleasesAfterKLaterSegmentsOfTheSameFlow() {
        var e = engine([PlacedFault(name: "f", action: .reorder(releaseAfter: 2, maxHold: 1), kind: .data, occurrence: .nth(1))])
        let data = { (seq: UInt32) in P.tcp(flags: [.ack, .psh], seq: seq, payload: 10) }
        #expect(feed(&e, id: 1, data(1)) == [])
        #expect(feed(&e, id: 2, data(11)) == [.accept(2)])
        // Another flow does not count.
        #expect(feed(&e, id: 3, P.tcp(sourcePort: 1, flags: .ack)) == [.accept(3)])
        #expect(feed(&e, id: 4, data(21)) == [.accept(4), .accept(1)])
        #expect(!e.isHolding)
    }

    @Test func reorderGivesUpWaitingAfterMaxHold() {
        var e = engine([PlacedFault(name: "f", action: .reorder(releaseAfter: 3, maxHold: 0.5), kind: .data)])
        #expect(feed(&e, id: 1, P.tcp(flags: .ack, payload: 1), at: 2) == [])
        var actions: [VerdictAction] = []
        e.advance(to: 2.5, into: &actions)
        #expect(actions == [.accept(1)])
    }

    @Test func placeWindowPortAndDestinationsLimitAFault() {
        let fault = PlacedFault(name: "f", action: .drop, kind: .any, port: 8080, window: 1..<2, interfaceIndex: Self.eth0)
        var e = engine([fault])
        #expect(feed(&e, id: 1, P.tcp(flags: .ack), at: 0.5) == [.accept(1)], "before the window")
        #expect(feed(&e, id: 2, P.tcp(flags: .ack), at: 1.5) == [.drop(2)])
        #expect(feed(&e, id: 3, P.tcp(flags: .ack), at: 1.5, interface: 3) == [.accept(3)], "another link")
        #expect(feed(&e, id: 4, P.tcp(destinationPort: 9090, flags: .ack), at: 1.5) == [.accept(4)], "another port")
        #expect(feed(&e, id: 5, P.tcp(flags: .ack), at: 2) == [.accept(5)], "the window's end is open")

        let partition = PlacedFault(name: "p", action: .drop, kind: nil,
                                    destinations: [PacketAddress(IPAddressBytes.parse(P.server))])
        var p = engine([partition])
        #expect(feed(&p, id: 1, P.udp()) == [.drop(1)], "a partition drops every packet, not only TCP")
        #expect(feed(&p, id: 2, P.tcp(to: "10.77.1.9", flags: .ack)) == [.accept(2)])
    }

    @Test func firstSelectingFaultActsButEveryCoveringFaultCounts() {
        var e = engine([
            PlacedFault(name: "drop first", action: .drop, kind: .syn, occurrence: .nth(1)),
            PlacedFault(name: "delay second", action: .delay(1), kind: .syn, occurrence: .nth(2)),
        ])
        #expect(feed(&e, id: 1, P.tcp(flags: .syn)) == [.drop(1)])
        #expect(feed(&e, id: 2, P.tcp(flags: .syn)) == [])
        #expect(e.decisions.map(\.fault) == ["drop first", "delay second"])
    }

    @Test func ipv6SegmentsAreParsedAndMatched() {
        var e = engine([PlacedFault(name: "f", action: .drop, kind: .synAck)])
        let synAck = P.tcp(from: "fd77:1::2", to: "fd77:1::1", flags: [.syn, .ack])
        #expect(feed(&e, id: 1, synAck) == [.drop(1)])
        #expect(e.decisions.first?.source == "[fd77:1::2]:40000")
    }

    @Test func unparsablePacketsAreAcceptedUntouched() {
        var e = engine([PlacedFault(name: "f", action: .drop, kind: nil)])
        #expect(feed(&e, id: 1, [0x45, 0, 0]) == [.accept(1)])
        #expect(feed(&e, id: 2, []) == [.accept(2)])
    }

    // MARK: - Impairments

    func impairment(_ configure: (inout Impairment) -> Void) -> PlacedImpairment {
        var value = Impairment(from: "client", to: "server")
        configure(&value)
        return PlacedImpairment(value, interfaceIndex: Self.eth0)
    }

    @Test func lossRateFollowsTheProbabilityWithAFixedSeed() {
        var e = engine([], impairments: [impairment { $0.loss = 20 }])
        let drops = (1...10_000).filter { id in
            feed(&e, id: UInt32(id), P.tcp(flags: .ack)) == [.drop(UInt32(id))]
        }.count
        // 20 % of 10,000 with a binomial spread of ±40 (1 σ); ±200 is 5 σ.
        #expect((1800...2200).contains(drops))
        var again = engine([], impairments: [impairment { $0.loss = 20 }])
        let repeated = (1...10_000).filter { id in feed(&again, id: UInt32(id), P.tcp(flags: .ack)) == [.drop(UInt32(id))] }.count
        #expect(repeated == drops, "same seed, same losses")
    }

    @Test func zeroImpairmentAcceptsAtOnceAndRecordsNothing() {
        var e = engine([], impairments: [impairment { _ in }])
        for id in 1...100 { #expect(feed(&e, id: UInt32(id), P.tcp(flags: .ack, payload: 1000)) == [.accept(UInt32(id))]) }
        #expect(e.decisions.isEmpty && !e.isHolding)
    }

    @Test func delayWithJitterStaysWithinItsBounds() {
        var e = engine([], impairments: [impairment { $0.delay = 0.02; $0.jitter = 0.005 }])
        for id in 1...200 { _ = feed(&e, id: UInt32(id), P.tcp(flags: .ack), at: 0) }
        var released: [VerdictAction] = []
        e.advance(to: 0.0149, into: &released)
        #expect(released.isEmpty)
        e.advance(to: 0.025, into: &released)
        #expect(released.count == 200)
    }

    @Test func rateSpacesPacketsByTheirSerializationTime() {
        // 1,000,000 bit/s = 125,000 bytes/s: a 1,250-byte packet takes 10 ms.
        var e = engine([], impairments: [impairment { $0.rate = 1_000_000 }])
        let packet = P.tcp(flags: .ack, payload: 1250 - 40)
        _ = feed(&e, id: 1, packet, at: 0)
        _ = feed(&e, id: 2, packet, at: 0)
        var actions: [VerdictAction] = []
        e.advance(to: 0.0101, into: &actions)
        #expect(actions == [.accept(1)])
        e.advance(to: 0.0201, into: &actions)
        #expect(actions == [.accept(1), .accept(2)])
    }

    @Test func corruptionFlipsOneBitPastTheIPHeader() {
        var e = engine([], impairments: [impairment { $0.corrupt = 100 }])
        let packet = P.tcp(flags: .ack, payload: 100)
        let actions = feed(&e, id: 1, packet)
        guard case .acceptReplacing(1, let changed) = actions.first else {
            Issue.record("expected a replaced packet, got \(actions)")
            return
        }
        let differences = zip(packet, changed).enumerated().filter { $0.element.0 != $0.element.1 }
        #expect(differences.count == 1)
        #expect((differences.first?.offset ?? 0) >= 20)
        #expect(differences.first.map { ($0.element.0 ^ $0.element.1).nonzeroBitCount } == 1)
    }

    @Test func duplicationSendsACopyAfterTheOriginal() {
        var e = engine([], impairments: [impairment { $0.duplicate = 100 }])
        let packet = P.tcp(flags: .ack)
        #expect(feed(&e, id: 1, packet) == [.accept(1), .inject(packet)])
    }

    @Test func segmentFaultsComeBeforeImpairmentsOnTheSameLink() {
        var e = engine([PlacedFault(name: "f", action: .drop, kind: .syn)], impairments: [impairment { $0.delay = 1 }])
        #expect(feed(&e, id: 1, P.tcp(flags: .syn)) == [.drop(1)])
        #expect(feed(&e, id: 2, P.tcp(flags: .ack)) == [])
        #expect(e.nextDeadline == 1)
    }

    @Test func batchVerdictsOnlyWhereTheyKeepTheOrder() {
        #expect(VerdictAction.highestBatchableAccept(in: [.accept(1), .drop(2), .accept(3)]) == 3)
        #expect(VerdictAction.highestBatchableAccept(in: [.accept(2), .accept(3), .accept(1)]) == nil, "a released packet goes last")
        #expect(VerdictAction.highestBatchableAccept(in: [.accept(1), .inject([1])]) == nil)
        #expect(VerdictAction.highestBatchableAccept(in: [.acceptReplacing(1, [])]) == nil)
        #expect(VerdictAction.highestBatchableAccept(in: [.drop(1)]) == nil)
    }
}
