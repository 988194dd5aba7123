import Netfault

extension Catalog {
    static let lostFinalAck = Scenario(
        "C6", "Final ACK lost: TIME_WAIT restarts its timer",
        summary: """
            The client closes first; its last ACK (of the server's FIN) is dropped. The server, in \
            LAST_ACK, retransmits its FIN after the retransmission timeout; the client, already in \
            TIME_WAIT, acknowledges it again and restarts its 60 s TIME_WAIT timer — visible in the \
            time-wait socket's remaining time (sock_diag), which goes back up.
            """,
        claim: "If the final ACK is lost the passive side retransmits its FIN; the TIME_WAIT side acknowledges it again and restarts 2MSL (000, 002, 004)."
    ) {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.16.0/24")
        Drop(.finAck, at: .link(from: "client", to: "server"), .nth(1), name: "final ACK")
        // The server closes 0.1 s after the end of file, so its ACK of the client's FIN leaves
        // well before its own FIN. Sent microseconds apart from two CPUs, the two can arrive
        // swapped: the client's re-ACK of the late ACK would then end LAST_ACK before any
        // retransmission.
        Peer("server", on: "server", .listen(port: 8080), .accept, .readToEnd, .sleep(0.1), .close, .hold)
        WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
        Peer("client", on: "client", .connect(to: "server", port: 8080), .sleep(0.1), .close, .hold)
        WaitFor(.connection(on: "server", port: 8080), in: .close, timeout: 5)
        Wait(0.2)
        Expect.fault("final ACK", acted: .equals(1))
        Expect.counter("TcpRetransSegs", on: "server", .equals(1))
        Expect.socket(.connection(on: "server", port: 8080), passesThrough: [.lastAck, .close])
        Expect.socket(.connection(on: "client", port: 8080), restartsTimerIn: .timeWait)
        Expect.socket(.connection(on: "client", port: 8080), endsIn: .timeWait)
    }
}
