import Netfault
import Testing

// The README's library example, verbatim: if this stops compiling or passing, the README is wrong.
@Test(.enabled(if: RootOnly.isRoot, RootOnly.reason))
func refusedConnection() async throws {
    let scenario = Scenario("refused", "A SYN to a closed port gets RST") {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.250.0/24")
        Peer("client", on: "client", .connect(to: "server", port: 9))
        WaitFor(exitOf: "client", timeout: 2)
        Expect.peer("client", fails: "connect", with: "ECONNREFUSED", tookAtMost: 0.2)
        Expect.counter("TcpOutRsts", on: "server", .equals(1))
    }
    let result = try await scenario.run()
    #expect(result.status == .passed, "\(result.failureSummary)")
}

// The README's tuning example, verbatim.
@Test(.enabled(if: RootOnly.isRoot, RootOnly.reason))
func synRetriesDecideWhenConnectGivesUp() async throws {
    let lostSyn = Scenario("lost-syn", "Every SYN is lost") {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.251.0/24")
        Drop(.syn, at: .link(from: "client", to: "server"))
        Peer("client", on: "client", .connect(to: "server", port: 8080))
        WaitFor(exitOf: "client", timeout: 30)
        Expect.segments(.syn, from: "client", at: .synRetransmissions(on: "client"), givingUp: PeerCall("client", "connect"))
    }
    // One run with a sysctl set from outside the scenario…
    let once = try await lostSyn.run(sysctls: [SysctlOverride("client", "net.ipv4.tcp_syn_retries", 1)])
    #expect(once.status == .passed, "\(once.failureSummary)")
    // …and a sweep: one run per value, side by side, and what each observed.
    let sweep = try await lostSyn.sweep(host: "client", sysctl: "net.ipv4.tcp_syn_retries", values: [1, 2])
    #expect(sweep.points.allSatisfy { $0.result.status == .passed }, "\(SweepReport.render(sweep))")
    let givingUp = try #require(sweep.series.first { $0.name == "gives up" }).values
    #expect(givingUp[0]! < givingUp[1]!)
    print(SweepReport.render(sweep))
}
