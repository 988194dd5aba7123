// A first scenario of one's own: a SYN to a closed port is answered with RST.
import Netfault

let refused = Scenario("refused", "A SYN to a closed port gets RST") {
    Host("client")
    Host("server")
    Link("client", "server", subnet: "10.77.250.0/24")
    Peer("client", on: "client", .connect(to: "server", port: 9))
    WaitFor(exitOf: "client", timeout: 2)
    Expect.peer("client", fails: "connect", with: "ECONNREFUSED", tookAtMost: 0.2)
    Expect.counter("TcpOutRsts", on: "server", .equals(1))
}

/// Runs it as root: `run()` throws InvalidScenario (each error's file and line) or
/// EnvironmentError (not root), otherwise returns what `--json` would print.
func runRefused() async throws -> ScenarioResult {
    let result = try await refused.run()
    print(result.status, result.failureSummary)
    return result
}
// snippet.hide
// Declarations only: Tests/NetfaultTests/Kernel/Snippets/ links this file into the tests, which
// run it as root (a test target's files cannot hold top-level statements).
