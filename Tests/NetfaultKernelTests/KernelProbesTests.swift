import Foundation
import Testing
@testable import NetfaultKernel

/// The probes run for real (root needed). `ip` is the independent witness that
/// the root namespace is left exactly as it was.
@Suite(.serialized, .enabled(if: Privileges.canManageNetworks, "kernel probes need root or CAP_NET_ADMIN+CAP_SYS_ADMIN"))
struct KernelProbesTests {
    /// One real run of `all()` with the host's state taken just before and after.
    struct Run: Sendable {
        let results: [KernelProbes.ProbeResult]
        let linksBefore: String, linksAfter: String
        let netnsBefore: String, netnsAfter: String
        let vethsAfter: String
        let fdsBefore: [String], fdsAfter: [String]
    }

    static let run: Run = {
        let linksBefore = KT.ip("-o", "link", "show"), netnsBefore = KT.ip("netns", "list")
        // Made once per process on first use and kept, by design: not a leak of all().
        _ = NamespaceNursery.shared
        // So are the kernel event programs (their fds: programs, maps, links, the ring's epoll).
        _ = KernelEvents.shared
        // The fd snapshots hug all(): Foundation's Process opens fds of its own.
        let fdsBefore = openFileTargets()
        let results = KernelProbes.all()
        let fdsAfter = openFileTargets()
        return Run(results: results,
                   linksBefore: linksBefore, linksAfter: KT.ip("-o", "link", "show"),
                   netnsBefore: netnsBefore, netnsAfter: KT.ip("netns", "list"),
                   vethsAfter: KT.ip("-o", "link", "show", "type", "veth"),
                   fdsBefore: fdsBefore, fdsAfter: fdsAfter)
    }()

    static var onFirecrackerKernel: Bool { MachineInfo.kernelRelease.contains("-fc-") }

    func result(_ name: String) throws -> KernelProbes.ProbeResult {
        try #require(Self.run.results.first { $0.name == name }, "no result for \(name)")
    }

    @Test func kernelEventsProbeSaysWhatLoadedOrWhyNot() throws {
        let probe = try result(KernelProbes.Name.kernelEvents)
        if probe.present {
            // Every program of bpf/tcp_events.bpf.c: six on TCP and skb tracepoints, two on the
            // device tracepoints that stamp departures.
            #expect(probe.detail.contains("8 tp_btf programs load and attach"))
        } else {
            #expect(probe.detail.hasSuffix("scenarios run on sampling alone"))
        }
    }

    @Test func everyProbeReportsOnceInOrder() {
        let names = Self.run.results.map(\.name)
        #expect(names == KernelProbes.Name.all)
        #expect(Set(names).count == 14)
        #expect(Self.run.results.allSatisfy { !$0.detail.isEmpty })
    }

    @Test(arguments: [
        KernelProbes.Name.privileges, KernelProbes.Name.namespaces, KernelProbes.Name.veth,
        KernelProbes.Name.sockDiag, KernelProbes.Name.nfTables, KernelProbes.Name.nfqueueTarget,
        KernelProbes.Name.nfnetlinkQueue, KernelProbes.Name.kernel,
    ])
    func presentOnThisMachine(_ name: String) throws {
        let probe = try result(name)
        #expect(probe.present, "\(name): \(probe.detail)")
    }

    @Test func nfqueueTargetDetail() throws {
        #expect(try result(KernelProbes.Name.nfqueueTarget).detail.hasPrefix("NFQUEUE target rev 3 available"))
    }

    @Test func kernelDetailIsTheRelease() throws {
        #expect(try result(KernelProbes.Name.kernel).detail == MachineInfo.kernelRelease)
    }

    @Test(.enabled(if: KernelProbesTests.onFirecrackerKernel,
                   "only this machine's Firecracker kernel (…-fc-…) is known to lack sch_netem; other kernels may have it"))
    func netemMissingOnFirecracker() throws {
        let probe = try result(KernelProbes.Name.netem)
        #expect(!probe.present, "\(probe.detail)")
        #expect(probe.detail.contains("ENOENT") || probe.detail.contains("qdisc kind is unknown"), "\(probe.detail)")
    }

    @Test(.enabled(if: KernelProbesTests.onFirecrackerKernel,
                   "only this machine's Firecracker kernel (…-fc-…) is known to lack nft's queue expression; other kernels may have it"))
    func nftQueueExpressionMissingOnFirecracker() throws {
        let probe = try result(KernelProbes.Name.nftQueueExpression)
        #expect(!probe.present, "\(probe.detail)")
        #expect(probe.detail.contains("ENOENT"), "\(probe.detail)")
        #expect(probe.detail.contains("queue"), "the error names the rule request: \(probe.detail)")
    }

    @Test func synLinearTimeoutsIsInformation() throws {
        let probe = try result(KernelProbes.Name.synLinearTimeouts)
        #expect(probe.detail.contains("tcp_syn_linear_timeouts"))
        if probe.present { #expect(probe.detail.contains(" = ")) }
    }

    @Test func coreCanRunHere() {
        #expect(KernelProbes.canRun(Self.run.results) == [])
    }

    // MARK: - The host is left alone

    @Test func rootNamespaceLinksUnchanged() {
        #expect(!Self.run.linksBefore.isEmpty)
        #expect(Self.run.linksBefore == Self.run.linksAfter)
    }

    @Test func namedNamespacesUnchanged() {
        #expect(Self.run.netnsBefore == Self.run.netnsAfter)
        #expect(!Self.run.netnsAfter.contains("netfault-probe"))
    }

    @Test func noProbeVethInRootNamespace() {
        #expect(!Self.run.vethsAfter.contains("nfprobe"))
    }

    /// Namespaces live while an fd or a socket refers to them: none may be left
    /// open. The probes' sockets are netlink sockets in scratch namespaces; a new
    /// Unix socket of the root namespace (/proc/self/net/unix) is Foundation's.
    @Test func noNamespaceOrSocketLeftOpen() {
        let namespaces = { (fds: [String]) in fds.filter { $0.hasPrefix("net:[") }.count }
        #expect(namespaces(Self.run.fdsAfter) == namespaces(Self.run.fdsBefore))
        let unixInodes = Set((MachineInfo.readFile("/proc/self/net/unix") ?? "")
            .split(separator: "\n").dropFirst().compactMap { $0.split(separator: " ").dropFirst(6).first.map(String.init) })
        let leftOpen = Set(Self.run.fdsAfter).subtracting(Self.run.fdsBefore).filter {
            $0.hasPrefix("socket:[") && !unixInodes.contains(String($0.dropFirst(8).dropLast()))
        }
        #expect(leftOpen.isEmpty, "sockets opened by all() and still open: \(leftOpen.sorted())")
    }


    /// What each of this process's fds refers to ("net:[4026532…]", "socket:[…]", paths).
    static func openFileTargets() -> [String] {
        let directory = "/proc/self/fd"
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\($0)") }
    }
}

/// Pure checks that need no privileges.
@Suite struct KernelProbesDecisionTests {
    private func results(missing: Set<String>) -> [KernelProbes.ProbeResult] {
        KernelProbes.Name.all.map { .init(name: $0, present: !missing.contains($0), detail: "d") }
    }

    @Test func canRunListsMissingCoreRequirementsOnly() {
        #expect(KernelProbes.canRun(results(missing: [])) == [])
        #expect(KernelProbes.canRun(results(missing: [KernelProbes.Name.netem, KernelProbes.Name.nftQueueExpression])) == [])
        #expect(KernelProbes.canRun(results(missing: [KernelProbes.Name.veth, KernelProbes.Name.privileges]))
            == [KernelProbes.Name.privileges, KernelProbes.Name.veth])
    }

    @Test func canRunTreatsAnAbsentProbeAsMissing() {
        #expect(KernelProbes.canRun([]) == KernelProbes.coreRequirements)
    }

    @Test func resultRoundTripsThroughJSON() throws {
        let result = KernelProbes.ProbeResult(name: "sch_netem", present: false, detail: "ENOENT")
        let data = try JSONEncoder().encode(result)
        #expect(try JSONDecoder().decode(KernelProbes.ProbeResult.self, from: data) == result)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == ["name", "present", "detail"])
    }
}
