import Netfault

extension Catalog {
    static let fourWayClose = Scenario(
        "C1", "Four-way close: who passes through which states",
        summary: """
            The client closes first. Its socket goes ESTABLISHED → FIN_WAIT1 → FIN_WAIT2 → \
            TIME_WAIT: FIN_WAIT1 is visible because the server delays the ACK of the FIN (delayed \
            ACK, ~40 ms) rather than answering at once. The server, which waits 300 ms before \
            closing, sits in CLOSE_WAIT and then disappears; its LAST_ACK lasts one round trip on \
            a veth (tens of µs), below the 1 ms sampling. Only the active closer keeps TIME_WAIT.
            """,
        claim: "Active closer: ESTABLISHED → FIN_WAIT_1 → FIN_WAIT_2 → TIME_WAIT → CLOSED; passive: ESTABLISHED → CLOSE_WAIT → LAST_ACK → CLOSED; only the active closer has TIME_WAIT (000, 002, 004)."
    ) {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.11.0/24")
        Peer("server", on: "server", .listen(port: 8080), .accept, .readToEnd, .sleep(0.3), .close, .hold)
        WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
        Peer("client", on: "client", .connect(to: "server", port: 8080), .write(bytes: 100), .sleep(0.1), .close, .hold)
        WaitFor(.connection(on: "client", port: 8080), in: .timeWait, timeout: 3)
        Wait(0.05)
        Expect.socket(.connection(on: "client", port: 8080), passesThrough: [.established, .finWait1, .finWait2, .timeWait])
        Expect.socket(.connection(on: "client", port: 8080), endsIn: .timeWait)
        Expect.socket(.connection(on: "server", port: 8080), passesThrough: [.established, .closeWait, .close])
        Expect.socket(.connection(on: "server", port: 8080), staysIn: .closeWait, for: 0.3,
                      // The server sleeps 300 ms in its peer (nanosleep: late by scheduling only).
                      tolerance: Tolerance(early: 0.001, lateMinimum: 0.02, lateFraction: 0))
        Expect.socket(.connection(on: "server", port: 8080), neverIn: .timeWait)
    }
}
