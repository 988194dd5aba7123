import Foundation
import Netfault

/// socat half-closes: the client sends one line and, at the end of its input, shuts down
/// writing (a FIN), yet goes on reading; the server reads to that end, then still sends
/// three lines and closes. The client's side waits in FIN_WAIT2 while data keeps arriving.
public let socatHalfClose = Scenario("EX3", "socat half-closes: its FIN goes out, and the server's data still comes in") {
    Host("client")
    Host("server")
    Link("client", "server", subnet: "10.77.103.0/24")             // client .1, server .2
    // -t 5: after one direction ends, socat keeps the other open up to 5 s (0.5 s by default).
    Command("server", on: "server", ["socat", "-t", "5", "TCP-LISTEN:7000,bind=10.77.103.2,reuseaddr",
                                     "SYSTEM:cat >/dev/null; for i in 1 2 3; do echo tick $i; sleep 0.2; done"])
    WaitFor(.listener(on: "server", port: 7000), in: .listen, timeout: 10)
    Command("client", on: "client", ["socat", "-t", "5", "-", "TCP:10.77.103.2:7000"], input: .text("hello\n"))
    WaitFor(exitOf: "client", timeout: 10)
    Expect.process("client", exits: 0)
    Expect.output(of: "client", contains: "tick 3")
    // ESTABLISHED lasts ~3 ms here (connect, write, shutdown): too short to be sure of a sample.
    Expect.socket(.connection(on: "client", port: 7000), passesThrough: [.finWait2, .timeWait])
    Expect.socket(.connection(on: "server", port: 7000), reaches: .closeWait)
    Expect.that("the server sent its three lines after the client's FIN") { result in
        let sent = result.segments.filter { $0.host == "server" && $0.direction == "out" }
        guard let clientFIN = result.segments.first(where: { $0.host == "client" && $0.direction == "out"
                                                             && $0.flags.contains("F") }) else {
            return .fail("the client sent no FIN")
        }
        let after = sent.filter { $0.length > 0 && $0.time > clientFIN.time }
        let observed = "\(after.count) data segments from the server after the client's FIN at "
            + String(format: "%.3f s", clientFIN.time)
        return after.count >= 3 ? .pass(observed) : .fail(observed)
    }
}
