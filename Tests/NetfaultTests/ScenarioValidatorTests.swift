import NetfaultKernel
import Testing
@testable import Netfault

/// One test per kind of bad input: the message text and the line it is reported at.
/// Scenarios are built in the test file, so `#line` tells which line each element sits on.
@Suite struct ScenarioValidatorTests {
    /// The only error of `scenario`, which must be exactly one.
    private func onlyError(_ scenario: Scenario, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> ScenarioError {
        let errors = ScenarioValidator.validate(scenario)
        #expect(errors.count == 1, "expected exactly one error, got \(errors)", sourceLocation: sourceLocation)
        return try #require(errors.first, sourceLocation: sourceLocation)
    }

    @Test func validScenarioHasNoErrors() {
        let scenario = Scenario("OK-1", "valid") {
            Host("client")
            Host("router", forwarding: true)
            Host("server")
            Link("client", "router", subnet: "10.77.201.0/24", ipv6Subnet: "fd77:201::/64", mtu: 1400)
            Link("router", "server", subnet: "10.77.202.0/24", ipv6Subnet: "fd77:202::/64")
            Sysctl("server", "net.ipv4.tcp_fin_timeout", 5)
            Sysctl("client", "net.core.somaxconn", 16)
            Peer("server", on: "server", .listen(port: 8080), .accept, .read(bytes: 5), .close)
            WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
            Peer("client", on: "client", .connect(to: "server", port: 8080, timeout: 1), .write(bytes: 5), .close)
            Peer("client6", on: "client", .connect(to: "server", port: 8080, ipv6: true), .close)
            Wait(0.1)
            WaitFor(exitOf: "client", timeout: 5)
            Expect.socket(.connection(on: "client", port: 8080), reaches: .established, within: 0.5)
            Expect.sockets(on: "server", in: .timeWait, count: .equals(0))
            Expect.peer("client", succeeds: "connect")
            Expect.exitStatus(of: "server", is: 0)
            Expect.counter("TcpOutRsts", on: "server", .equals(0))
        }
        #expect(ScenarioValidator.validate(scenario) == [])
    }

    @Test(arguments: [
        (PeerStep.sendDatagram(to: "b", port: 53, bytes: 65508), "peer p: a datagram holds 0...65507 bytes, not 65508"),
        (.sendDatagram(to: "b", port: 0, bytes: 1), "peer p: sendDatagram port 0 is outside 1...65535"),
        (.udpBind(port: 70000), "peer p: udpBind port 70000 is outside 1...65535"),
        (.receiveDatagram(timeout: 0), "peer p: receiveDatagram timeout must be positive"),
        (.userTimeout(0), "peer p: user timeout must be at least 1 ms and at most 2147483647 ms"),
        (.userTimeout(0.0004), "peer p: user timeout must be at least 1 ms and at most 2147483647 ms"),
        (.userTimeout(3e6), "peer p: user timeout must be at least 1 ms and at most 2147483647 ms"),
    ])
    func badStepValues(step: PeerStep, message: String) throws {
        let scenario = Scenario("U", "u") {
            Host("a")
            Host("b")
            Link("a", "b", subnet: "10.77.203.0/24")
            Peer("p", on: "a", step)
        }
        #expect(try onlyError(scenario).message == message)
    }

    @Test func twoHostsWithOneName() throws {
        let top = #line
        let scenario = Scenario("T", "t") {
            Host("a")
            Host("a")
        }
        let error = try onlyError(scenario)
        #expect(error.message == "two hosts named \"a\" (the first at line \(top + 2))")
        #expect(error.location.line == top + 3)
        #expect(error.location.file == #filePath)
    }

    @Test func oneAddressOnTwoHosts() {
        let top = #line
        let scenario = Scenario("T", "t") {
            Host("a"); Host("b"); Host("c"); Host("d")
            Link("a", "b", subnet: "10.77.1.0/24")
            Link("c", "d", subnet: "10.77.1.0/24")
        }
        let errors = ScenarioValidator.validate(scenario)
        #expect(errors.map(\.message) == [
            "subnet 10.77.1.0/24 overlaps 10.77.1.0/24 of the link a — b (line \(top + 3)): address 10.77.1.1 would be on two hosts",
        ])
        #expect(errors.map(\.location.line) == [top + 4])
    }

    @Test func oneIPv6AddressOnTwoHosts() {
        let top = #line
        let scenario = Scenario("T", "t") {
            Host("a"); Host("b"); Host("c")
            Link("a", "b", ipv6Subnet: "fd77:5::/64")
            Link("c", "d", ipv6Subnet: "fd77:5::/80")
            Host("d")
        }
        let errors = ScenarioValidator.validate(scenario)
        #expect(errors.map(\.message) == [
            "subnet fd77:5::/80 overlaps fd77:5::/64 of the link a — b (line \(top + 3)): address fd77:5::1 would be on two hosts",
        ])
        #expect(errors.map(\.location.line) == [top + 4])
    }

    /// The same subnet twice on one host: b would hold .2 on two interfaces.
    @Test func oneAddressTwiceOnOneHost() {
        let top = #line
        let scenario = Scenario("T", "t") {
            Host("a"); Host("b"); Host("c")
            Link("a", "b", subnet: "10.77.5.0/24")
            Link("c", "b", subnet: "10.77.5.0/25")
        }
        let errors = ScenarioValidator.validate(scenario)
        #expect(errors.map(\.message) == [
            "subnet 10.77.5.0/25 overlaps 10.77.5.0/24 of the link a — b (line \(top + 3)): address 10.77.5.1 would be on two hosts",
        ])
        #expect(errors.map(\.location.line) == [top + 4])
    }

    /// Links made in a loop share one source line; the overlap is still found.
    @Test func sameSubnetTwiceFromALoopIsAnError() {
        let scenario = Scenario("T", "t") {
            Host("a"); Host("b")
            for _ in 0..<2 { Link("a", "b", subnet: "10.77.1.0/24") }
        }
        let errors = ScenarioValidator.validate(scenario)
        #expect(errors.count == 1)
        #expect(errors.first?.message.hasPrefix("subnet 10.77.1.0/24 overlaps 10.77.1.0/24") == true, "\(errors)")
    }

    @Test func linkToUnknownHost() throws {
        let top = #line
        let scenario = Scenario("T", "t") {
            Host("a")
            Link("a", "ghost", subnet: "10.77.1.0/24")
        }
        let error = try onlyError(scenario)
        #expect(error.message == "link names unknown host \"ghost\"")
        #expect(error.location.line == top + 3)
    }

    @Test func linkFromAHostToItself() throws {
        let top = #line
        let scenario = Scenario("T", "t") {
            Host("a")
            Link("a", "a", subnet: "10.77.1.0/24")
        }
        let error = try onlyError(scenario)
        #expect(error.message == "a link needs two different hosts, not \"a\" twice")
        #expect(error.location.line == top + 3)
    }

    @Test(arguments: [
        ("10.78.1.0/24", false, "subnet 10.78.1.0/24 is outside 10.77.0.0/16, the range netfault keeps its test traffic in"),
        ("10.77.0.0/8", false, "subnet 10.77.0.0/8 is outside 10.77.0.0/16, the range netfault keeps its test traffic in"),
        ("192.168.1.0/24", false, "subnet 192.168.1.0/24 is outside 10.77.0.0/16, the range netfault keeps its test traffic in"),
        ("fd78:1::/64", true, "subnet fd78:1::/64 is outside fd77::/16, the range netfault keeps its test traffic in"),
        ("2001:db8::/64", true, "subnet 2001:db8::/64 is outside fd77::/16, the range netfault keeps its test traffic in"),
    ])
    func subnetOutsideTheTestRange(subnet: String, ipv6: Bool, message: String) throws {
        let top = #line
        let scenario = Scenario("T", "t") {
            Host("a"); Host("b")
            Link("a", "b", subnet: ipv6 ? nil : subnet, ipv6Subnet: ipv6 ? subnet : nil)
        }
        let error = try onlyError(scenario)
        #expect(error.message == message)
        #expect(error.location.line == top + 3)
    }

    @Test func slash31IsTooSmall() throws {
        let top = #line
        let scenario = Scenario("T", "t") {
            Host("a"); Host("b")
            Link("a", "b", subnet: "10.77.1.0/31")
        }
        let error = try onlyError(scenario)
        #expect(error.message == "subnet 10.77.1.0/31 is too small for two hosts")
        #expect(error.location.line == top + 3)
    }

    @Test func slash30IsLargeEnough() {
        let scenario = Scenario("T", "t") {
            Host("a"); Host("b")
            Link("a", "b", subnet: "10.77.1.0/30")
        }
        #expect(ScenarioValidator.validate(scenario) == [])
    }

    @Test func mtu40() throws {
        let top = #line
        let scenario = Scenario("T", "t") {
            Host("a"); Host("b")
            Link("a", "b", subnet: "10.77.1.0/24", mtu: 40)
        }
        let error = try onlyError(scenario)
        #expect(error.message == "MTU 40 is outside 68...65535")
        #expect(error.location.line == top + 3)
    }

    @Test func ipv6LinkNeedsMTU1280() throws {
        let top = #line
        let scenario = Scenario("T", "t") {
            Host("a"); Host("b")
            Link("a", "b", ipv6Subnet: "fd77:1::/64", mtu: 1000)
        }
        let error = try onlyError(scenario)
        #expect(error.message == "MTU 1000 is outside 1280...65535")
        #expect(error.location.line == top + 3)
    }

    @Test func routeViaAHostThatSharesNoLink() throws {
        let top = #line
        let scenario = Scenario("T", "t") {
            Host("a"); Host("b"); Host("c")
            Link("a", "b", subnet: "10.77.1.0/24")
            Link("b", "c", subnet: "10.77.2.0/24")
            Route("a", to: "10.77.2.0/24", via: "c")
        }
        let error = try onlyError(scenario)
        #expect(error.message == "route on a via c: the two hosts share no link")
        #expect(error.location.line == top + 5)
    }

    @Test(arguments: ["kernel.pid_max", "vm.swappiness", "net.ipv4", "net.bridge.bridge-nf-call-iptables", "net.ipv4..x"])
    func sysctlOutsideTheNamespacedTrees(name: String) throws {
        let top = #line
        let scenario = Scenario("T", "t") {
            Host("a")
            Sysctl("a", name, 1)
        }
        let error = try onlyError(scenario)
        #expect(error.message == "\"\(name)\" is not a per-namespace net.ipv4.*, net.ipv6.* or net.core.* sysctl")
        #expect(error.location.line == top + 3)
    }

    @Test func portAlreadyInUse() throws {
        let top = #line
        let scenario = Scenario("T", "t") {
            Host("a")
            Peer("one", on: "a", .listen(port: 8080), .hold)
            Peer("two", on: "a", .listen(port: 8080), .hold)
        }
        let error = try onlyError(scenario)
        #expect(error.message == "port 8080 on a is already in use by the listener at line \(top + 3)")
        #expect(error.location.line == top + 4)
    }

    @Test func samePortOnTwoHostsIsFine() {
        let scenario = Scenario("T", "t") {
            Host("a"); Host("b")
            Link("a", "b", subnet: "10.77.1.0/24")
            Peer("one", on: "a", .listen(port: 8080), .hold)
            Peer("two", on: "b", .listen(port: 8080), .hold)
        }
        #expect(ScenarioValidator.validate(scenario) == [])
    }

    @Test func missingProgram() throws {
        let top = #line
        let scenario = Scenario("T", "t") {
            Host("h")
            Command("x", on: "h", ["/nonexistent/prog"])
        }
        let error = try onlyError(scenario)
        #expect(error.message == "program \"/nonexistent/prog\" was not found (not an executable path, nor on PATH)")
        #expect(error.location.line == top + 3)
    }

    @Test func peerConnectsToUnknownHost() throws {
        let top = #line
        let scenario = Scenario("T", "t") {
            Host("a")
            Peer("client", on: "a", .connect(to: "nowhere", port: 80), .close)
        }
        let error = try onlyError(scenario)
        #expect(error.message == "peer client: connect: host \"nowhere\" has no IPv4 address")
        #expect(error.location.line == top + 3)
    }

    @Test func peerConnectsOverIPv6ToAHostWithoutIPv6() throws {
        let top = #line
        let scenario = Scenario("T", "t") {
            Host("a"); Host("b")
            Link("a", "b", subnet: "10.77.1.0/24")
            Peer("client", on: "a", .connect(to: "b", port: 80, ipv6: true), .close)
        }
        let error = try onlyError(scenario)
        #expect(error.message == "peer client: connect: host \"b\" has no IPv6 address")
        #expect(error.location.line == top + 4)
    }

    @Test func waitForExitOfAProcessNeverStarted() throws {
        let top = #line
        let scenario = Scenario("T", "t") {
            Host("a")
            WaitFor(exitOf: "ghost")
        }
        let error = try onlyError(scenario)
        #expect(error.message == "WaitFor(exitOf:) names \"ghost\", which no earlier step starts")
        #expect(error.location.line == top + 3)
    }

    @Test func waitForExitOfAProcessStartedOnlyLater() throws {
        let top = #line
        let scenario = Scenario("T", "t") {
            Host("a")
            WaitFor(exitOf: "late")
            Peer("late", on: "a", .sleep(0.01))
        }
        let error = try onlyError(scenario)
        #expect(error.message == "WaitFor(exitOf:) names \"late\", which no earlier step starts")
        #expect(error.location.line == top + 3)
    }

    @Test func expectationNamingAnUnknownHost() throws {
        let top = #line
        let scenario = Scenario("T", "t") {
            Host("a")
            Expect.socket(.connection(on: "ghost", port: 80), reaches: .established)
        }
        let error = try onlyError(scenario)
        #expect(error.message == "expectation names unknown host \"ghost\"")
        #expect(error.location.line == top + 3)
    }

    @Test func countAndCounterExpectationsNamingAnUnknownHost() {
        let top = #line
        let scenario = Scenario("T", "t") {
            Host("a")
            Expect.sockets(on: "ghost1", in: .timeWait, count: .equals(1))
            Expect.counter("TcpOutRsts", on: "ghost2", .atLeast(1))
        }
        let errors = ScenarioValidator.validate(scenario)
        #expect(errors.map(\.message) == ["expectation names unknown host \"ghost1\"", "expectation names unknown host \"ghost2\""])
        #expect(errors.map(\.location.line) == [top + 3, top + 4])
    }

    @Test func expectationNamingAnUnknownProcess() {
        let top = #line
        let scenario = Scenario("T", "t") {
            Host("a")
            Peer("real", on: "a", .sleep(0.01))
            Expect.exitStatus(of: "ghost", is: 0)
            Expect.peer("phantom", succeeds: "connect")
        }
        let errors = ScenarioValidator.validate(scenario)
        #expect(errors.map(\.message) == [
            "expectation names process \"ghost\", which no step starts",
            "expectation names process \"phantom\", which no step starts",
        ])
        #expect(errors.map(\.location.line) == [top + 4, top + 5])
    }

    @Test func repeatZero() throws {
        let top = #line
        let scenario = Scenario("T", "t") {
            Host("a")
            Peer("p", on: "a", .repeat(0, [.sleep(0.01)]))
        }
        let errors = ScenarioValidator.validate(scenario)
        // The DSL check; the peer's own parser may add its word-level message on the same line.
        let first = try #require(errors.first)
        #expect(first.message == "peer p: repeat count must be at least 1")
        #expect(!errors.isEmpty && errors.allSatisfy { $0.location.line == top + 3 })
        #expect(errors.count <= 2)
    }

    @Test func nestedRepeatZero() throws {
        let top = #line
        let scenario = Scenario("T", "t") {
            Host("a")
            Peer("p", on: "a", .repeat(2, [.sleep(0.01), .repeat(0, [.sleep(0.01)])]))
        }
        let first = try #require(ScenarioValidator.validate(scenario).first)
        #expect(first.message == "peer p: repeat count must be at least 1")
        #expect(first.location.line == top + 3)
    }

    @Test func beyondTheHostLimit() throws {
        let top = #line
        let scenario = Scenario("T", "t") {
            for index in 0..<65 { Host("h\(index)") }
        }
        let error = try onlyError(scenario)
        #expect(error.message == "65 hosts is beyond the limit of 64")
        #expect(error.message.contains("\(ScenarioValidator.maximumHosts)"))
        #expect(error.location.line == top + 1)
        #expect(error.location == scenario.location)
    }

    @Test func exactlyTheHostLimitIsFine() {
        let scenario = Scenario("T", "t") {
            for index in 0..<64 { Host("h\(index)") }
        }
        #expect(ScenarioValidator.validate(scenario) == [])
    }

    @Test func severalErrorsAreReportedTogether() {
        let top = #line
        let scenario = Scenario("T", "t") {
            Host("a")
            Host("a")
            Host("b")
            Link("a", "b", subnet: "10.77.1.0/24", mtu: 40)
            Sysctl("b", "kernel.pid_max", 100)
            Expect.exitStatus(of: "ghost", is: 0)
        }
        let errors = ScenarioValidator.validate(scenario)
        #expect(errors.map(\.message) == [
            "two hosts named \"a\" (the first at line \(top + 2))",
            "MTU 40 is outside 68...65535",
            "\"kernel.pid_max\" is not a per-namespace net.ipv4.*, net.ipv6.* or net.core.* sysctl",
            "expectation names process \"ghost\", which no step starts",
        ])
        #expect(errors.map(\.location.line) == [top + 3, top + 5, top + 6, top + 7])
        let invalid = InvalidScenario(scenarioID: "T", errors: errors)
        let lines = invalid.description.split(separator: "\n")
        #expect(lines.first == "scenario T is invalid:")
        #expect(lines.count == 5)
        #expect(lines[1] == "  Tests/NetfaultTests/ScenarioValidatorTests.swift:\(top + 3): two hosts named \"a\" (the first at line \(top + 2))")
    }

    @Test func errorDescriptionIsLocationThenMessage() throws {
        let top = #line
        let scenario = Scenario("T", "t") {
            Host("a")
            Link("a", "a", subnet: "10.77.1.0/24")
        }
        let error = try onlyError(scenario)
        #expect(error.description == "Tests/NetfaultTests/ScenarioValidatorTests.swift:\(top + 3): a link needs two different hosts, not \"a\" twice")
    }

    /// A bind takes the address family of the connect it prepares.
    @Test func bindBeforeAnIPv6ConnectBindsAnIPv6Wildcard() throws {
        let scenario = Scenario("T", "t") {
            Host("a"); Host("b")
            Link("a", "b", ipv6Subnet: "fd77:1::/64")
            Peer("client", on: "a", .bind(port: 5000), .connect(to: "b", port: 80, ipv6: true), .close)
        }
        #expect(ScenarioValidator.validate(scenario).isEmpty)
        let steps = try #require(scenario.steps.compactMap { if case .peer(let peer) = $0 { peer.steps } else { nil } }.first)
        #expect(try PeerWords.words(for: steps, plan: NetworkPlan(scenario)) == ["bind", "::", "5000", "connect", "fd77:1::2", "80", "close"])
    }

    /// The kernel refuses a route with host bits set; it is refused here first, at its line.
    @Test func routeDestinationWithHostBitsIsRejected() {
        let top = #line
        let scenario = Scenario("T", "t") {
            Host("a"); Host("b"); Host("c")
            Link("a", "b", subnet: "10.77.1.0/24")
            Link("b", "c", subnet: "10.77.2.0/24")
            Route("a", to: "10.77.2.5/24", via: "b")
        }
        let errors = ScenarioValidator.validate(scenario)
        #expect(errors.map(\.message) == ["route destination 10.77.2.5/24 has host bits set; did you mean 10.77.2.0/24?"])
        #expect(errors.map(\.location.line) == [top + 5])
    }
}
