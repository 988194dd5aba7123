import Foundation
import Testing
@testable import Netfault

@Suite struct JSONReportTests {
    private func object(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    private func scenarios(_ data: Data) throws -> [[String: Any]] {
        try #require(try object(data)["scenarios"] as? [[String: Any]])
    }

    @Test func topLevelKeys() throws {
        let data = try JSONReport.encode(ReportFixtures.run)
        #expect(Set(try object(data).keys) == ["schemaVersion", "netfaultVersion", "kernel", "startedAt", "scenarios"])
    }

    @Test func skipReasonIsNullForPassedScenarios() throws {
        let passed = try #require(try scenarios(JSONReport.encode(ReportFixtures.run)).first)
        #expect(passed.keys.contains("skipReason"))
        #expect(passed["skipReason"] is NSNull)
        #expect(passed["error"] == nil)
    }

    @Test func timesAreRoundedToMicroseconds() throws {
        let passed = try #require(try scenarios(JSONReport.encode(ReportFixtures.run)).first)
        #expect(passed["durationSeconds"] as? Double == 1.234568)
        let socket = try #require((passed["sockets"] as? [[String: Any]])?.first)
        let times = (socket["transitions"] as? [[String: Any]])?.compactMap { $0["time"] as? Double }
        #expect(times == [0, 0.001235])
        let process = try #require((passed["processes"] as? [[String: Any]])?.first)
        #expect(process["startTime"] as? Double == 0.000123)
        let event = try #require((process["events"] as? [[String: Any]])?.first)
        #expect(event["time"] as? Double == 0.001111)
    }

    @Test func textHasSortedKeysNoEscapedSlashesAndNoLongDecimals() throws {
        let text = try #require(String(data: try JSONReport.encode(ReportFixtures.run), encoding: .utf8))
        #expect(text.contains("\n  \"kernel\""))
        #expect(text.contains("Scenarios/H1.swift:12"))
        #expect(!text.contains(#"\/"#))
        #expect(!text.contains("1.2345678"))
        let kernel = try #require(text.range(of: "\"kernel\""))
        let scenarios = try #require(text.range(of: "\"scenarios\""))
        let startedAt = try #require(text.range(of: "\"startedAt\""))
        #expect(kernel.lowerBound < scenarios.lowerBound && scenarios.lowerBound < startedAt.lowerBound)
    }

    @Test func roundTripGivesTheRoundedResult() throws {
        let decoded = try JSONReport.decode(JSONReport.encode(ReportFixtures.run))
        #expect(decoded == ReportFixtures.run.roundedToMicroseconds())
        #expect(decoded.scenarios.map(\.status) == [.passed, .failed, .failed, .skipped])
        #expect(decoded.scenarios[3].skipReason == "needs kernel ≥ 6.1")
    }

    @Test func decodingGarbageThrows() {
        #expect(throws: (any Error).self) { try JSONReport.decode(Data("{\"kernel\": 1}".utf8)) }
    }

    @Test func faultsAndTheirDecisionsAreListed() throws {
        var run = ReportFixtures.run
        run.scenarios[0].faults = [FaultPlan.Summary(description: "drop #2 SYN-ACK at server→client", backend: "nfqueue"),
                                   FaultPlan.Summary(description: "client→server: loss 5 %", backend: "netem")]
        run.scenarios[0].faultDecisions = [FaultDecision(
            time: 1.0241234, host: "server", fault: "drop #2 SYN-ACK at server→client", action: "dropped",
            source: "10.77.1.2:8080", destination: "10.77.1.1:40000", flags: "S.", sequence: 7, acknowledgment: 8, length: 0)]
        let scenario = try #require(try scenarios(JSONReport.encode(run)).first)
        let faults = try #require(scenario["faults"] as? [[String: Any]])
        #expect(faults.map { $0["backend"] as? String } == ["nfqueue", "netem"])
        let decision = try #require((scenario["faultDecisions"] as? [[String: Any]])?.first)
        #expect(decision["action"] as? String == "dropped" && decision["flags"] as? String == "S.")
        #expect(try JSONReport.decode(JSONReport.encode(run)).scenarios[0].faultDecisions.count == 1)
    }

    @Test func resultsWithoutFaultsStillDecode() throws {
        var object = try object(JSONReport.encode(ReportFixtures.run))
        var scenarios = try #require(object["scenarios"] as? [[String: Any]])
        scenarios = scenarios.map { $0.filter { $0.key != "faults" && $0.key != "faultDecisions" } }
        object["scenarios"] = scenarios
        let decoded = try JSONReport.decode(JSONSerialization.data(withJSONObject: object))
        #expect(decoded.scenarios.allSatisfy { $0.faults.isEmpty && $0.faultDecisions.isEmpty })
    }
}
