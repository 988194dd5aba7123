@testable import Netfault

/// A small run with one scenario of each outcome, shared by the report tests.
enum ReportFixtures {
    static let passed = ScenarioResult(
        id: "H1", name: "Three-way handshake", status: .passed, durationSeconds: 1.2345678,
        expectations: [
            ExpectationResult(description: "client reaches ESTABLISHED", passed: true,
                              location: "Scenarios/H1.swift:12", expected: "ESTABLISHED", observed: "ESTABLISHED"),
        ],
        sockets: [
            SocketTimeline(host: "client", local: "10.77.1.1:43210", remote: "10.77.1.2:8080", transitions: [
                StateTransition(time: 0.0000004, state: "SYN_SENT"),
                StateTransition(time: 0.0012345678, state: "ESTABLISHED"),
            ]),
        ],
        counters: ["server.TcpExtListenOverflows": 0, "client.TcpActiveOpens": 1],
        processes: [
            ProcessResult(host: "client", name: "peer", command: "peer connect 10.77.1.2:8080", exitStatus: 0,
                          startTime: 0.0001234567, endTime: 0.5, events: [
                              PeerEvent(time: 0.0011111111, call: "connect", result: 0,
                                        local: "10.77.1.1:43210", remote: "10.77.1.2:8080"),
                          ], stderr: ProcessOutput(whole: "")),
        ]
    )

    static let failed = ScenarioResult(
        id: "C7", name: "Refused connection", status: .failed, durationSeconds: 0.5,
        expectations: [
            ExpectationResult(description: "connect fails", passed: false, location: "Scenarios/C7.swift:23",
                              expected: #"<&">"#, observed: "ok"),
            ExpectationResult(description: "RST counted", passed: false, location: "Scenarios/C7.swift:24",
                              expected: "1", observed: "0"),
        ],
        processes: [
            ProcessResult(host: "client", name: "peer", command: "peer connect", exitStatus: 1,
                          startTime: 0, endTime: 0.4, events: [
                              PeerEvent(time: 0.002, call: "connect", result: -1, errno: "ECONNREFUSED"),
                          ], stderr: ProcessOutput(whole: "connect: Connection refused\u{01}\n")),
        ],
        error: "peer timed out"
    )

    static let errored = ScenarioResult(
        id: "E2", name: "Setup broke", status: .failed, durationSeconds: 0.1, error: "netlink: EPERM"
    )

    static let skipped = ScenarioResult(
        id: "T3", name: "TFO fallback", status: .skipped, skipReason: "needs kernel ≥ 6.1"
    )

    static let run = RunResult(kernel: "6.8.0-45-generic", startedAt: "2025-01-02T03:04:05Z",
                               scenarios: [passed, failed, errored, skipped])
}
