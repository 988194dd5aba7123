import Foundation
import Glibc
import Netfault
import Testing
@testable import NetfaultKernel

/// The BPF capture (tc egress, one record per skb, GSO records cut into segments by
/// `GSOSegments`) on a real veth between two namespaces of the test's own, against a libpcap
/// capture (AF_PACKET, kernel timestamps: what tcpdump records) of the same frames.
@Suite(.serialized, .enabled(if: KT.canManageNetworks, KT.needsRoot))
struct BPFCaptureTests {
    typealias Pair = NfqueueKernelTests.Pair

    /// One frame as both captures can be compared: direction, length, and the headers from
    /// the network header through the TCP options with the TCP checksum left out (the BPF
    /// capture reads the packet before the kernel sums it).
    struct Frame: Hashable {
        let outgoing: Bool
        let length: Int
        let headers: [UInt8]
    }

    /// Frames of a cooked (LINUX_SLL2) capture on the test link only (not lo), with instants.
    static func frames(_ captured: CapturedFrames) -> [(frame: Frame, time: Int64)] {
        captured.records.indices.compactMap { index in
            let bytes = captured.bytes(index)
            guard bytes.count > 20, UInt16(bytes[bytes.startIndex + 8]) << 8 | UInt16(bytes[bytes.startIndex + 9]) != 772,
                  let headers = GSOSegments.comparableHeaders(bytes.dropFirst(20)) else { return nil }
            return (Frame(outgoing: bytes[bytes.startIndex + 10] == 4, length: captured.records[index].length, headers: headers),
                    captured.records[index].timestamp)
        }
    }

    /// A frame's TCP sequence number (IPv4: the TCP header at 20).
    static func sequence(_ frame: Frame) -> UInt32 {
        frame.headers[24...27].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    /// Pairs each of `ours` with the frame of `theirs` with the same headers nearest in time;
    /// returns ours − theirs for each pair, and the frames left unpaired on either side.
    static func match(_ ours: [(frame: Frame, time: Int64)], _ theirs: [(frame: Frame, time: Int64)])
        -> (differences: [Int64], oursUnmatched: Int, theirsUnmatched: Int) {
        var pool: [Frame: [Int64]] = [:]
        for entry in theirs { pool[entry.frame, default: []].append(entry.time) }
        var differences: [Int64] = [], unmatched = 0
        for entry in ours {
            guard let times = pool[entry.frame], let nearest = times.indices.min(by: { abs(times[$0] - entry.time) < abs(times[$1] - entry.time) })
            else { unmatched += 1; continue }
            differences.append(entry.time - times[nearest])
            pool[entry.frame]!.remove(at: nearest)
        }
        return (differences, unmatched, pool.values.reduce(0) { $0 + $1.count })
    }

    /// The two hosts' frames as the runner makes them: GSO records cut, each departure also
    /// the peer's arrival (client nfqc index 5, server nfqs index 6).
    static func hostFrames(client: BPFCapture.Recorded, server: BPFCapture.Recorded) -> (client: CapturedFrames, server: CapturedFrames) {
        let peers: [PeerFrames.End: PeerFrames.End] = [
            .init(host: "client", interfaceIndex: 5): .init(host: "server", interfaceIndex: 6),
            .init(host: "server", interfaceIndex: 6): .init(host: "client", interfaceIndex: 5),
        ]
        let captures = PeerFrames.hostCaptures(["client": GSOSegments.expand(client), "server": GSOSegments.expand(server)],
                                               peers: peers, hosts: ["client", "server"])
        return (captures[0].frames, captures[1].frames)
    }

    /// A bulk transfer (4 MB in 64 KiB writes) over a veth with offloads off, so TCP hands
    /// tc egress GSO packets that software GSO cuts after it. Every segment libpcap sees on
    /// either side, the BPF capture has, with the same headers (after `GSOSegments` cut its
    /// records), and nothing more; records are far fewer than segments (GSO at work);
    /// instants are within the bounds below of libpcap's; nothing is lost; the program sits
    /// at egress pref 512 and nothing at ingress; the two captures share one departures'
    /// program, and each gets its own host's departures, found in the program's direct-mapped
    /// filter or (`overflow`) its hash for hosts whose indexes are taken; closing leaves no
    /// program, map or clsact.
    @Test(arguments: [false, true]) func recordsEverySegmentAfterGSOAsLibpcapDoes(overflow: Bool) throws {
        let bytes = 4_000_000
        var own: (programs: Set<UInt32>, maps: Set<UInt32>) = ([], [])
        try KT.leavesNoTrace {
            let pair = try Pair(overflow ? "bpfcap-o" : "bpfcap")
            try LinkOffloads.disable(links: ["nfqc"], in: pair.client)
            try LinkOffloads.disable(links: ["nfqs"], in: pair.server)
            let offset = CaptureClock.realtimeMinusMonotonic()
            let pcapClient = try PacketCapture(namespace: pair.client, bufferBytes: 32 << 20)
            let pcapServer = try PacketCapture(namespace: pair.server, bufferBytes: 32 << 20)
            // One departures' recorder for both hosts, as the runner makes it.
            let departures = try DepartureRecorder(realtimeOffset: offset, everyHostInOverflow: overflow)
            let bpfClient = try BPFCapture(namespace: pair.client, realtimeOffset: offset, departures: departures)
            let bpfServer = try BPFCapture(namespace: pair.server, realtimeOffset: offset, departures: departures)
            own = (bpfClient.ids.programs.union(bpfServer.ids.programs), bpfClient.ids.maps.union(bpfServer.ids.maps))
            // Each capture its tc program; one departures' tracepoint program for both.
            #expect(own.programs.count == 3 && own.programs.isSubset(of: TCFaultEngine.loadedIDs().programs), "\(own)")
            try bpfClient.attach(interfaceIndex: 5, name: "nfqc")
            try bpfServer.attach(interfaceIndex: 6, name: "nfqs")
            let pin = overflow ? "nfkt-bpfcap-o-s" : "nfkt-bpfcap-s"
            try pair.server.pin(as: pin)
            let egress = KT.tc("-n", pin, "filter", "show", "dev", "nfqs", "egress")
            #expect(egress.contains("pref 512 bpf") && egress.contains("capture_egress"), "the program at egress pref 512: \(egress)")
            #expect(!KT.tc("-n", pin, "filter", "show", "dev", "nfqs", "ingress").contains("bpf"), "nothing at ingress")
            for capture in [pcapClient, pcapServer] { capture.start() }
            for capture in [bpfClient, bpfServer] { capture.start() }
            // The programs' own time over the transfer (the kernel's run-time accounting), for the record.
            var processes: [ChildProcess] = []
            defer { for process in processes { process.terminate() } }
            try BPFObject.withRunTimeStats {
                let server = try pair.peer(["listen", "\(Pair.server4)", "5002", "accept", "read-eof", "close"], on: pair.server)
                processes.append(server)
                MonotonicClock.sleep(seconds: 0.1)
                let client = try pair.peer(["connect", "\(Pair.server4)", "5002", "write", "\(bytes)", "\(bytes / 65536)", "0", "close"],
                                           on: pair.client)
                processes.append(client)
                #expect(KT.eventually(seconds: 20) { !server.isRunning && !client.isRunning }, "the transfer ended")
                MonotonicClock.sleep(seconds: 0.1)  // the last ACK
            }
            for (label, stats) in [("client", bpfClient.programStats), ("server", bpfServer.programStats),
                                   ("both hosts", departures.programStats)] {
                for stat in stats {
                    print("bpf capture, \(label): \(stat.program) ran \(stat.runs) times, "
                          + "\(stat.runs > 0 ? stat.nanoseconds / stat.runs : 0) ns a run")
                }
            }
            let departureRuns = departures.programStats.first { $0.program == "capture_departure" }?.runs ?? 0
            let recordedC = try bpfClient.stop(), recordedS = try bpfServer.stop()
            let (pcapC, droppedC) = try pcapClient.stop(), (pcapS, droppedS) = try pcapServer.stop()
            #expect(recordedC.lost == 0 && recordedS.lost == 0 && droppedC == 0 && droppedS == 0)
            #expect(recordedC.departuresUnavailable == nil && recordedS.departuresUnavailable == nil,
                    "\(recordedC.departuresUnavailable ?? recordedS.departuresUnavailable ?? "")")
            #expect(recordedC.departuresLost == 0 && recordedS.departuresLost == 0)
            #expect(bpfClient.close().isEmpty && bpfServer.close().isEmpty)
            departures.close()
            // One run per transmit of the machine, however many hosts: at least one per
            // departure recorded (each is a run), and not one per host (2×) or more.
            let recordedDepartures = recordedC.departures.count + recordedS.departures.count
            print("bpf capture: \(departureRuns) runs of the departures' program for \(recordedDepartures) departures")
            #expect(departureRuns >= UInt64(recordedDepartures) && departureRuns < UInt64(2 * recordedDepartures),
                    "\(departureRuns) runs for \(recordedDepartures) departures")
            // Each host's departures are its own interface's (client nfqc 5, server nfqs 6).
            #expect(recordedC.departures.allSatisfy { $0.interfaceIndex == 5 } && recordedS.departures.allSatisfy { $0.interfaceIndex == 6 })
            #expect(!KT.tc("-n", pin, "qdisc", "show", "dev", "nfqs").contains("clsact"), "clsact removed")

            // Every segment has its own departure, and every departure its segment.
            for (label, recorded) in [("client", recordedC), ("server", recordedS)] {
                let expansion = GSOSegments.expansion(recorded)
                print("bpf capture, \(label): \(expansion.departed) segments at their departure, \(expansion.atPacketInstant) at their "
                      + "packet's instant, \(expansion.departuresUnmatched) departures unmatched")
                #expect(expansion.departed > 0 && expansion.atPacketInstant == 0 && expansion.departuresUnmatched == 0,
                        "\(label): \(expansion.atPacketInstant) segments without a departure, \(expansion.departuresUnmatched) departures without a segment")
            }
            let hosts = Self.hostFrames(client: recordedC, server: recordedS)
            let ours = (client: Self.frames(hosts.client), server: Self.frames(hosts.server))
            let theirs = (client: Self.frames(pcapC), server: Self.frames(pcapS))
            let dataSegments = theirs.client.filter { $0.frame.outgoing && $0.frame.length > 20 + 100 }.count
            let gsoRecords = recordedC.gso.filter { $0.size > 0 && $0.segments > 1 }.count
            print("bpf capture: \(recordedC.frames.count) client records (\(gsoRecords) GSO) for \(dataSegments) data segments libpcap saw")
            #expect(dataSegments >= bytes / 1448, "libpcap saw the data cut into segments: \(dataSegments)")
            #expect(gsoRecords > 0 && recordedC.frames.count * 2 < theirs.client.filter { $0.frame.outgoing }.count,
                    "GSO packets recorded once each")
            // Each frame against libpcap's copy, by where libpcap stamped it: a departure
            // (outgoing, this end's tap) or an arrival (the peer's departure seen at this end).
            var outgoing: [Int64] = [], incoming: [Int64] = []
            for (label, mine, libpcap) in [("client", ours.client, theirs.client), ("server", ours.server, theirs.server)] {
                let matched = Self.match(mine, libpcap)
                #expect(matched.oursUnmatched == 0, "\(label): \(matched.oursUnmatched) of \(mine.count) BPF frames not in libpcap's")
                #expect(matched.theirsUnmatched == 0, "\(label): \(matched.theirsUnmatched) of \(libpcap.count) libpcap frames missing")
                outgoing += Self.match(mine.filter { $0.frame.outgoing }, libpcap.filter { $0.frame.outgoing }).differences
                incoming += Self.match(mine.filter { !$0.frame.outgoing }, libpcap.filter { !$0.frame.outgoing }).differences
            }
            // The same frames at their packet's instant (what the capture had before the
            // departures), for the record.
            let bare = Self.hostFrames(client: .init(frames: recordedC.frames, gso: recordedC.gso, lost: 0),
                                       server: .init(frames: recordedS.frames, gso: recordedS.gso, lost: 0))
            let packetInstants = (Self.match(Self.frames(bare.client), theirs.client).differences
                + Self.match(Self.frames(bare.server), theirs.server).differences).sorted()
            func quantile(_ values: [Int64], _ q: Double) -> Int64 { values.isEmpty ? 0 : values[Int(Double(values.count - 1) * q)] }
            func summary(_ values: [Int64]) -> String {
                "min \(quantile(values, 0)), median \(quantile(values, 0.5)), p99 \(quantile(values, 0.99)), max \(quantile(values, 1))"
            }
            outgoing.sort()
            incoming.sort()
            print("bpf − libpcap (ns), \(outgoing.count) departures: \(summary(outgoing))")
            print("bpf − libpcap (ns), \(incoming.count) arrivals: \(summary(incoming))")
            print("bpf − libpcap (ns) at the packets' instants instead: \(summary(packetInstants))")
            // A departure is stamped by tp_btf/net_dev_start_xmit, which xmit_one fires right
            // after dev_queue_xmit_nit has cloned the segment for libpcap's socket (libpcap's
            // stamp) and copied it into its ring: so BPF − libpcap ≥ 0 but for the reading of
            // the clocks' offset (≪ 1 µs; −2 µs allowed), and above it the tap's own work
            // (measured on this 2-CPU machine under load, 4 runs: min 0.6–0.7 µs, median
            // 0.8–1.1 µs, p99 1.7–2.8 µs), which an interrupt or a preempted vCPU between the
            // two stretches for a few segments (max 25–34 µs). Bounds: the median within the
            // issue's 10 µs, p99 within 25 µs (≈ 10× what was seen: a loaded machine passes, a
            // segment at its packet's instant, −50 µs and more, does not), any one ≤ 2 ms.
            // An arrival is the peer's departure (PeerFrames): the veth hands the segment to
            // the peer's backlog right after the tracepoint, and libpcap stamps it when the
            // receiver's softirq takes it from there, after the rest of the packet's segments
            // (measured: max −0.5 to −1.2 µs, median −67 to −130 µs, min −0.24 to −0.49 ms). So
            // BPF − libpcap ≤ 2 µs (the clocks), and ≥ −2 ms for any one, as before departures.
            // Under QEMU's emulation (scripts/in-vm without KVM) everything runs ~20× slower:
            // so do the bounds' widths (Debian's 5.10 there: departures median 3.7 µs, p99 42 µs,
            // max 8.5 ms; arrivals max −0.9 µs, min −5 ms: 5.10 stamps received frames at netif_rx).
            let slowdown: Int64 = MachineInfo.hypervisorSignature == "TCGTCGTCGTCG" ? 20 : 1
            #expect(quantile(outgoing, 0) >= -2_000, "a departure before libpcap's stamp: \(quantile(outgoing, 0)) ns")
            #expect(quantile(outgoing, 0.5) <= 10_000 * slowdown, "departures' median \(quantile(outgoing, 0.5)) ns")
            #expect(quantile(outgoing, 0.99) <= 25_000 * slowdown, "departures' p99 \(quantile(outgoing, 0.99)) ns")
            #expect(quantile(outgoing, 1) <= 2_000_000 * slowdown, "departures' max \(quantile(outgoing, 1)) ns")
            #expect(quantile(incoming, 1) <= 2_000, "an arrival after libpcap's stamp: \(quantile(incoming, 1)) ns")
            #expect(quantile(incoming, 0) >= -2_000_000 * slowdown, "arrivals' min \(quantile(incoming, 0)) ns")
        }
        #expect(KT.eventually(seconds: 3) {
            let after = TCFaultEngine.loadedIDs()
            return after.programs.isDisjoint(with: own.programs) && after.maps.isDisjoint(with: own.maps)
        }, "BPF programs or maps left behind")
    }

    /// With the fault engine on the same interface, attached before or after the capture:
    /// the engine (pref 256) drops the first SYN-ACK at the server's egress with
    /// TC_ACT_STOLEN. The capture behind it (pref 512) never sees it (it was never on the
    /// wire): the first SYN-ACK it records is a timer's, ≥ 1 s after the SYN; closing in either order leaves no
    /// filter, clsact, program or map behind.
    @Test(arguments: [false, true]) func aSegmentTheFaultEngineDropsIsNotSeen(engineFirst: Bool) throws {
        var own: (programs: Set<UInt32>, maps: Set<UInt32>) = ([], [])
        try KT.leavesNoTrace {
            let pair = try Pair(engineFirst ? "bpfcap-e" : "bpfcap-c")
            let listener = try pair.listen(Pair.server4)
            defer { Sys.close(listener) }
            let offset = CaptureClock.realtimeMinusMonotonic()
            let engine = try TCFaultEngine(rules: [KernelFaultRule(kind: .synAck, occurrence: .nth(1), action: .drop)],
                                           impairments: [], seed: 7, t0: pair.t0, skipMark: NfqueueKernelTests.skipMark)
            let bpfClient = try BPFCapture(namespace: pair.client, realtimeOffset: offset)
            let bpfServer = try BPFCapture(namespace: pair.server, realtimeOffset: offset)
            own = (bpfClient.ids.programs.union(bpfServer.ids.programs).union(engine.ids.programs),
                   bpfClient.ids.maps.union(bpfServer.ids.maps).union(engine.ids.maps))
            if engineFirst { try engine.attach(interfaceIndex: 6, name: "nfqs", in: pair.server) }
            try bpfClient.attach(interfaceIndex: 5, name: "nfqc")
            try bpfServer.attach(interfaceIndex: 6, name: "nfqs")
            if !engineFirst { try engine.attach(interfaceIndex: 6, name: "nfqs", in: pair.server) }
            let pin = "nfkt-bpfcap-\(engineFirst ? "e" : "c")-s"
            try pair.server.pin(as: pin)
            let egress = KT.tc("-n", pin, "filter", "show", "dev", "nfqs", "egress")
            #expect(egress.contains("pref 256 bpf") && egress.contains("pref 512 bpf"), "engine then capture: \(egress)")
            bpfClient.start()
            bpfServer.start()
            let client = try pair.peer(["connect", "\(Pair.server4)", "\(NfqueueKernelTests.port)", "close"], on: pair.client)
            defer { client.terminate() }
            #expect(KT.eventually(seconds: 8) { NfqueueKernelTests.connected(client) != nil }, "\(client.standardOutput)")
            MonotonicClock.sleep(seconds: 0.1)
            let recordedC = try bpfClient.stop(), recordedS = try bpfServer.stop()
            let decisions = try engine.poll(timeoutMilliseconds: 100)
            // Either order: the one that created clsact removes it with the other's filter.
            let errors = engineFirst ? bpfServer.close() + engine.close() : engine.close() + bpfServer.close()
            #expect(errors.isEmpty && bpfClient.close().isEmpty, "\(errors)")
            let left = KT.tc("-n", pin, "qdisc", "show", "dev", "nfqs")
            #expect(!left.contains("clsact"), "clsact removed: \(left)")
            #expect(decisions.filter { $0.action == .drop }.count == 1, "\(decisions)")
            // Flags of each departure: byte 13 of the TCP header after a 20-byte IPv4 header.
            let serverOut = Self.frames(GSOSegments.expand(recordedS)), clientOut = Self.frames(GSOSegments.expand(recordedC))
            let synAcks = serverOut.filter { $0.frame.headers[20 + 13] == 0x12 }
            let syns = clientOut.filter { $0.frame.headers[20 + 13] == 0x02 }
            #expect(!synAcks.isEmpty, "a SYN-ACK left the server: \(serverOut.map { $0.frame.headers[33] })")
            // The SYN-ACK that left is a retransmission or the answer to a retransmitted SYN: a
            // timer's, so ≥ 1 s after the first SYN (timers fire late, never early; 0.9 s for
            // the instants' own slack); the dropped one left within a millisecond.
            if let syn = syns.first, let synAck = synAcks.first {
                #expect(synAck.time - syn.time >= 900_000_000, "SYN-ACK \(synAck.time - syn.time) ns after the SYN")
            } else {
                Issue.record("no SYN or no SYN-ACK recorded")
            }
        }
        #expect(KT.eventually(seconds: 3) {
            let after = TCFaultEngine.loadedIDs()
            return after.programs.isDisjoint(with: own.programs) && after.maps.isDisjoint(with: own.maps)
        }, "BPF programs or maps left behind")
    }

    /// The departures' filter by namespace, without tc: with the client's host registered
    /// and then removed (its capture closed), a connection's departures are all the
    /// server's, in the server's slot; none in the client's. Both ways the program can find
    /// a host: the direct-mapped array, and the overflow hash (`overflow`), whose entry and
    /// the array's flag removing the client must leave right for the server.
    @Test(arguments: [false, true]) func aRemovedHostsDeparturesAreNotRecorded(overflow: Bool) throws {
        var own: (programs: Set<UInt32>, maps: Set<UInt32>) = ([], [])
        try KT.leavesNoTrace {
            let pair = try Pair(overflow ? "bpfdep-o" : "bpfdep")
            let listener = try pair.listen(Pair.server4)
            defer { Sys.close(listener) }
            let recorder = try DepartureRecorder(realtimeOffset: CaptureClock.realtimeMinusMonotonic(), everyHostInOverflow: overflow)
            own = recorder.ids
            let client = try recorder.register(namespace: pair.client), server = try recorder.register(namespace: pair.server)
            let again = try recorder.register(namespace: pair.server)
            #expect(client != server && again == server, "one slot per namespace")
            try recorder.add(interfaceIndex: 5, name: "nfqc", slot: client)
            try recorder.add(interfaceIndex: 6, name: "nfqs", slot: server)
            #expect(recorder.unavailable == nil, "\(recorder.unavailable ?? "")")
            recorder.start()
            recorder.remove(slot: client)
            let peer = try pair.peer(["connect", "\(Pair.server4)", "\(NfqueueKernelTests.port)", "close"], on: pair.client)
            defer { peer.terminate() }
            #expect(KT.eventually(seconds: 8) { NfqueueKernelTests.connected(peer) != nil }, "\(peer.standardOutput)")
            MonotonicClock.sleep(seconds: 0.1)
            try recorder.stop()
            let servers = recorder.departures(slot: server), clients = recorder.departures(slot: client)
            // The server's SYN-ACK at least, and every one of them from its interface.
            #expect(!servers.isEmpty && servers.allSatisfy { $0.interfaceIndex == 6 }, "\(servers)")
            #expect(clients.isEmpty, "a removed host's departures: \(clients)")
            #expect(recorder.lost == 0)
            recorder.close()
        }
        #expect(KT.eventually(seconds: 3) {
            let after = TCFaultEngine.loadedIDs()
            return after.programs.isDisjoint(with: own.programs) && after.maps.isDisjoint(with: own.maps)
        }, "BPF programs or maps left behind")
    }
}
