import NetfaultKernel
import Testing
@testable import Netfault

@Suite struct KernelFaultConversionTests {
    @Test func segmentFaultsBecomeRules() {
        let fault = PlacedFault(name: "drop 2nd SYN-ACK", action: .drop, kind: .synAck, occurrence: .nth(2), port: 8080,
                                window: 0.5..<1.25, interfaceIndex: 4)
        #expect(fault.kernelRule(fqAvailable: false) == .entry(KernelFaultRule(
            kind: .synAck, occurrence: .nth(2), action: .drop, port: 8080, windowStart: 500_000_000, windowEnd: 1_250_000_000,
            interfaceIndex: 4)))
        let open = PlacedFault(name: "p", action: .drop, kind: nil, window: 2..<Double.infinity,
                               destinations: [PacketAddress([10, 77, 0, 2])])
        let rule = open.kernelRule(fqAvailable: false).entry
        #expect(rule?.kind == .everyPacket && rule?.windowStart == 2_000_000_000 && rule?.windowEnd == .max)
        #expect(rule?.destinations == [KernelAddress(high: 0, low: 0x0A4D_0002, isIPv6: false)])
        let delay = PlacedFault(name: "d", action: .delay(0.3), kind: .fin)
        #expect(delay.kernelRule(fqAvailable: true).entry?.action == .delay(nanoseconds: 300_000_000))
    }

    @Test func whatCannotRunInTheKernelSaysWhy() {
        let reorder = PlacedFault(name: "r", action: .reorder(releaseAfter: 2, maxHold: 1), kind: .data)
        #expect(reorder.kernelRule(fqAvailable: true) == .nfqueue("count-based reordering needs NFQUEUE"))
        let delay = PlacedFault(name: "d", action: .delay(0.3), kind: .fin)
        #expect(delay.kernelRule(fqAvailable: false) == .nfqueue("a delay needs sch_fq, which this kernel lacks"))
        func impairment(_ change: (inout Impairment) -> Void) -> PlacedImpairment {
            var value = Impairment(from: "a", to: "b")
            change(&value)
            return PlacedImpairment(value, interfaceIndex: 3)
        }
        #expect(impairment { $0.loss = 5; $0.lossCorrelation = 25 }.kernelImpairment(fqAvailable: true)
                == .nfqueue("correlated loss is drawn in arrival order (NFQUEUE)"))
        #expect(impairment { $0.rate = 1e6 }.kernelImpairment(fqAvailable: true) == .nfqueue("a rate limit needs NFQUEUE"))
        #expect(impairment { $0.delay = 0.01 }.kernelImpairment(fqAvailable: false)
                == .nfqueue("a delay needs sch_fq, which this kernel lacks"))
        #expect(impairment { $0.loss = 50; $0.corrupt = 100 }.kernelImpairment(fqAvailable: false)
                == .entry(KernelImpairment(interfaceIndex: 3, lossThreshold: 1 << 63, corruptThreshold: .max)))
    }

    @Test func aHostRunsInTheKernelOnlyWhenAllOfItCan() {
        var work = FaultPlan.HostWork(host: "server")
        work.faults = [PlacedFault(name: "a", action: .drop, kind: .syn),
                       PlacedFault(name: "b", action: .reorder(releaseAfter: 1, maxHold: 1), kind: .data)]
        let plan = KernelHostPlan(work, fqAvailable: true)
        #expect(!plan.runsInKernel && plan.rules.isEmpty)
        #expect(plan.reasons == ["b: count-based reordering needs NFQUEUE"])
        work.faults.removeLast()
        #expect(KernelHostPlan(work, fqAvailable: true).rules.count == 1)
    }

    @Test func kernelDecisionsReadAsTheSwiftEnginesDecisions() throws {
        var record = [UInt8](repeating: 0, count: KernelFaultDecision.recordSize)
        func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { record.replaceSubrange(offset..<(offset + MemoryLayout<T>.size), with: $0) }
        }
        put(UInt64(5_300_000_000), at: 0)
        put(UInt64(300_000_000), at: 8)
        put(UInt64(0x0A4D_0102), at: 24)
        put(UInt64(0x0A4D_0101), at: 40)
        put(UInt32(1000), at: 48)
        put(UInt32(77), at: 52)
        put(UInt32(0), at: 56)
        put(UInt32(6), at: 60)
        put(UInt16(8080), at: 68)
        put(UInt16(40000), at: 70)
        put(UInt16(1), at: 72)
        record[74] = 1
        record[75] = 2
        record[76] = 0x12
        record[77] = 6
        record[78] = 4
        let decision = try #require(record.withUnsafeBytes { KernelFaultDecision(record: $0) })
        let converted = FaultDecision(decision, host: "server", names: KernelFaultNames(rules: ["a", "delay SYN-ACK"], impairments: []),
                                      t0: 5_000_000_000)
        #expect(converted == FaultDecision(time: 0.3, host: "server", fault: "delay SYN-ACK", action: "delayed 300 ms",
                                           source: "10.77.1.2:8080", destination: "10.77.1.1:40000", flags: "S.",
                                           sequence: 1000, acknowledgment: 77, length: 0))
        #expect(converted.droppedPacket == nil && converted.interfaceIndex == nil)
    }
}
