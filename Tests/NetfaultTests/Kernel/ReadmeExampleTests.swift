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
