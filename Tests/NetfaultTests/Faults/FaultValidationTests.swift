import Testing
@testable import Netfault

/// Bad faults and impairments: the message and the line it is reported at.
@Suite struct FaultValidationTests {
    func errors(@ScenarioBuilder _ body: () -> [ScenarioElement]) -> [ScenarioError] {
        ScenarioValidator.validate(Scenario("F", "faults") {
            Host("client")
            Host("server")
            Host("lonely")
            Link("client", "server", subnet: "10.77.95.0/24")
            body()
        })
    }

    /// The only error, its line, and that its message contains `text`.
    func expectOnly(_ errors: [ScenarioError], at line: Int, _ text: String,
                    sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        #expect(errors.count == 1, "\(errors)", sourceLocation: sourceLocation)
        #expect(errors.first?.location.line == line, sourceLocation: sourceLocation)
        #expect(errors.first?.message.contains(text) == true, "\(errors.first?.message ?? "none")", sourceLocation: sourceLocation)
    }

    @Test func validFaultsPass() {
        let found = errors {
            Drop(.synAck, at: .link(from: "server", to: "client"), .nth(2))
            Delay(.fin, by: 0.3, at: .egress(of: "client"), .first(1))
            Duplicate(.data, at: .ingress(of: "server"), .everyNth(3), port: 8080)
            Reorder(.data, releaseAfter: 2, at: .link(from: "client", to: "server"), .afterNth(1))
            Partition("client", "server", from: 1, to: 2)
            Blackhole("server", from: 3)
            Impair(from: "client", to: "server", delay: 0.02, jitter: 0.005, loss: 5, lossCorrelation: 25, rate: 10_000_000)
            Expect.fault("partition client from server from 1.0 s to 2.0 s", acted: .atLeast(0))
        }
        #expect(found == [])
    }

    @Test func unknownHostInAFault() {
        let line = #line + 1
        expectOnly(errors { Drop(.syn, at: .egress(of: "nobody")) }, at: line, "names unknown host \"nobody\"")
    }

    @Test func faultOnALinkThatDoesNotExist() {
        let line = #line + 1
        expectOnly(errors { Drop(.syn, at: .link(from: "client", to: "lonely")) }, at: line, "no link between client and lonely")
    }

    @Test func occurrenceZero() {
        let line = #line + 1
        expectOnly(errors { Drop(.syn, at: .egress(of: "client"), .nth(0)) }, at: line, "must count from 1")
    }

    @Test func negativeDelay() {
        let line = #line + 1
        expectOnly(errors { Delay(.fin, by: -0.1, at: .egress(of: "client")) }, at: line, "delay must be zero or more seconds")
    }

    @Test func negativeImpairmentRate() {
        let line = #line + 1
        expectOnly(errors { Impair(from: "client", to: "server", rate: -5) }, at: line, "rate must be a positive number")
    }

    @Test func netemWouldRejectReorderWithoutDelay() {
        let line = #line + 1
        expectOnly(errors { Impair(from: "client", to: "server", reorder: 25) }, at: line, "reorder needs a delay")
    }

    @Test func lossOutsidePercentRange() {
        let line = #line + 1
        expectOnly(errors { Impair(from: "client", to: "server", loss: 120) }, at: line, "outside 0…100")
    }

    @Test func twoImpairmentsOfOneDirection() {
        let line = #line + 3
        expectOnly(errors {
            Impair(from: "client", to: "server", loss: 1)
            Impair(from: "client", to: "server", delay: 0.1)
        }, at: line, "a second impairment of client→server")
    }

    @Test func partitionOfAHostWithItself() {
        let line = #line + 1
        expectOnly(errors { Partition("client", "client") }, at: line, "two different hosts")
    }

    @Test func duplicateFaultNames() {
        let line = #line + 3
        expectOnly(errors {
            Drop(.syn, at: .egress(of: "client"))
            Drop(.syn, at: .egress(of: "client"))
        }, at: line, "two faults named")
    }

    @Test func expectationOnAnUnknownFault() {
        let line = #line + 1
        expectOnly(errors { Expect.fault("ghost", acted: .equals(1)) }, at: line, "names fault \"ghost\"")
    }

    @Test func reorderNeedsALaterSegment() {
        let line = #line + 1
        expectOnly(errors { Reorder(.data, releaseAfter: 0, at: .egress(of: "client")) }, at: line, "at least 1 later segment")
    }
}

/// Delays fq cannot hold are rejected on every kernel, with the line.
@Suite struct FaultHorizonValidationTests {

    @Test func aDelayBeyondFQsHorizon() {
        let line = #line + 6
        let found = ScenarioValidator.validate(Scenario("F", "faults") {
            Host("client")
            Host("server")
            Link("client", "server", subnet: "10.77.95.0/24")
            Delay(.syn, by: 4293, at: .egress(of: "client"), name: "fits")
            Delay(.syn, by: 4300, at: .egress(of: "client"), name: "too long")
            Impair(from: "server", to: "client", delay: 4294, jitter: 1)
        })
        #expect(found.map(\.location.line) == [line, line + 1])
        #expect(found.allSatisfy { $0.message.contains("beyond what fq can hold") })
    }
}
