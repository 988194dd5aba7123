import Testing
import Netfault

@Suite struct ShardedRunsTests {
    func run(_ kernel: String, _ startedAt: String, _ ids: [String]) -> RunResult {
        RunResult(kernel: kernel, startedAt: startedAt,
                  scenarios: ids.map { ScenarioResult(id: $0, name: $0, status: .passed) })
    }

    @Test func shardsOfOneKernelBecomeOneRunInTheOrderKernelsFirstAppear() {
        let joined = RunResult.joiningShards([
            run("6.1.0-50-amd64", "2026-12-04T10:05:00Z", ["H1", "H3"]),
            run("5.10.0-32-amd64", "2026-12-04T10:00:00Z", ["H1"]),
            run("6.1.0-50-amd64", "2026-12-04T10:01:00Z", ["H2"]),
        ])
        #expect(joined.map(\.kernel) == ["6.1.0-50-amd64", "5.10.0-32-amd64"])
        #expect(joined[0].scenarios.map(\.id) == ["H1", "H3", "H2"])
        #expect(joined[0].startedAt == "2026-12-04T10:01:00Z", "the earliest shard's start")
        #expect(joined[1].scenarios.map(\.id) == ["H1"])
    }
}
