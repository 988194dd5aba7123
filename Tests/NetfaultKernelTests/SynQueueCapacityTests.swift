import Testing
@testable import NetfaultKernel

/// The SYN queue probe, for real in scratch namespaces (root needed).
@Suite(.serialized, .enabled(if: KT.canManageNetworks, KT.needsRoot))
struct SynQueueCapacityTests {
    /// One rule for every backlog: the queue holds the backlog, or one more (never another
    /// offset), the same at each backlog.
    @Test func theQueueHoldsTheBacklogOrOneMoreAtEveryBacklog() throws {
        let beyond = try [1, 2, 4].map { backlog in try SynQueueCapacity.measure(backlog: backlog) - backlog }
        #expect(Set(beyond).count == 1, "requests beyond the backlog at backlogs 1, 2, 4: \(beyond)")
        #expect([0, 1].contains(beyond[0]), "requests beyond the backlog: \(beyond[0])")
        #expect(try SynQueueCapacity.beyondBacklog.get() == beyond[0])
    }

    /// Mainline has had the fix since 6.14 (commit 3479c7549fb1): from there on the answer
    /// is known without the probe, and the probe must give it.
    @Test(.enabled(if: SynQueueCapacityTests.releaseAtLeast(6, 14), "kernels before 6.14 may or may not have the fix (stable backports)"))
    func aKernelWithTheFixHoldsOneMoreThanTheBacklog() throws {
        #expect(try SynQueueCapacity.requests(backlog: 2).get() == 3)
    }

    static func releaseAtLeast(_ major: Int, _ minor: Int) -> Bool {
        let release = MachineInfo.kernelRelease.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        return release.count == 2 && (release[0], release[1]) >= (major, minor)
    }
}
