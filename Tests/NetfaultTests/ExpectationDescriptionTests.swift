import Testing
@testable import Netfault

/// An expectation says what it checks before anything runs (`netfault show`), and its
/// result after the run says the same.
@Suite struct ExpectationDescriptionTests {
    @Test func describesBeforeARunInTheResultsWords() {
        let cases: [(Netfault.Expectation, String)] = [
            (Expect.peer("client", fails: "connect", with: "ECONNREFUSED", tookAtMost: 0.2), "client: connect fails with ECONNREFUSED"),
            (Expect.peer("server", succeeds: "read", result: 3), "server: read succeeds with result 3"),
            (Expect.exitStatus(of: "client", is: 1), "client exits with status 1"),
            (Expect.counter("TcpOutRsts", on: "server", .equals(1)), "server: counter TcpOutRsts changes by 1"),
            (Expect.sockets(on: "server", in: .timeWait, port: 8080, count: .atLeast(1)),
             "sockets on server in TIME_WAIT with port 8080 at the end"),
            (Expect.fault("lost SYNs", acted: .equals(8)), "fault \"lost SYNs\" acts on 8 segments"),
            (Expect.sameSequence(of: "lost SYNs"), "fault \"lost SYNs\" acts on one sequence number"),
            (Expect.fault("lost SYNs", actedAt: .synRetransmissions(on: "client"), givingUp: PeerCall("client", "connect")),
             "fault \"lost SYNs\" acts at client's SYN retransmission schedule, then client's connect fails"),
            (Expect.segments(.rst, from: "server", count: .equals(0)), "no RST from server"),
        ]
        for (expectation, text) in cases {
            #expect(expectation.kind.description == text)
            // Judged against a recording of nothing, the result still says what was checked.
            let result = ExpectationEvaluator.evaluate(expectation, against: Recording())
            #expect(result.description == text)
            #expect(!result.passed || text.hasPrefix("no "), "\(text): nothing was recorded")
        }
    }
}
