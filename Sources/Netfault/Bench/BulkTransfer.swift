/// The benchmarks' workload: one client writes `bytes` to one server across one link,
/// in 64 kB writes (the peer's write buffer is one write's size).
enum BulkTransfer {
    /// `setup` adds what a variant measures (faults, impairments, recorders) before the peers start.
    static func scenario(_ id: String, subnet: String, bytes: Int,
                         @ScenarioBuilder setup: () -> [ScenarioElement]) -> Scenario {
        Scenario(id, "bulk transfer", timeLimit: 120) {
            Host("client")
            Host("server")
            Link("client", "server", subnet: subnet)
            setup()
            Peer("server", on: "server", .listen(port: 5001), .accept, .read(bytes: bytes), .close)
            WaitFor(.listener(on: "server", port: 5001), in: .listen, timeout: 2)
            Peer("client", on: "client", .connect(to: "server", port: 5001),
                 .write(bytes: bytes, writes: max(1, bytes / 65536)), .close)
            WaitFor(exitOf: "server", timeout: 110)
        }
    }

    /// Runs one transfer; returns the seconds from the server's accept to its last read, and the result.
    /// `framesObserver`: `RunOptions.framesObserver`, handed the capture's frames before the timeline is built.
    static func run(_ scenario: Scenario, bytes: Int, capture: Bool, captureMethod: CaptureMethod = .bpf, events: Bool = false,
                    what: String,
                    framesObserver: (@Sendable ([TimelineBuilder.HostCapture], Int64) -> Void)? = nil) throws
        -> (seconds: Double, result: ScenarioResult) {
        try ScenarioRunner.check(scenario)
        var options = RunOptions(sampleInterval: 0.05, capture: capture, events: events)
        options.captureMethod = captureMethod
        options.framesObserver = framesObserver
        let result = ScenarioRunner.run(scenario, options: options)
        guard result.status == .passed || result.error == nil,
              let server = result.processes.first(where: { $0.name == "server" }),
              let accepted = server.events.first(where: { $0.call == "accept" }),
              let read = server.events.first(where: { $0.call == "read" }), read.result == Int64(bytes) else {
            throw EnvironmentError("\(what): the transfer did not complete: \(result.error ?? "no read event")")
        }
        return (read.time - accepted.time, result)
    }
}
