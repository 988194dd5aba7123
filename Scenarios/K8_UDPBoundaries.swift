import Netfault

extension Catalog {
    static let udpBoundaries = Scenario(
        "K8", "UDP keeps message boundaries and never retransmits",
        summary: """
            The client sends five 9000-byte datagrams while the server is not reading, then three \
            small ones (100, 200, 300 bytes) while it is. The link's MTU is 1500, so each big datagram \
            leaves as 7 IP fragments and is reassembled into one. The server's receive buffer \
            (SO_RCVBUF 4096, which the kernel doubles to 8192) holds one of them: the kernel drops the \
            other four (UdpRcvbufErrors), and nothing tells the sender — it sends 8 datagrams, never \
            one again. Each recvfrom returns exactly one datagram, whole: 9000, then 100, 200 and \
            300 bytes, never merged, never split. Where a TCP sender would retransmit, UDP loses.
            """,
        claim: "UDP keeps message boundaries and does not retransmit."
    ) {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.48.0/24")
        // A queued datagram costs its buffer's true size, more than its 9000 bytes, so the first
        // big one fills the 8192-byte buffer and every later one is dropped until it is read:
        // exactly one of the five is kept, on any kernel.
        // The server reads 1 s after binding, the client sends its big datagrams 0.2 s after
        // that bind: a process starting 0.8 s late on a loaded machine would still fit.
        Peer("server", on: "server", .receiveBuffer(4096), .udpBind(port: 5353), .sleep(1),
             .receiveDatagram(timeout: 0.2), .receiveDatagram(timeout: 0.2),
             .repeat(3, [.receiveDatagram(timeout: 3)]))
        Wait(0.2)
        Peer("client", on: "client",
             .repeat(5, [.sendDatagram(to: "server", port: 5353, bytes: 9000)]),
             // After the server read the one it kept and found nothing more (~1.2 s after its
             // bind); had it not finished looking, the small ones would still come in order.
             .sleep(1.4),
             .sendDatagram(to: "server", port: 5353, bytes: 100), .sleep(0.05),
             .sendDatagram(to: "server", port: 5353, bytes: 200), .sleep(0.05),
             .sendDatagram(to: "server", port: 5353, bytes: 300))
        WaitFor(exitOf: "server", timeout: 5)
        Expect.peer("server", results: "recvfrom", are: [9000, 100, 200, 300])
        Expect.counter("UdpOutDatagrams", on: "client", .equals(8))
        Expect.counter("IpFragCreates", on: "client", .equals(35))
        Expect.counter("IpReasmOKs", on: "server", .equals(5))
        Expect.counter("UdpRcvbufErrors", on: "server", .equals(4))
        Expect.counter("UdpInDatagrams", on: "server", .equals(4))
        Expect.exitStatus(of: "client", is: 0)
        Expect.exitStatus(of: "server", is: 0)
    }
}
