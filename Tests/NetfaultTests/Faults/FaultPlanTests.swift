import Testing
import NetfaultKernel
@testable import Netfault

/// Where faults land and which packets their rules queue, computed without the kernel.
@Suite struct FaultPlanTests {
    /// client — router — server, plus a second link client — server.
    func scenario(@ScenarioBuilder _ body: () -> [ScenarioElement]) -> Scenario {
        Scenario("T", "test") {
            Host("client")
            Host("router", forwarding: true)
            Host("server")
            Link("client", "router", subnet: "10.77.90.0/24")
            Link("router", "server", subnet: "10.77.91.0/24")
            Link("client", "server", subnet: "10.77.92.0/24")
            body()
        }
    }

    func plan(netem: Bool = false, @ScenarioBuilder _ body: () -> [ScenarioElement]) -> FaultPlan {
        let scenario = scenario(body)
        #expect(ScenarioValidator.validate(scenario).isEmpty)
        return FaultPlan(scenario, network: NetworkPlan(scenario), netemAvailable: netem)
    }

    @Test func linkFaultActsOnTheSendersInterfaceTowardsThePeer() {
        let plan = plan { Drop(.synAck, at: .link(from: "server", to: "client"), .nth(2)) }
        #expect(plan.hosts.map(\.host) == ["server"])
        let work = plan.hosts[0]
        // server's links: eth0 to router (index 2), eth1 to client (index 3).
        #expect(work.faults.map(\.interfaceIndex) == [3])
        #expect(work.rules == [QueueRule(hook: .postrouting, outputInterface: "eth1", tcpOnly: true,
                                         tcpFlags: [TCPFlagMatch(mask: 0x12, value: 0x12)])])
        #expect(work.copyRange == FaultPlan.headerCopyRange && !work.injects)
        #expect(plan.summary == [.init(description: "drop #2 SYN-ACK at server→client", backend: "nfqueue")])
    }

    @Test func ingressIsTheNeighboursEgressTowardsTheHost() {
        let plan = plan { Drop(.fin, at: .ingress(of: "server")) }
        #expect(plan.hosts.map(\.host).sorted() == ["client", "router"])
        let client = plan.hosts.first { $0.host == "client" }!
        #expect(client.rules.map(\.outputInterface) == ["eth1"])
        let router = plan.hosts.first { $0.host == "router" }!
        #expect(router.rules.map(\.outputInterface) == ["eth1"])
    }

    @Test func egressCoversEveryInterface() {
        let plan = plan { Drop(.rst, at: .egress(of: "client"), port: 8080) }
        let rules = plan.hosts[0].rules
        // Either end of the connection may use the port: one rule per side.
        #expect(rules.map(\.sourcePort) == [8080, nil])
        #expect(rules.map(\.destinationPort) == [nil, 8080])
        #expect(rules.allSatisfy { $0.outputInterface == nil && $0.tcpFlags == [TCPFlagMatch(mask: 0x04, value: 0x04)] })
    }

    @Test func kindsThatNeedHistoryQueueWhatTellsThemApart() {
        let handshake = plan { Drop(.handshakeAck, at: .egress(of: "client")) }.hosts[0].rules
        #expect(handshake.contains { $0.tcpFlags == [TCPFlagMatch(mask: 0x12, value: 0x02)] }, "the SYN of the direction")
        let finAck = plan { Drop(.finAck, at: .egress(of: "client")) }.hosts[0].rules
        #expect(finAck.contains { $0.hook == .prerouting && $0.tcpFlags == [TCPFlagMatch(mask: 0x01, value: 0x01)] },
                "the other side's FIN, on the way in")
        let reorder = plan { Reorder(.fin, releaseAfter: 1, at: .egress(of: "client")) }.hosts[0].rules
        #expect(reorder == [QueueRule(hook: .postrouting, tcpOnly: true)], "a reordering counts every later segment")
    }

    @Test func partitionDropsEverythingBetweenTheHostsAddressesBothWays() {
        let plan = plan { Partition("client", "server", from: 1, to: 3) }
        #expect(plan.hosts.map(\.host) == ["client", "server"])
        let client = plan.hosts[0]
        #expect(client.faults[0].kind == nil && client.faults[0].window == 1..<3)
        #expect(Set(client.rules.compactMap { $0.destination?.address.description }) == ["10.77.91.2", "10.77.92.2"])
        #expect(client.rules.allSatisfy { !$0.tcpOnly })
    }

    @Test func blackholeCoversTheHostsEgressAndItsNeighboursTowardsIt() {
        let plan = plan { Blackhole("server", from: 2) }
        #expect(Set(plan.hosts.map(\.host)) == ["server", "router", "client"])
        #expect(plan.hosts.first { $0.host == "server" }!.rules == [QueueRule(hook: .postrouting, tcpOnly: false)])
    }

    @Test func duplicatesCopyWholePacketsAndInject() {
        let work = plan { Duplicate(.data, at: .egress(of: "client")) }.hosts[0]
        #expect(work.copyRange == FaultPlan.wholePacket && work.injects)
    }

    @Test func impairmentsGoToNetemWhereTheKernelHasIt() {
        let withNetem = plan(netem: true) { Impair(from: "client", to: "server", delay: 0.02, loss: 5) }
        #expect(withNetem.hosts.isEmpty)
        #expect(withNetem.qdiscs.map(\.interface) == ["eth1"])
        #expect(withNetem.qdiscs.first?.options == NetemOptions(delay: 20_000_000, loss: 5))
        #expect(withNetem.summary.map(\.backend) == ["netem"])

        let without = plan(netem: false) { Impair(from: "client", to: "server", delay: 0.02, loss: 5) }
        #expect(without.qdiscs.isEmpty)
        #expect(without.hosts.first?.impairments.map(\.interfaceIndex) == [3])
        #expect(without.hosts.first?.rules == [QueueRule(hook: .postrouting, outputInterface: "eth1", tcpOnly: false)])
        #expect(without.summary.map(\.backend) == ["nfqueue"])
        #expect(without.skipReason == nil)

        let forced = plan(netem: true) { Impair(from: "client", to: "server", loss: 1, backend: .nfqueue) }
        #expect(forced.summary.map(\.backend) == ["nfqueue"])
    }

    @Test func insistingOnNetemWithoutItIsASkipWithTheReason() {
        let plan = plan(netem: false) { Impair(from: "client", to: "server", delay: 0.01, backend: .netem) }
        #expect(plan.skipReason?.contains("no sch_netem") == true)
    }

    @Test func flagFiltersLetEveryKindThrough() {
        // Each kind's filter must pass every flag combination that kind can have.
        let samples: [SegmentKind: [UInt8]] = [
            .syn: [0x02], .synAck: [0x12], .fin: [0x11, 0x19], .rst: [0x04, 0x14],
            .pureAck: [0x10], .handshakeAck: [0x10], .finAck: [0x10], .data: [0x10, 0x18, 0x19],
        ]
        for (kind, flagSets) in samples {
            for flags in flagSets {
                let passes = FaultPlan.flagFilters(kind).contains { tests in tests.allSatisfy { flags & $0.mask == $0.value } }
                #expect(passes, "\(kind) with flags \(flags)")
            }
        }
    }
}
