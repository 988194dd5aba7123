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
        let before = TCFaultEngine.loadedIDs()
        try KT.leavesNoTrace {
            let pair = try Pair("tc-synack")
            let listener = try pair.listen(Pair.server4)
            defer { Sys.close(listener) }
            let engine = try TCFaultEngine(
                rules: [KernelFaultRule(kind: .synAck, occurrence: .nth(1), action: .drop),
                        KernelFaultRule(kind: .synAck, occurrence: .nth(2), action: .drop)],
                impairments: [], seed: 7, t0: pair.t0, skipMark: NfqueueKernelTests.skipMark)
            try pair.server.pin(as: "nfkt-tc-synack-s")
            try engine.attach(interfaceIndex: 6, name: "nfqs", in: pair.server)
            #expect(KT.ip("-n", "nfkt-tc-synack-s", "qdisc", "show", "dev", "nfqs").contains("clsact"), "clsact added")
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
                // The third SYN-ACK answers the SYN retransmitted at ~2 s (or the timer's): never before
                // 1.9 s (timers fire late, not early); 5 s bounds a slow machine.
                #expect(connect.t - started >= 1.9 && connect.t - started < 5, "connected \(connect.t - started) s after start")
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
            #expect(!KT.ip("-n", "nfkt-tc-synack-s", "qdisc", "show", "dev", "nfqs").contains("clsact"), "clsact removed")
        }
        // Programs and maps go with the object (freed asynchronously by the kernel).
        #expect(KT.eventually(seconds: 3) {
            let after = TCFaultEngine.loadedIDs()
            return after.programs.subtracting(before.programs).isEmpty && after.maps.subtracting(before.maps).isEmpty
        }, "BPF programs or maps left behind")
    }
}
