import Foundation
import Glibc
import Testing
@testable import NetfaultKernel

/// The tc fault engine on a real veth between two namespaces of the test's own.
@Suite(.serialized, .enabled(if: KT.canManageNetworks, KT.needsRoot))
struct TCFaultEngineTests {
    typealias Pair = NfqueueKernelTests.Pair

    @Test func mapLayoutsMatchTheProgram() {
        #expect(KernelFaultRule(kind: .syn, action: .drop).encoded.count == TCFaultEngine.ruleSize)
        #expect(KernelImpairment(interfaceIndex: 1).encoded.count == TCFaultEngine.impairmentSize)
        // The rule's fields at bpf/fault_engine.h's offsets.
        let rule = KernelFaultRule(kind: .finAck, occurrence: .everyNth(3), action: .delay(nanoseconds: 0x0102), port: 8080,
                                   windowStart: 5, windowEnd: 9, interfaceIndex: 7, destinations: [])
        let bytes = rule.encoded
        #expect(KT.u32(bytes, 0) == 5 && KT.u32(bytes, 8) == 9 && KT.u32(bytes, 16) == 0x0102)
        #expect(KT.u32(bytes, 24) == 7 && KT.u32(bytes, 28) == 3 && KT.u16(bytes, 32) == 8080)
        #expect(Array(bytes[34...37]) == [7, 3, 2, 1])
    }

    /// Drops the first and the second SYN-ACK of each of three connects (one rule each):
    /// every connect completes on the third, the engine reports both drops of each flow by
    /// its rule, and closing it leaves no program, map or clsact behind.
    @Test func dropsTheSecondSynAckOfEachConnect() throws {
        var own: (programs: Set<UInt32>, maps: Set<UInt32>) = ([], [])
        try KT.leavesNoTrace {
            let pair = try Pair("tc-synack")
            let listener = try pair.listen(Pair.server4)
            defer { Sys.close(listener) }
            let engine = try TCFaultEngine(
                rules: [KernelFaultRule(kind: .synAck, occurrence: .nth(1), action: .drop),
                        KernelFaultRule(kind: .synAck, occurrence: .nth(2), action: .drop)],
                impairments: [], seed: 7, t0: pair.t0, skipMark: NfqueueKernelTests.skipMark)
            own = engine.ids
            // fault_egress, fault_ingress, fault_peer and fault_detour.
            #expect(own.programs.count == 4 && own.maps.count >= 10, "\(own)")
            #expect(own.programs.isSubset(of: TCFaultEngine.loadedIDs().programs))
            try pair.server.pin(as: "nfkt-tc-synack-s")
            try engine.attach(interfaceIndex: 6, name: "nfqs", in: pair.server)
            #expect(KT.tc("-n", "nfkt-tc-synack-s", "filter", "show", "dev", "nfqs", "egress").contains("fault_egress"))
            #expect(KT.tc("-n", "nfkt-tc-synack-s", "filter", "show", "dev", "nfqs", "ingress").contains("fault_ingress"))
            let started = pair.now
            let clients = try (0..<3).map { _ in
                try pair.peer(["connect", "\(Pair.server4)", "\(NfqueueKernelTests.port)", "hold"], on: pair.client)
            }
            defer { clients.forEach { $0.terminate() } }
            #expect(KT.eventually(seconds: 8) { clients.allSatisfy { NfqueueKernelTests.connected($0) != nil } },
                    "\(clients.map(\.standardOutput))")
            var decisions: [KernelFaultDecision] = []
            for _ in 0..<10 where decisions.count < 6 { decisions += try engine.poll(timeoutMilliseconds: 100) }
            for client in clients {
                let connect = try #require(NfqueueKernelTests.connected(client))
                #expect(connect.result == 0)
                // At ~1 s the client's SYN timer and the server's SYN-ACK timer both fire: one SYN-ACK
                // is the second (dropped), the other the third, which connects. Never before 1 s
                // (timers fire late, not early); 4 s bounds a slow machine.
                #expect(connect.t - started >= 1.0 && connect.t - started < 4, "connected \(connect.t - started) s after start")
            }
            #expect(decisions.count == 6, "\(decisions)")
            #expect(decisions.allSatisfy { $0.action == .drop && $0.source == .rule && $0.flags == 0x12 })
            let flows = Dictionary(grouping: decisions, by: \.destinationPort)
            #expect(flows.count == 3)
            for (_, drops) in flows {
                #expect(drops.map(\.index) == [0, 1], "the first by rule 0, the second by rule 1")
                #expect(Set(drops.map(\.sequence)).count == 1, "the same SYN-ACK sent again")
                // The dropped packet from its IP header: IPv4, as long as its total length.
                #expect(drops.allSatisfy { $0.packet.first == 0x45 && $0.packet.count == Int($0.packet[2]) << 8 | Int($0.packet[3]) },
                        "the dropped packet's bytes")
                #expect(drops.allSatisfy { $0.interfaceIndex == 6 && $0.sourcePort == NfqueueKernelTests.port })
            }
            #expect(engine.lostDecisions == 0)
            #expect(engine.close().isEmpty)
            #expect(!KT.tc("-n", "nfkt-tc-synack-s", "qdisc", "show", "dev", "nfqs").contains("clsact"), "clsact removed")
        }
        // Programs and maps go with the object (the kernel frees them asynchronously). Other
        // engineers' programs come and go on this machine: only this engine's ids count.
        #expect(KT.eventually(seconds: 3) {
            let after = TCFaultEngine.loadedIDs()
            return after.programs.isDisjoint(with: own.programs) && after.maps.isDisjoint(with: own.maps)
        }, "BPF programs or maps left behind")
    }

    /// A corruption the engine makes fails the receiver's TCP checksum for real, on a link
    /// with checksum offload off at both ends (`LinkOffloads.disableChecksumOffload`): every
    /// segment the client sends is corrupted, so its SYNs never connect and the server's
    /// TcpInCsumErrors counts them.
    @Test(arguments: [false, true])
    func corruptedSegmentsFailTheReceiversChecksum(ipv6: Bool) throws {
        try KT.leavesNoTrace {
            let pair = try Pair(ipv6 ? "tc-csum6" : "tc-csum4")
            try LinkOffloads.disableChecksumOffload(links: ["nfqc"], in: pair.client)
            try LinkOffloads.disableChecksumOffload(links: ["nfqs"], in: pair.server)
            let server = ipv6 ? Pair.server6 : Pair.server4
            let listener = try pair.listen(server)
            defer { Sys.close(listener) }
            // One connect before the engine: neighbour discovery (ICMPv6, which the engine would
            // corrupt too) and ARP are done.
            let first = try pair.peer(["connect", "\(server)", "\(NfqueueKernelTests.port)"], on: pair.client)
            #expect(KT.eventually { NfqueueKernelTests.connected(first)?.result == 0 }, "\(first.standardOutput)")
            first.terminate()
            let counters = try NetCounterReader(namespace: pair.server)
            let before = try counters.read()
            let engine = try TCFaultEngine(rules: [], impairments: [KernelImpairment(interfaceIndex: 5, corruptThreshold: .max)],
                                           seed: 3, t0: pair.t0, skipMark: NfqueueKernelTests.skipMark)
            defer { engine.close() }
            try engine.attach(interfaceIndex: 5, name: "nfqc", in: pair.client)
            let client = try pair.peer(["connect", "\(server)", "\(NfqueueKernelTests.port)", "hold"],
                                       on: pair.client)
            defer { client.terminate() }
            // The first SYN at once, the second about 1 s later (timers fire late, never early).
            #expect(KT.eventually(seconds: 3) {
                let delta = NetCounterParser.delta(from: before, to: (try? counters.read()) ?? before)
                return (delta["TcpInCsumErrors"] ?? 0) >= 2
            }, "TcpInCsumErrors: \(NetCounterParser.delta(from: before, to: (try? counters.read()) ?? before)["TcpInCsumErrors"] ?? 0)")
            #expect(NfqueueKernelTests.connected(client) == nil, "a corrupted SYN never connects")
            let decisions = try engine.poll(timeoutMilliseconds: 100)
            #expect(!decisions.isEmpty && decisions.allSatisfy { $0.action == .corrupt && $0.source == .impairment })
            #expect(engine.close().isEmpty)
        }
    }

    /// A segment inside a GSO packet: the client's TCP sends 256 KB in 64 KB packets (the
    /// link keeps its default gso_max_segs; offloads off, so the device cuts them), the
    /// egress program decides on their segments one by one and hands the third data
    /// segment's drop to `fault_peer` at the server's ingress, which drops it there: the
    /// server queues the segments after it out of order (and, where fault_peer is a clsact
    /// filter, the clsact counts one drop). The transfer still completes whole, by one retransmission.
    @Test func dropsASegmentInsideAGSOPacketAtThePeer() throws {
        try KT.leavesNoTrace {
            let run = try Self.transferThroughGSOPackets("tc-gso", rule: KernelFaultRule(kind: .data, occurrence: .nth(3), action: .drop))
            #expect(run.decisions.count == 1 && run.decisions.first?.action == .drop && run.decisions.first?.carriedOutAtPeer == true,
                    "one drop of one segment, at the peer: \(run.decisions)")
            #expect((run.decisions.first?.length ?? 0) > 0 && (run.decisions.first?.length ?? 0) <= 1460, "\(run.decisions)")
            // The drop happened between the client's egress (which let the packet through
            // whole) and the server's TCP, which saw a hole: at fault_peer.
            #expect((run.server["TcpExtTCPOFOQueue"] ?? 0) >= 1, "\(run.server)")
            if run.peerHook == .clsBPF { #expect(run.serverQdiscs.contains("dropped 1,"), "\(run.serverQdiscs)") }
            #expect((run.client["TcpRetransSegs"] ?? 0) >= 1, "\(run.client)")
        }
    }

    /// The same with a duplicate: fault_peer sends a copy of the third data segment into the
    /// server's ingress, which takes it for a duplicate (a D-SACK back), and drops nothing.
    @Test func duplicatesASegmentInsideAGSOPacketAtThePeer() throws {
        try KT.leavesNoTrace {
            let run = try Self.transferThroughGSOPackets("tc-gso-dup",
                                                         rule: KernelFaultRule(kind: .data, occurrence: .nth(3), action: .duplicate))
            #expect(run.decisions.map(\.action) == [.duplicate] && run.decisions.first?.carriedOutAtPeer == true, "\(run.decisions)")
            #expect((run.server["TcpExtTCPDSACKOldSent"] ?? 0) >= 1, "\(run.server)")
            #expect(!run.serverQdiscs.contains("dropped 1,"), "\(run.serverQdiscs)")
        }
    }

    /// Whether the running kernel has tcx links (6.6 on): where `fault_peer` must be one.
    static var kernelHasTCX: Bool {
        let parts = MachineInfo.kernelRelease.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        return parts.count == 2 && (parts[0], parts[1]) >= (6, 6)
    }

    /// `fault_peer` took the hook this kernel has, and iproute2 sees it where it should:
    /// among the clsact filters without tcx, not there with it (a tcx link is not a filter).
    static func expectPeerHook(_ hook: TCFaultEngine.Hook, namespace pin: String, interface: String) {
        #expect(hook == (kernelHasTCX ? .tcx : .clsBPF), "kernel \(MachineInfo.kernelRelease): fault_peer as \(hook)")
        let filters = KT.tc("-n", pin, "filter", "show", "dev", interface, "ingress")
        #expect(filters.contains("fault_peer") == (hook == .clsBPF), "\(hook): \(filters)")
    }

    struct GSOTransfer {
        let decisions: [KernelFaultDecision]
        /// How fault_peer was attached.
        let peerHook: TCFaultEngine.Hook
        /// `tc -s qdisc show dev nfqs` in the server's namespace.
        let serverQdiscs: String
        /// Counter changes over the transfer.
        let client: [String: Int64], server: [String: Int64]
    }

    /// 256 KB from client to server in one send (TCP's GSO packets), `rule` on the client's
    /// egress and fault_peer on the server's ingress; the server must read it all.
    static func transferThroughGSOPackets(_ name: String, rule: KernelFaultRule) throws -> GSOTransfer {
        let pair = try Pair(name)
        let listener = try pair.listen(Pair.server4)
        defer { Sys.close(listener) }
        let engine = try TCFaultEngine(rules: [rule], impairments: [], seed: 5, t0: pair.t0, skipMark: NfqueueKernelTests.skipMark)
        defer { engine.close() }
        try engine.attach(interfaceIndex: 5, name: "nfqc", in: pair.client)
        let hook = try engine.attachPeer(interfaceIndex: 6, name: "nfqs", in: pair.server)
        try pair.server.pin(as: "nfkt-\(name)-s")
        Self.expectPeerHook(hook, namespace: "nfkt-\(name)-s", interface: "nfqs")
        let clientCounters = try NetCounterReader(namespace: pair.client), serverCounters = try NetCounterReader(namespace: pair.server)
        let clientBefore = try clientCounters.read(), serverBefore = try serverCounters.read()

        let fd = try Sys.socket(inNamespace: pair.client.fd, domain: AF_INET, type: Int32(SOCK_STREAM.rawValue), protocol: 0,
                                operation: "socket in \(pair.client.name)")
        defer { Sys.close(fd) }
        NfqueueKernelTests.setTimeout(fd, SO_SNDTIMEO, seconds: 5)
        var address = NfqueueKernelTests.socketAddress(Pair.server4, port: NfqueueKernelTests.port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
        try #require(connected == 0, "connect: \(errno)")
        let accepted = accept(listener, nil, nil)
        try #require(accepted >= 0, "accept: \(errno)")
        defer { Sys.close(accepted) }
        NfqueueKernelTests.setTimeout(accepted, SO_RCVTIMEO, seconds: 5)
        let total = 256 * 1024
        // Sent while the server reads: more than the socket buffers hold (a small guest's).
        let sent = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var sentBytes = 0
        Thread {
            let message = [UInt8](repeating: 0x6E, count: total)
            sentBytes = message.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            sent.signal()
        }.start()
        var received = 0
        var buffer = [UInt8](repeating: 0, count: 65536)
        while received < total {
            let n = buffer.withUnsafeMutableBytes { recv(accepted, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += n
        }
        sent.wait()
        #expect(sentBytes == total && received == total, "the client sent \(sentBytes), the server read \(received) of \(total) bytes")
        let decisions = try engine.poll(timeoutMilliseconds: 100)
        let qdiscs = KT.tc("-n", "nfkt-\(name)-s", "-s", "qdisc", "show", "dev", "nfqs")
        #expect(engine.close().isEmpty)
        return GSOTransfer(decisions: decisions, peerHook: hook, serverQdiscs: qdiscs,
                           client: NetCounterParser.delta(from: clientBefore, to: try clientCounters.read()),
                           server: NetCounterParser.delta(from: serverBefore, to: try serverCounters.read()))
    }

    /// Two hosts' engines on each other's links (each its programs on its end, its
    /// fault_peer on the other end): peers detached first, then closed in either order,
    /// nothing fails, no filter stays, and no program either (a tcx link left open would keep
    /// fault_peer loaded).
    @Test(arguments: [false, true])
    func enginesOnBothEndsCloseCleanly(serverFirst: Bool) throws {
        var own: Set<UInt32> = []
        try KT.leavesNoTrace {
            let pair = try Pair(serverFirst ? "tc-both-s" : "tc-both-c")
            let rule = KernelFaultRule(kind: .fin, occurrence: .nth(1), action: .drop)
            let client = try TCFaultEngine(rules: [rule], impairments: [], seed: 1, t0: pair.t0, skipMark: NfqueueKernelTests.skipMark)
            let server = try TCFaultEngine(rules: [rule], impairments: [], seed: 2, t0: pair.t0, skipMark: NfqueueKernelTests.skipMark)
            try client.attach(interfaceIndex: 5, name: "nfqc", in: pair.client)
            let hook = try client.attachPeer(interfaceIndex: 6, name: "nfqs", in: pair.server)
            try server.attach(interfaceIndex: 6, name: "nfqs", in: pair.server)
            try server.attachPeer(interfaceIndex: 5, name: "nfqc", in: pair.client)
            try pair.server.pin(as: "nfkt-tc-both-s")
            Self.expectPeerHook(hook, namespace: "nfkt-tc-both-s", interface: "nfqs")
            own = client.ids.programs.union(server.ids.programs)
            #expect(client.detachPeers().isEmpty && server.detachPeers().isEmpty)
            let order = serverFirst ? [server, client] : [client, server]
            #expect(order.flatMap { $0.close() }.isEmpty)
            #expect(!KT.tc("-n", "nfkt-tc-both-s", "filter", "show", "dev", "nfqs", "ingress").contains("fault_"))
        }
        #expect(KT.eventually(seconds: 3) { TCFaultEngine.loadedIDs().programs.isDisjoint(with: own) },
                "BPF programs left behind")
    }

    /// A duplicate by bpf_clone_redirect: the copy goes out through the same egress (the
    /// skip mark keeps the program from deciding on it again) and the server answers the
    /// second SYN by sending its SYN-ACK again (TcpExtTCPSynRetrans).
    @Test func duplicatedSynReachesTheServerTwice() throws {
        try KT.leavesNoTrace {
            let pair = try Pair("tc-dup")
            let listener = try pair.listen(Pair.server4)
            defer { Sys.close(listener) }
            let counters = try NetCounterReader(namespace: pair.server)
            let before = try counters.read()
            let engine = try TCFaultEngine(rules: [KernelFaultRule(kind: .syn, occurrence: .nth(1), action: .duplicate)],
                                           impairments: [], seed: 1, t0: pair.t0, skipMark: NfqueueKernelTests.skipMark)
            defer { engine.close() }
            let (client, seconds) = try Self.connectedClient(through: engine, pair)
            defer { client.terminate() }
            // A lost SYN would be sent again after 1 s at the earliest.
            #expect(seconds < 0.9, "no SYN was lost: connected \(seconds) s after start")
            #expect(KT.eventually {
                NetCounterParser.delta(from: before, to: (try? counters.read()) ?? before)["TcpExtTCPSynRetrans"] == 1
            }, "\(NetCounterParser.delta(from: before, to: (try? counters.read()) ?? before))")
            let decisions = try engine.poll(timeoutMilliseconds: 100)
            #expect(decisions.map(\.action) == [.duplicate], "one decision: the copy did not pass the program again")
        }
    }

    /// `engine` attached at the client's egress, then a client connecting to the server and holding
    /// the connection: the client (the caller terminates it) and the seconds from its start to its
    /// connect, which must succeed within 3 s.
    static func connectedClient(through engine: TCFaultEngine, _ pair: Pair) throws -> (client: ChildProcess, seconds: Double) {
        try engine.attach(interfaceIndex: 5, name: "nfqc", in: pair.client)
        let started = pair.now
        let client = try pair.peer(["connect", "\(Pair.server4)", "\(NfqueueKernelTests.port)", "hold"], on: pair.client)
        #expect(KT.eventually { NfqueueKernelTests.connected(client)?.result == 0 }, "\(client.standardOutput)")
        let connect = NfqueueKernelTests.connected(client)
        if connect == nil { client.terminate() }  // #require throws: nothing else would end it
        return (client, try #require(connect).t - started)
    }

    /// A delay by earliest departure time, released by an fq root qdisc: where the kernel
    /// has sch_fq (Debian's kernels; not this machine's 6.18, where it is skipped).
    @Test(.enabled(if: FQKernel.present, "the running kernel has no sch_fq"))
    func delayedSynConnectsLater() throws {
        try KT.leavesNoTrace {
            let pair = try Pair("tc-delay")
            try pair.client.pin(as: "nfkt-tc-delay-c")
            let added = KT.tc("-n", "nfkt-tc-delay-c", "qdisc", "replace", "dev", "nfqc", "root", "fq")
            #expect(KT.tc("-n", "nfkt-tc-delay-c", "qdisc", "show", "dev", "nfqc").contains("fq"), "fq installed \(added)")
            let listener = try pair.listen(Pair.server4)
            defer { Sys.close(listener) }
            let engine = try TCFaultEngine(
                rules: [KernelFaultRule(kind: .syn, occurrence: .nth(1), action: .delay(nanoseconds: 300_000_000))],
                impairments: [], seed: 1, t0: pair.t0, skipMark: NfqueueKernelTests.skipMark)
            defer { engine.close() }
            let (client, seconds) = try Self.connectedClient(through: engine, pair)
            defer { client.terminate() }
            // fq releases at the departure time or later, never before; 0.5 s bounds an emulated guest.
            #expect(seconds >= 0.3 && seconds < 0.8, "connected \(seconds) s after start")
            let decisions = try engine.poll(timeoutMilliseconds: 100)
            #expect(decisions.map(\.action) == [.delay] && decisions.first?.delayNanoseconds == 300_000_000)
        }
    }
}

/// Whether the running kernel has sch_fq (built in, or as a module it can load).
enum FQKernel {
    static var present: Bool {
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let module = "/lib/modules/\(release)/kernel/net/sched/sch_fq"
        return FileManager.default.fileExists(atPath: "/sys/module/sch_fq")
            || ["", ".ko", ".ko.xz", ".ko.zst"].contains { !$0.isEmpty && FileManager.default.fileExists(atPath: module + $0) }
    }
}
