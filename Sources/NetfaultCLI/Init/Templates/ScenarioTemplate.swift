/// The new package's first scenario: real programs (curl and python3's http.server) and a
/// fault, so the package shows the whole loop green as created.
enum ScenarioTemplate {
    static let text = #"""
        import Netfault

        /// curl fetches a page from python3's http.server while the server's first SYN-ACK
        /// is lost: the handshake completes only when a retransmission gets through, after
        /// the initial retransmission timeout (1 s), so a fast request takes over a second.
        public let slowHandshake = Scenario("HTTP1", "curl waits out a lost SYN-ACK") {
            Host("client")
            Host("server")
            Link("client", "server", subnet: "10.77.1.0/24")        // client 10.77.1.1, server 10.77.1.2
            Command("web", on: "server", ["python3", "-m", "http.server", "8000", "--bind", "10.77.1.2"])
            WaitFor(.listener(on: "server", port: 8000), in: .listen, timeout: 10)
            Drop(.synAck, at: .link(from: "server", to: "client"), .first(1), name: "lost SYN-ACK")
            Command("curl", on: "client", ["curl", "--silent", "--show-error", "--output", "/dev/null",
                                           "--write-out", "%{http_code}\\n", "http://10.77.1.2:8000/"])
            WaitFor(exitOf: "curl", timeout: 10)
            Expect.output(of: "curl", contains: "200")
            // curl itself took the retransmission timeout's second.
            Expect.process("curl", exits: 0, tookAtLeast: 1)
            Expect.fault("lost SYN-ACK", acted: .equals(1))
            // Either end's timer recovers: the server resends its SYN-ACK, or curl's kernel
            // resends the SYN; both wait 1 s, and timers fire late, never early (the default
            // tolerance: 1 ms early, max(4 ms, 12.5 %) late).
            Expect.delay(from: .segment(.syn, from: "client"), to: .segment(.handshakeAck, from: "client"), is: 1)
        }

        /// Every scenario of this package: the executable's catalog.
        public let catalog = [slowHandshake]

        """#
}
