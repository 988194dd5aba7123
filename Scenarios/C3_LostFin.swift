import Netfault

extension Catalog {
    static let lostFin = Scenario(
        "C3", "FIN lost: retransmitted, and an orphan gives up",
        summary: """
            The client closes while every FIN it sends is dropped. Its socket, orphaned by close(), \
            stays in FIN_WAIT1 and sends the FIN again: a tail loss probe after about 200 ms, then \
            retransmissions with the timeout doubling from 200 ms (measured on 6.18: 0, 0.205, 0.41, \
            0.85, 1.68 s). With tcp_orphan_retries=2 (0 means 8) it gives up after a few seconds \
            and disappears without ever reaching FIN_WAIT2; with the default it would take minutes.
            """,
        claim: "A lost FIN is retransmitted; after too many retries the closer goes to CLOSED (002, 004).",
        timeLimit: 15
    ) {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.13.0/24")
        Sysctl("client", "net.ipv4.tcp_orphan_retries", 2)
        Drop(.fin, at: .link(from: "client", to: "server"), name: "client FINs")
        Peer("server", on: "server", .listen(port: 8080), .accept, .hold)
        WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
        // ESTABLISHED held 0.5 s: with 11 scenarios at once on 2 CPUs, 0.1 s once passed unsampled.
        Peer("client", on: "client", .connect(to: "server", port: 8080), .sleep(0.5), .close)
        WaitFor(.connection(on: "client", port: 8080), in: .close, timeout: 8)
        Expect.fault("client FINs", acted: .atLeast(3))
        Expect.segments(.fin, from: "client", count: .atLeast(3))
        Expect.sameSequence(of: "client FINs")
        Expect.socket(.connection(on: "client", port: 8080), passesThrough: [.established, .finWait1, .close])
        Expect.socket(.connection(on: "client", port: 8080), neverIn: .finWait2)
        // Gone within seconds, not the minutes of the default 8 orphan retries.
        Expect.socket(.connection(on: "client", port: 8080), reaches: .close, within: 6)
        Expect.socket(.connection(on: "server", port: 8080), endsIn: .established)
    }
}
