@testable import Netfault

/// Scenarios with captured segments, written by hand as the timeline builder would record them,
/// for the ladder renderers: a lost SYN between two hosts, a path through a router, and extremes.
enum SegmentFixtures {
    static let client = "10.77.3.1:40000", server = "10.77.3.2:8080"

    /// The first SYN is dropped, the retransmission gets through, the final ACK is delayed.
    static let lostSyn: ScenarioResult = {
        var scenario = ScenarioResult(
            id: "H3", name: "One SYN lost, the next one delivered", status: .failed, durationSeconds: 1.5,
            expectations: [
                ExpectationResult(description: "connect takes at most 1.2 s", passed: false,
                                  location: "Scenarios/H3_OneSynLost.swift:23", expected: "≤ 1.2 s", observed: "1.30 s"),
            ],
            sockets: [
                SocketTimeline(host: "server", local: "10.77.3.2:8080", remote: "0.0.0.0:0",
                               transitions: [StateTransition(time: 0.000050, state: "LISTEN")]),
                SocketTimeline(host: "client", local: client, remote: server, transitions: [
                    StateTransition(time: 0.001000, state: "SYN_SENT"),
                    StateTransition(time: 1.003060, state: "ESTABLISHED"),
                ]),
                SocketTimeline(host: "server", local: server, remote: client, transitions: [
                    StateTransition(time: 1.003020, state: "SYN_RECV"),
                    StateTransition(time: 1.303120, state: "ESTABLISHED"),
                ]),
            ]
        )
        let syn = TCPOptions(mss: 1460, windowScale: 7, sackPermitted: true, timestamp: [1, 0])
        scenario.segments = [
            sent(0.001020, "client", client, server, "S", seq: 0, ack: 0, to: nil, options: syn,
                 fault: "dropped by first SYN"),
            sent(1.003000, "client", client, server, "S", seq: 0, ack: 0, to: "server", options: syn),
            received(1.003010, "server", client, server, "S", seq: 0, ack: 0),
            sent(1.003040, "server", server, client, "S.", seq: 0, ack: 1, to: "client"),
            received(1.003050, "client", server, client, "S.", seq: 0, ack: 1),
            sent(1.003080, "client", client, server, ".", seq: 1, ack: 1, to: "server",
                 fault: "delayed 300 ms by slow-ack"),
            received(1.303100, "server", client, server, ".", seq: 1, ack: 1),
        ]
        return scenario
    }()

    static let routedClient = "10.77.1.1:43210", routedServer = "10.77.2.2:8080"

    /// client — router — server: the router forwards each segment, so each crosses two links and is
    /// captured four times. The router drops the final ACK on its way out; the client's FIN is dropped
    /// as it leaves the client, addressed to the server two columns away.
    static let routed: ScenarioResult = {
        var scenario = ScenarioResult(
            id: "R1", name: "Handshake through a router", status: .passed, durationSeconds: 0.6,
            sockets: [
                SocketTimeline(host: "client", local: routedClient, remote: routedServer, transitions: [
                    StateTransition(time: 0.000050, state: "SYN_SENT"),
                    StateTransition(time: 0.000235, state: "ESTABLISHED"),
                ]),
                SocketTimeline(host: "server", local: routedServer, remote: routedClient, transitions: [
                    StateTransition(time: 0.000140, state: "SYN_RECV"),
                ]),
            ]
        )
        scenario.segments = [
            sent(0.000100, "client", routedClient, routedServer, "S", seq: 0, ack: 0, to: "router"),
            received(0.000110, "router", routedClient, routedServer, "S", seq: 0, ack: 0),
            sent(0.000120, "router", routedClient, routedServer, "S", seq: 0, ack: 0, to: "server"),
            received(0.000130, "server", routedClient, routedServer, "S", seq: 0, ack: 0),
            sent(0.000200, "server", routedServer, routedClient, "S.", seq: 0, ack: 1, to: "router"),
            received(0.000210, "router", routedServer, routedClient, "S.", seq: 0, ack: 1),
            sent(0.000220, "router", routedServer, routedClient, "S.", seq: 0, ack: 1, to: "client"),
            received(0.000230, "client", routedServer, routedClient, "S.", seq: 0, ack: 1),
            sent(0.000300, "client", routedClient, routedServer, ".", seq: 1, ack: 1, to: "router"),
            received(0.000310, "router", routedClient, routedServer, ".", seq: 1, ack: 1),
            sent(0.000320, "router", routedClient, routedServer, ".", seq: 1, ack: 1, to: nil,
                 fault: "dropped by lose-ack"),
            sent(0.500000, "client", routedClient, routedServer, "F.", seq: 1, ack: 1, to: nil,
                 fault: "dropped by lose-fin"),
        ]
        return scenario
    }()

    /// `count` data segments from the client, each acknowledged by the server: 2 × count rows.
    static func bulk(count: Int) -> ScenarioResult {
        var scenario = ScenarioResult(id: "B1", name: "Bulk transfer", status: .passed, durationSeconds: 2)
        scenario.segments = (0..<count).flatMap { index -> [SegmentRecord] in
            let time = Double(index) * 0.001, seq = UInt32(1 + index * 100)
            return [
                sent(time, "client", client, server, "P.", seq: seq, ack: 1, to: "server", length: 100),
                sent(time + 0.0005, "server", server, client, ".", seq: 1, ack: seq + 100, to: "client"),
            ]
        }
        return scenario
    }

    /// Markup and terminal escape sequences in every string a peer, kernel or scenario author controls.
    static let hostile: ScenarioResult = {
        var scenario = ScenarioResult(
            id: "X1", name: "<script>alert(1)</script>", status: .failed, durationSeconds: 0.2,
            expectations: [
                ExpectationResult(description: "no <script>alert(2)</script>", passed: false,
                                  location: "Scenarios/X1.swift:1", expected: "\"quoted\" & 'single'",
                                  observed: "\u{1B}[2J"),
            ],
            sockets: [
                SocketTimeline(host: "evil\u{1B}[31m\"host", local: client, remote: server,
                               transitions: [StateTransition(time: 0.01, state: "<b>ESTABLISHED</b>")]),
            ],
            error: "peer wrote </section><script>alert(3)</script>"
        )
        scenario.segments = [
            sent(0.001, "evil\u{1B}[31m\"host", client, server, "S", seq: 0, ack: 0, to: "server",
                 fault: "delayed by <img src=x>\u{1B}[2J\nnext line"),
            received(0.002, "server", client, server, "S", seq: 0, ack: 0),
        ]
        return scenario
    }()

    static let noSegments = ScenarioResult(id: "E1", name: "Nothing on the wire", status: .failed, error: "setup failed")

    static func sent(_ time: Double, _ host: String, _ src: String, _ dst: String, _ flags: String, seq: UInt32,
                     ack: UInt32, to receiver: String?, length: Int = 0, options: TCPOptions? = nil,
                     fault: String? = nil) -> SegmentRecord {
        SegmentRecord(time: time, host: host, direction: "out", src: src, dst: dst, flags: flags, seq: seq, ack: ack,
                      length: length, window: fault?.hasPrefix("dropped") == true ? nil : 64240, options: options,
                      fault: fault, receiver: receiver)
    }

    static func received(_ time: Double, _ host: String, _ src: String, _ dst: String, _ flags: String, seq: UInt32,
                         ack: UInt32) -> SegmentRecord {
        SegmentRecord(time: time, host: host, direction: "in", src: src, dst: dst, flags: flags, seq: seq, ack: ack,
                      length: 0, window: 64240)
    }

    static let run = RunResult(kernel: "6.8.0-45-generic", startedAt: "2025-01-02T03:04:05Z",
                               scenarios: [lostSyn, routed, hostile, noSegments, ReportFixtures.skipped])
}
