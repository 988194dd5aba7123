import NetfaultKernel
import Testing
@testable import Netfault

@Suite struct PeerWordsTests {
    private static let scenario = Scenario("W", "words") {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.1.0/24", ipv6Subnet: "fd77:1::/64")
    }
    private let plan = NetworkPlan(scenario)

    private func words(_ steps: PeerStep...) throws -> [String] {
        try PeerWords.words(for: steps, plan: plan)
    }

    @Test(arguments: [
        (PeerStep.listen(port: 8080), ["listen", "0.0.0.0", "8080", "128"]),
        (.listen(port: 8080, backlog: 3), ["listen", "0.0.0.0", "8080", "3"]),
        (.listen(port: 443, backlog: 0, ipv6: true), ["listen", "::", "443", "0"]),
        (.accept, ["accept"]),
        (.connect(to: "server", port: 8080), ["connect", "10.77.1.2", "8080"]),
        (.connect(to: "client", port: 1), ["connect", "10.77.1.1", "1"]),
        (.connect(to: "server", port: 8080, ipv6: true), ["connect", "fd77:1::2", "8080"]),
        (.connect(to: "10.77.9.9", port: 80), ["connect", "10.77.9.9", "80"]),
        (.connect(to: "fd77:9::9", port: 80, ipv6: true), ["connect", "fd77:9::9", "80"]),
        (.connect(to: "server", port: 9, timeout: 1.5), ["connect", "10.77.1.2", "9", "1500"]),
        (.connect(to: "server", port: 9, timeout: 0.25), ["connect", "10.77.1.2", "9", "250"]),
        (.connect(to: "server", port: 9, timeout: 0.0006), ["connect", "10.77.1.2", "9", "1"]),
        (.bind(port: 5000), ["bind", "0.0.0.0", "5000"]),
        (.write(bytes: 5), ["write", "5", "1", "0"]),
        (.write(bytes: 1000, writes: 10, pause: 0.25), ["write", "1000", "10", "250"]),
        (.write(bytes: 4, writes: 2, pause: 0.0014), ["write", "4", "2", "1"]),
        (.read(bytes: 5), ["read", "5"]),
        (.readToEnd, ["read-eof"]),
        (.sleep(0.05), ["sleep", "50"]),
        (.sleep(2), ["sleep", "2000"]),
        (.sleep(0.0004), ["sleep", "0"]),
        (.noDelay, ["nodelay"]),
        (.keepalive(idle: 1, interval: 2, count: 3), ["keepalive", "1", "2", "3"]),
        (.lingerZero, ["linger0"]),
        (.receiveBuffer(4096), ["rcvbuf", "4096"]),
        (.userTimeout(1.5), ["user-timeout", "1500"]),
        (.shutdownWrite, ["shutdown-wr"]),
        (.close, ["close"]),
        (.closeListener, ["close-listener"]),
        (.hold, ["hold"]),
        (.exit(), ["exit", "0"]),
        (.exit(status: 3), ["exit", "3"]),
        (.udpBind(port: 5353), ["udp-bind", "0.0.0.0", "5353"]),
        (.udpBind(port: 53, ipv6: true), ["udp-bind", "::", "53"]),
        (.sendDatagram(to: "server", port: 5353, bytes: 9000), ["sendto", "10.77.1.2", "5353", "9000"]),
        (.sendDatagram(to: "server", port: 53, bytes: 0, ipv6: true), ["sendto", "fd77:1::2", "53", "0"]),
        (.receiveDatagram(), ["recvfrom", "1000"]),
        (.receiveDatagram(timeout: 0.0001), ["recvfrom", "1"]),
    ] as [(PeerStep, [String])])
    func eachStepsWords(step: PeerStep, expected: [String]) throws {
        #expect(try words(step) == expected)
    }

    @Test func stepsAreConcatenatedInOrder() throws {
        #expect(try words(.listen(port: 80), .accept, .read(bytes: 5), .close) ==
                ["listen", "0.0.0.0", "80", "128", "accept", "read", "5", "close"])
    }

    @Test func repeatIsClosedWithEnd() throws {
        #expect(try words(.repeat(3, [.sleep(0.01)])) == ["repeat", "3", "sleep", "10", "end"])
    }

    @Test func nestedRepeats() throws {
        let result = try words(
            .listen(port: 80),
            .repeat(2, [.accept, .repeat(3, [.read(bytes: 1)]), .close]),
            .closeListener
        )
        #expect(result == ["listen", "0.0.0.0", "80", "128",
                           "repeat", "2", "accept", "repeat", "3", "read", "1", "end", "close", "end",
                           "close-listener"])
    }

    @Test func repeatBodyResolvesHosts() throws {
        #expect(try words(.repeat(2, [.connect(to: "server", port: 7), .close])) ==
                ["repeat", "2", "connect", "10.77.1.2", "7", "close", "end"])
    }

    @Test func unknownHostThrowsWithItsName() {
        #expect {
            try words(.connect(to: "nowhere", port: 80))
        } throws: { error in
            (error as? PeerWords.Unresolved)?.message == "connect: host \"nowhere\" has no IPv4 address"
        }
        #expect {
            try words(.repeat(2, [.connect(to: "nowhere", port: 80, ipv6: true), .close]))
        } throws: { error in
            (error as? PeerWords.Unresolved)?.message == "connect: host \"nowhere\" has no IPv6 address"
        }
    }

    @Test func ipv4OnlyHostHasNoIPv6Address() {
        let scenario = Scenario("W", "words") {
            Host("a"); Host("b")
            Link("a", "b", subnet: "10.77.1.0/24")
        }
        #expect(throws: PeerWords.Unresolved.self) {
            try PeerWords.words(for: [.connect(to: "b", port: 1, ipv6: true)], plan: NetworkPlan(scenario))
        }
    }

    /// The words are what the peer's own parser reads: a realistic script must parse.
    @Test func wordsParseAsAPeerScript() throws {
        let script = try PeerScript(try words(
            .noDelay, .keepalive(idle: 10, interval: 5, count: 3), .receiveBuffer(65536), .lingerZero,
            .listen(port: 8080, backlog: 4),
            .repeat(2, [.accept, .read(bytes: 5), .write(bytes: 100, writes: 4, pause: 0.01), .shutdownWrite, .readToEnd, .close]),
            .closeListener,
            .bind(port: 0), .connect(to: "server", port: 9, timeout: 0.5), .close,
            .sleep(0.01), .exit(status: 2)
        ))
        #expect(script.words.first == "nodelay")
        #expect(script.words.last == "2")
    }
}
