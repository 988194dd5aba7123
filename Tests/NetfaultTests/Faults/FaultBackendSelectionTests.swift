import Testing
import NetfaultKernel
@testable import Netfault

/// Which engine each host's faults get, and why, for kernels with and without tc BPF,
/// sch_fq and netem, and under a forced backend: computed without the kernel.
@Suite struct FaultBackendSelectionTests {
    static let everything = KernelFaultSupport(tcBPF: true, fq: true, netem: true)
    /// This machine's 6.18: tc BPF, no sch_fq, no sch_netem.
    static let noFQ = KernelFaultSupport(tcBPF: true, fq: false, fqProblem: "this kernel has no sch_fq", netem: false)
    static let noBPF = KernelFaultSupport(tcBPF: false, tcBPFProblem: "no cls_bpf", fq: true, netem: true)

    func plan(_ support: KernelFaultSupport = everything, force: FaultBackendChoice = .auto,
              @ScenarioBuilder _ body: () -> [ScenarioElement]) -> FaultPlan {
        let scenario = FaultPlanTests().scenario(body)  // client — router — server, and client — server
        #expect(ScenarioValidator.validate(scenario).isEmpty)
        return FaultPlan(scenario, network: NetworkPlan(scenario), support: support, force: force)
    }

    @Test func dropsRunInTheKernelWithoutQueueRules() {
        let plan = plan { Drop(.synAck, at: .link(from: "server", to: "client"), .nth(2), name: "lost SYN-ACK") }
        let work = plan.hosts[0]
        #expect(work.engine == .kernel(fq: false) && work.rules.isEmpty && work.reason == nil)
        #expect(work.interfaces.map(\.name) == ["eth1"] && work.interfaces.map(\.index) == [3])
        #expect(work.interfaces[0].fq == nil && !work.interfaces[0].singleSegments && !work.interfaces[0].corrupts)
        #expect(work.interfaces[0].peerHost == "client" && work.interfaces[0].peerInterface == "eth1")
        #expect(plan.summary == [.init(description: "lost SYN-ACK", backend: "bpf")])
        #expect(plan.singleSegmentInterfaces.isEmpty, "SYN-ACKs are never GSO packets")
        #expect(plan.errors.isEmpty)
    }

    @Test func delaysTakeFQAboveTheLongestDelay() {
        let plan = plan {
            Delay(.fin, by: 0.3, at: .egress(of: "client"), name: "slow FIN")
            Delay(.syn, by: 2, at: .link(from: "client", to: "server"))
        }
        let work = plan.hosts[0]
        #expect(work.engine == .kernel(fq: true))
        #expect(plan.summary.map(\.backend) == ["bpf+fq", "bpf+fq"])
        // eth0 (to router) holds at most 0.3 s, eth1 (to server) 2 s; 1 s of margin each.
        #expect(work.interfaces.map(\.fq?.horizonMicroseconds) == [1_300_000, 3_000_000])
        #expect(work.interfaces.allSatisfy { $0.fq?.pacing == false && $0.fq!.flowLimit >= 10_000 })
        // A FIN may ride on a GSO data packet: both links carry one-segment skbs.
        #expect(plan.singleSegmentInterfaces == ["client/eth0", "client/eth1"])
    }

    @Test func withoutFQAHostWithADelayStaysOnNFQueueWholly() {
        let plan = plan(Self.noFQ) {
            Drop(.syn, at: .egress(of: "client"), .nth(1))
            Delay(.fin, by: 0.3, at: .egress(of: "client"), name: "slow FIN")
            Drop(.rst, at: .egress(of: "server"), name: "no RST")
        }
        let client = plan.hosts.first { $0.host == "client" }!
        #expect(client.engine == .nfqueue && !client.rules.isEmpty)
        #expect(client.reason?.contains("fault \"slow FIN\": a delay needs sch_fq") == true)
        // The drop shares the host's engine, with the same reason.
        #expect(plan.summary[0].backend == "nfqueue" && plan.summary[0].reason == client.reason)
        #expect(plan.summary[2] == .init(description: "no RST", backend: "bpf"))
    }

    @Test func countBasedReorderingIsNeverInTheKernel() {
        let plan = plan { Reorder(.data, releaseAfter: 2, at: .egress(of: "client")) }
        #expect(plan.hosts[0].engine == .nfqueue)
        #expect(plan.summary[0].reason?.contains("count-based reordering") == true)
    }

    @Test func aFaultOnTwoHostsSaysWhichIsNotInTheKernel() {
        let plan = plan {
            Partition("client", "server", name: "cut")
            Reorder(.data, releaseAfter: 1, at: .egress(of: "server"))
        }
        #expect(plan.hosts.first { $0.host == "client" }?.engine == .kernel(fq: false))
        #expect(plan.summary[0].backend == "nfqueue")
        #expect(plan.summary[0].reason?.hasPrefix("on server: ") == true)
        let client = plan.hosts.first { $0.host == "client" }
        #expect(client?.interfaces.first?.handsOver == true, "a partition drops segments inside GSO packets too")
        #expect(plan.singleSegmentInterfaces.isEmpty, "a drop needs no one-segment skbs")
    }

    /// GSO packets stay whole unless a bulk segment may be held for a time of its own;
    /// drops, duplicates and corruptions of bulk segments go to the peer's program.
    @Test func bulkSegmentsKeepGSOUnlessTheirTimingIsTheirOwn() {
        let drop = plan { Drop(.data, at: .egress(of: "client"), .nth(3)) }
        #expect(drop.singleSegmentInterfaces.isEmpty && drop.hosts[0].interfaces.map(\.handsOver) == [true, true])
        #expect(drop.hosts[0].interfaces.map(\.peerHost) == ["router", "server"])
        #expect(drop.hosts[0].interfaces.allSatisfy { $0.peerIndex != nil })

        let delay = plan { Delay(.fin, by: 0.2, at: .egress(of: "client")) }
        #expect(delay.singleSegmentInterfaces == ["client/eth0", "client/eth1"])
        #expect(delay.hosts[0].interfaces.map(\.handsOver) == [false, false])

        let control = plan { Drop(.synAck, at: .egress(of: "client")) }
        #expect(control.singleSegmentInterfaces.isEmpty && control.hosts[0].interfaces.map(\.handsOver) == [false, false])

        let steady = plan { Impair(from: "client", to: "server", delay: 0.02) }
        #expect(steady.singleSegmentInterfaces.isEmpty, "a constant delay holds a GSO packet's segments alike")
        let jitter = plan { Impair(from: "client", to: "server", delay: 0.02, jitter: 0.005) }
        #expect(jitter.singleSegmentInterfaces == ["client/eth1"])
    }

    @Test func impairmentsPreferTheKernelThenNetemThenNFQueue() {
        let kernel = plan { Impair(from: "client", to: "server", delay: 0.02, loss: 5) }
        #expect(kernel.qdiscs.isEmpty && kernel.hosts[0].engine == .kernel(fq: true))
        #expect(kernel.hosts[0].interfaces.map(\.fq?.horizonMicroseconds) == [1_020_000])
        #expect(kernel.singleSegmentInterfaces.isEmpty && kernel.hosts[0].interfaces.map(\.handsOver) == [true])
        #expect(kernel.summary.map(\.backend) == ["bpf+fq"])

        let lossOnly = plan(Self.noFQ) { Impair(from: "client", to: "server", loss: 5) }
        #expect(lossOnly.summary.map(\.backend) == ["bpf"])

        let corrupt = plan(Self.noFQ) { Impair(from: "client", to: "server", corrupt: 1) }
        #expect(corrupt.hosts[0].interfaces.map(\.corrupts) == [true], "checksum offload goes off on both ends")

        let netem = plan(Self.noBPF) { Impair(from: "client", to: "server", delay: 0.02) }
        #expect(netem.qdiscs.count == 1 && netem.hosts.isEmpty)
        #expect(netem.summary[0].backend == "netem" && netem.summary[0].reason?.contains("no cls_bpf") == true)

        let queued = plan(Self.noFQ) { Impair(from: "client", to: "server", delay: 0.02) }
        #expect(queued.hosts[0].engine == .nfqueue && queued.summary[0].backend == "nfqueue")
        #expect(queued.summary[0].reason?.contains("sch_fq") == true)

        let rate = plan { Impair(from: "client", to: "server", rate: 10_000_000) }
        #expect(rate.summary[0].backend == "netem" && rate.summary[0].reason?.contains("rate") == true)
    }

    @Test func netemAndFQCannotShareARoot() {
        let plan = plan {
            Impair(from: "client", to: "server", delay: 0.02, backend: .netem)
            Delay(.syn, by: 0.5, at: .egress(of: "client"))
        }
        #expect(plan.hosts[0].engine == .nfqueue)
        #expect(plan.hosts[0].reason?.contains("cannot both be the root qdisc of eth1") == true)
        #expect(plan.qdiscs.map(\.interface) == ["eth1"])
    }

    @Test func forcedNFQueueTakesEverything() {
        let plan = plan(force: .nfqueue) {
            Drop(.syn, at: .egress(of: "client"))
            Impair(from: "server", to: "client", loss: 1)
        }
        #expect(plan.hosts.allSatisfy { $0.engine == .nfqueue && $0.reason == "--fault-backend nfqueue" })
        #expect(plan.qdiscs.isEmpty && plan.errors.isEmpty)
    }

    @Test func forcedBPFRejectsWhatTheKernelCannotServeWithTheLine() {
        let reorderLine = #line + 3
        let delayLine = #line + 3
        let plan = plan(Self.noFQ, force: .bpf) {
            Reorder(.data, releaseAfter: 1, at: .egress(of: "client"))
            Delay(.syn, by: 0.1, at: .egress(of: "server"))
            Drop(.rst, at: .egress(of: "router"))
        }
        #expect(plan.errors.map(\.location.line) == [reorderLine, delayLine])
        #expect(plan.errors[0].message.contains("--fault-backend bpf cannot serve fault"))
        #expect(plan.errors[1].message.contains("sch_fq"))
    }

    @Test func anImpairmentAskingForBPFWithoutFQIsASkipNotAnError() {
        let plan = plan(Self.noFQ) { Impair(from: "client", to: "server", delay: 0.01, backend: .bpf) }
        #expect(plan.errors.isEmpty)
        #expect(plan.skipReason?.contains("asks for bpf") == true)
        let rate = self.plan(Self.noFQ) { Impair(from: "client", to: "server", rate: 1_000_000, backend: .bpf) }
        #expect(rate.errors.count == 1 && rate.errors[0].message.contains("rate"))
    }

    @Test func theOldInitialiserKeepsEverythingOnNFQueue() {
        let scenario = Scenario("T", "test") {
            Host("a")
            Host("b")
            Link("a", "b", subnet: "10.77.93.0/24")
            Drop(.syn, at: .egress(of: "a"))
        }
        let plan = FaultPlan(scenario, network: NetworkPlan(scenario), netemAvailable: true)
        #expect(plan.hosts[0].engine == .nfqueue)
    }
}
