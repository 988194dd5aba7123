import Testing
import NetfaultKernel
@testable import Netfault

/// Comparisons with what the kernel decides: judged only once measured, against the number
/// measured, and saying which quantity it was (no root: measurements are given here).
struct KernelQuantityTests {
    @Test func anUnmeasuredKernelQuantityNeverHolds() {
        let comparison = Comparison.equalsKernel(.synQueueCapacity(backlog: 2))
        #expect(![0, 2, 3].contains { comparison.holds(for: $0) })
        #expect(comparison.description == "the SYN queue's capacity at backlog 2")
    }

    @Test func aMeasuredQuantityHoldsForExactlyTheMeasuredNumber() {
        let comparison = Comparison.measured(.synQueueOverflow(backlog: 2, syns: 6), .success(4))
        #expect(comparison.holds(for: 4))
        #expect(!comparison.holds(for: 3) && !comparison.holds(for: 5))
        #expect(comparison.description == "4 (6 SYNs less the SYN queue's capacity at backlog 2 on this kernel)")
    }

    @Test func aFailedMeasurementFailsAndSaysWhy() {
        let comparison = Comparison.measured(.synQueueCapacity(backlog: 2), .failure(KernelError("SYN queue probe", errno: 1)))
        #expect(!comparison.holds(for: 3))
        #expect(comparison.description.hasPrefix("the SYN queue's capacity at backlog 2 (not measured: SYN queue probe"))
    }

    @Test func measuringLeavesOtherComparisonsAndTheLocationAsTheyAre() {
        let expectation = Expect.counter("TcpExtListenDrops", on: "server", .atLeast(2))
        let measured = expectation.measuringKernel()
        #expect(measured.location == expectation.location)
        guard case .counter(_, _, let comparison) = measured.kind else {
            Issue.record("kind changed: \(measured.kind)")
            return
        }
        #expect(comparison == .atLeast(2))
    }
}
