// Sysctls from outside a scenario: once, and once per value (a sweep).
import Netfault

let lostSyn = Scenario("lost-syn", "Every SYN is lost") {
    Host("client")
    Host("server")
    Link("client", "server", subnet: "10.77.251.0/24")
    Drop(.syn, at: .link(from: "client", to: "server"))
    Peer("client", on: "client", .connect(to: "server", port: 8080))
    WaitFor(exitOf: "client", timeout: 30)
    Expect.segments(.syn, from: "client", at: .synRetransmissions(on: "client"), givingUp: PeerCall("client", "connect"))
}

/// One run with a sysctl set from outside the scenario, then a sweep: one run per value, side
/// by side, and what each observed (when connect gave up, for each tcp_syn_retries).
func synRetriesSweep() async throws -> (once: ScenarioResult, sweep: SweepResult) {
    let once = try await lostSyn.run(sysctls: [SysctlOverride("client", "net.ipv4.tcp_syn_retries", 1)])
    print(once.status)
    let sweep = try await lostSyn.sweep(host: "client", sysctl: "net.ipv4.tcp_syn_retries", values: [1, 2])
    print(SweepReport.render(sweep))
    print(sweep.series.first { $0.name == "gives up" }?.values ?? [])
    return (once, sweep)
}
// snippet.hide
// Declarations only: Tests/NetfaultTests/Kernel/Snippets/ links this file into the tests, which
// run it as root (a test target's files cannot hold top-level statements).
