import Foundation
import NetfaultTestSupport
import Testing
@testable import Netfault

/// Saved runs of every version this build reads still read (Tests/ResultFixtures), and one of
/// a newer version is refused with both versions named.
@Suite struct ResultVersionTests {
    static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: SchemaValidator.fixtures.appendingPathComponent(name))
    }

    @Test("version 0 in its oldest shape reads: stderr a string, no stdout, no faults or captures")
    func oldestVersionZero() throws {
        let run = try JSONReport.decode(Self.fixture("run-v0-oldest.json"))
        #expect(run.kernel == "6.1.0-28-amd64")
        let scenario = try #require(run.scenarios.first)
        #expect(scenario.status == .passed && scenario.faults.isEmpty && scenario.segments.isEmpty)
        #expect(scenario.observation == "sampling")
        #expect(scenario.sockets.first?.transitions.map(\.source) == ["sample", "sample"])
        let process = try #require(scenario.processes.first)
        #expect(process.stderr == ProcessOutput(whole: "connected\n"))
        #expect(process.stdout == ProcessOutput())
        #expect(scenario.expectations.first?.observedValues == [])
    }

    @Test("version 0 in its last shape (without schemaVersion) reads as version 1 does")
    func lastVersionZero() throws {
        let zero = try JSONReport.decode(Self.fixture("run-v0.json"))
        let one = try JSONReport.decode(Self.fixture("run-v1.json"))
        #expect(zero == one)
        #expect(!one.scenarios.isEmpty)
    }

    @Test("the version 1 fixture matches run.schema.json (and so is what this build writes)")
    func versionOneFixtureIsValid() throws {
        let outcome = try SchemaValidator.run([SchemaValidator.schemas.appendingPathComponent("run.schema.json").path,
                                               SchemaValidator.fixtures.appendingPathComponent("run-v1.json").path])
        #expect(outcome.status == 0, "\(outcome)")
        // Re-encoded, it is byte for byte what this build writes, apart from netfaultVersion.
        let again = try JSONReport.encode(JSONReport.decode(Self.fixture("run-v1.json")))
        var written = try ResultFormatTests.object(again), saved = try ResultFormatTests.object(Self.fixture("run-v1.json"))
        written["netfaultVersion"] = nil
        saved["netfaultVersion"] = nil
        #expect(written as NSDictionary == saved as NSDictionary)
    }

    @Test("a newer version is refused, naming it, who wrote it, and the newest this build reads")
    func newerIsRefused() throws {
        #expect(throws: UnreadableResultVersion(format: .run, version: 2, writtenBy: "0.2.0")) {
            try JSONReport.decode(Self.fixture("run-v2-newer.json"))
        }
        let error = UnreadableResultVersion(format: .run, version: 2, writtenBy: "0.2.0")
        #expect(error.description == "schemaVersion 2 (written by netfault 0.2.0) is newer than this netfault "
                + "\(NetfaultVersion.current) reads (≤ 1); upgrade netfault")
    }

    @Test("a version below the oldest readable is refused as too old; a non-integer version is not a run")
    func olderAndMalformed() throws {
        let old = UnreadableResultVersion(format: .run, version: -1, writtenBy: nil)
        #expect(old.description.contains("schemaVersion -1 is older than this netfault") && old.description.contains("(≥ 0)"))
        #expect(throws: UnreadableResultVersion.self) {
            try JSONReport.decode(Data(#"{"schemaVersion": -1, "kernel": "k", "startedAt": "", "scenarios": []}"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try JSONReport.decode(Data(#"{"schemaVersion": "1", "kernel": "k", "startedAt": "", "scenarios": []}"#.utf8))
        }
    }
}
