import Netfault

extension Catalog {
    static let lostData = Scenario(
        "K3", "Lost data is retransmitted",
        summary: """
            200 kB cross a link with 10 ms delay and 2 % loss (netem where the kernel has it, the \
            precise backend otherwise), and the tenth data segment is dropped on purpose besides. \
            TCP retransmits what was lost — by fast retransmit after duplicate ACKs or after the \
            retransmission timeout — and every byte arrives in order.
            """,
        claim: "Lost data is retransmitted.",
        timeLimit: 30
    ) {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.33.0/24")
        Impair(from: "client", to: "server", delay: 0.01, loss: 2)
        Drop(.data, at: .link(from: "client", to: "server"), .nth(10), name: "tenth data segment")
        Peer("server", on: "server", .listen(port: 8080), .accept, .read(bytes: 200_000), .close)
        WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
        Peer("client", on: "client", .connect(to: "server", port: 8080), .write(bytes: 200_000), .readToEnd, .close)
        WaitFor(exitOf: "client", timeout: 25)
        Expect.fault("tenth data segment", acted: .equals(1))
        Expect.counter("TcpRetransSegs", on: "client", .atLeast(1))
        Expect.peer("server", succeeds: "read", result: 200_000)
        Expect.exitStatus(of: "client", is: 0)
    }
}
