// Timing expectations: schedules computed from the namespace's sysctls, asymmetric tolerances.
import Netfault

/// Sub-millisecond states judged against their round trip: never early, 20 ms late at most
/// (the answer may wait in the socket's backlog while connect() holds the socket).
let roundTripEnds = Tolerance(early: 0, lateMinimum: 0.02, lateFraction: 0)

let lostSyn = Scenario("lost-syn", "Every SYN is lost") {
    Host("client")
    Host("server")
    Link("client", "server", subnet: "10.77.251.0/24")
    Drop(.syn, at: .link(from: "client", to: "server"))
    Peer("client", on: "client", .connect(to: "server", port: 8080))
    WaitFor(exitOf: "client", timeout: 30)
    // Offsets from the first SYN, from tcp_syn_retries and tcp_syn_linear_timeouts (6.5+).
    Expect.segments(.syn, from: "client", at: .synRetransmissions(on: "client"), givingUp: PeerCall("client", "connect"))
    Expect.delay(from: .segment(.syn, from: "client", occurrence: 1), to: .segment(.syn, from: "client", occurrence: 2), is: 1)
}

let handshake = Scenario("handshake", "SYN_SENT lasts one round trip") {
    Host("client")
    Host("server")
    Link("client", "server", subnet: "10.77.252.0/24")
    Peer("server", on: "server", .listen(port: 8080), .accept, .hold)
    WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
    Peer("client", on: "client", .connect(to: "server", port: 8080), .hold)
    WaitFor(.connection(on: "client", port: 8080), in: .established, timeout: 2)
    Expect.socket(.connection(on: "client", port: 8080), staysExactlyIn: .synSent, from: .segment(.syn, from: "client"),
                  until: .arrival(.synAck, at: "client"), tolerance: roundTripEnds)
}
// snippet.hide
_ = (lostSyn, handshake)
