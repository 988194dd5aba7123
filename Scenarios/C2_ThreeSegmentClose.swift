import Netfault

extension Catalog {
    static let threeSegmentClose = Scenario(
        "C2", "Close in three segments when the passive side closes at once",
        summary: """
            Two identical request/response exchanges; then each client closes. Server "prompt" \
            reads end-of-file and closes at once: its FIN leaves carrying the (delayed) ACK of the \
            client's FIN, one segment for its half of the close. Server "late" waits 200 ms before \
            closing, so the ACK leaves on its own first: one segment more. Counted with each \
            server's TcpOutSegs; everything else the two servers send is the same.
            """,
        claim: "With delayed ACK and nothing left to send, the close takes three segments: FIN, FIN+ACK, ACK (002)."
    ) {
        Host("client1")
        Host("prompt")
        Host("client2")
        Host("late")
        Link("client1", "prompt", subnet: "10.77.12.0/24")
        Link("client2", "late", subnet: "10.77.112.0/24")
        Peer("prompt", on: "prompt", .listen(port: 8080), .accept, .read(bytes: 10), .write(bytes: 10), .readToEnd, .close, .hold)
        Peer("late", on: "late", .listen(port: 8080), .accept, .read(bytes: 10), .write(bytes: 10), .readToEnd,
             .sleep(0.2), .close, .hold)
        WaitFor(.listener(on: "late", port: 8080), in: .listen, timeout: 2)
        Peer("client1", on: "client1", .connect(to: "prompt", port: 8080), .write(bytes: 10), .read(bytes: 10),
             .sleep(0.1), .close, .hold)
        Peer("client2", on: "client2", .connect(to: "late", port: 8080), .write(bytes: 10), .read(bytes: 10),
             .sleep(0.1), .close, .hold)
        WaitFor(.connection(on: "client2", port: 8080), in: .timeWait, timeout: 3)
        Wait(0.05)
        // prompt: SYN-ACK, ACK of the request (quick-ACK mode at start), response, FIN+ACK.
        Expect.counter("TcpOutSegs", on: "prompt", .equals(4))
        // late: the same, but the ACK of the client's FIN and its own FIN leave apart.
        Expect.counter("TcpOutSegs", on: "late", .equals(5))
        Expect.socket(.connection(on: "client1", port: 8080), endsIn: .timeWait)
        Expect.socket(.connection(on: "client2", port: 8080), endsIn: .timeWait)
    }
}
