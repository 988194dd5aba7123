import Foundation
@testable import NetfaultKernel
import Testing
@testable import Netfault

/// The numbers the evaluator hands to sweeps, beside the text it always wrote.
@Suite struct ObservedValuesTests {
    typealias F = RecordingFixtures

    @Test("a schedule: how many, the last, and when the call gave up")
    func schedule() {
        var recording = F.recording(processes: [F.process("client", exit: 1, events: [
            PeerEvent(time: 15.2, call: "connect", result: -1, errno: "ETIMEDOUT")])])
        recording.faultDecisions = [0.1, 1.1, 3.1, 7.1].map {
            FaultDecision(time: $0, host: "client", fault: "lost SYNs", action: "dropped", source: "10.77.1.1:43210",
                          destination: "10.77.1.2:8080", flags: "S", sequence: 1, acknowledgment: 0, length: 0)
        }
        recording.sysctls = ["client": ["net.ipv4.tcp_syn_retries": 3]]
        let result = ExpectationEvaluator.evaluate(
            Expect.fault("lost SYNs", actedAt: .synRetransmissions(on: "client"), givingUp: PeerCall("client", "connect")),
            against: recording)
        #expect(result.passed)
        #expect(result.observedValues.map(\.name) == ["count", "last", "gives up"])
        #expect(result.observedValues[0].value == 4 && result.observedValues[0].unit == nil)
        #expect(abs(result.observedValues[1].value - 7.0) < 1e-9 && result.observedValues[1].unit == "s")
        #expect(abs(result.observedValues[2].value - 15.1) < 1e-9)
        // Counts and calls.
        let counted = ExpectationEvaluator.evaluate(Expect.fault("lost SYNs", acted: .equals(4)), against: recording)
        #expect(counted.observedValues == [ObservedValue("count", 4)])
        let call = ExpectationEvaluator.evaluate(Expect.peer("client", fails: "connect", with: "ETIMEDOUT"), against: recording)
        #expect(call.observedValues == [ObservedValue("at", 15.2, unit: "s")])
    }

    @Test("an old result without observedValues still decodes")
    func decodesOldResults() throws {
        let json = #"{"description": "d", "passed": true, "location": "X.swift:1", "expected": "e", "observed": "o"}"#
        let decoded = try JSONDecoder().decode(ExpectationResult.self, from: Data(json.utf8))
        #expect(decoded.observedValues.isEmpty && decoded.observed == "o")
    }
}
