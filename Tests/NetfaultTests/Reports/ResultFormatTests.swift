import Foundation
import NetfaultTestSupport
import Testing
@testable import Netfault

/// Every document netfault writes carries its versions and matches its schema in docs/schemas;
/// the schemas themselves are valid and document every property.
@Suite struct ResultFormatTests {
    /// ReportFixtures' run with every optional part filled in, so the schema sees each of them.
    static var richRun: RunResult {
        var run = ReportFixtures.run
        var scenario = run.scenarios[0]
        scenario.sysctls = [AppliedSysctl(host: "client", name: "net.ipv4.tcp_syn_retries", value: "2", source: .override)]
        scenario.expectations[0].observedValues = [ObservedValue("count", 3), ObservedValue("last", 3.01, unit: "s")]
        scenario.expectations[0].tolerance = .timer
        scenario.faults = [FaultPlan.Summary(description: "drop #2 SYN-ACK", backend: "nfqueue")]
        scenario.faultDecisions = [FaultDecision(time: 1.02, host: "server", fault: "drop #2 SYN-ACK", action: "dropped",
                                                 source: "10.77.1.2:8080", destination: "10.77.1.1:43210", flags: "S.",
                                                 sequence: 0, acknowledgment: 1, length: 0)]
        scenario.segments = [
            SegmentRecord(time: 0.001, host: "client", direction: "out", src: "10.77.1.1:43210", dst: "10.77.1.2:8080", flags: "S",
                          seq: 0, ack: 0, length: 0, window: 64240,
                          options: TCPOptions(mss: 1460, windowScale: 7, sackPermitted: true, timestamp: [1, 0]), receiver: "server"),
            SegmentRecord(time: 1.02, host: "server", direction: "out", src: "10.77.1.2:8080", dst: "10.77.1.1:43210", flags: "S.",
                          seq: 0, ack: 1, length: 0, fault: "dropped by drop #2 SYN-ACK"),
        ]
        scenario.observation = "events+sampling"
        let segment = EventSegment(from: "10.77.1.2:8080", to: "10.77.1.1:43210", flags: "SYN,ACK", seq: 4_000_000_000, ack: 17, length: 0)
        scenario.kernelDrops = [KernelDrop(time: 1.02, host: "server", reason: "NETFILTER_DROP", segment: segment)]
        scenario.retransmissions = [KernelRetransmission(announced: 2.04, departed: 2.041, earliest: 2.039, host: "server",
                                                         kind: .synAck, segment: segment)]
        scenario.resets = [KernelReset(time: 3, host: "client", direction: .sent, local: "10.77.1.1:43210",
                                       remote: "10.77.1.2:8080", reason: "NOT_SPECIFIED")]
        scenario.kernelTick = KernelTickLag(length: 0.004, largestLag: 0.0051)
        run.scenarios[0] = scenario
        run.scenarios[1].errorCause = .scenario
        run.scenarios[2].observationNote = "kernel events need BTF"
        run.scenarios[2].capture = "libpcap"
        run.scenarios[2].captureNote = "the timeline was captured with libpcap: the BPF capture did not start (tc filter add egress bpf: EPERM)"
        return run
    }

    static func object(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("a run carries schemaVersion and netfaultVersion at its top level")
    func runCarriesItsVersions() throws {
        let object = try Self.object(JSONReport.encode(ReportFixtures.run))
        #expect(object["schemaVersion"] as? Int == ResultFormat.run.currentVersion)
        #expect(object["netfaultVersion"] as? String == NetfaultVersion.current)
        #expect(Set(object.keys) == ["schemaVersion", "netfaultVersion", "kernel", "startedAt", "scenarios"])
    }

    @Test("every format has its own schema file, and its const is the version this build writes")
    func everyFormatHasItsSchema() throws {
        for format in ResultFormat.allCases {
            let url = SchemaValidator.package.appendingPathComponent(format.schemaPath)
            let schema = try Self.object(Data(contentsOf: url))
            let properties = try #require(schema["properties"] as? [String: Any], "\(format)")
            let version = try #require(properties["schemaVersion"] as? [String: Any], "\(format)")
            #expect(version["const"] as? Int == format.currentVersion, "\(format.schemaPath) describes another version")
            #expect((schema["$id"] as? String)?.hasSuffix("/" + url.lastPathComponent) == true, "\(format)")
        }
    }

    @Test("the version is MAJOR.MINOR.PATCH with an optional pre-release suffix")
    func versionIsSemantic() {
        #expect(NetfaultVersion.current.wholeMatch(of: /[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?/) != nil)
    }

    @Test("the schemas are valid 2020-12 schemas, with a description on every property")
    func schemasAreValidAndDocumented() throws {
        let outcome = try SchemaValidator.run(["--check-schemas", SchemaValidator.schemas.path])
        #expect(outcome.status == 0, "\(outcome)")
    }

    @Test("the schema check fails on a property without a description")
    func schemaCheckCanFail() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("netfault-schemas-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: SchemaValidator.schemas, to: directory)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("matrix.schema.json")
        var schema = try Self.object(Data(contentsOf: file))
        var properties = try #require(schema["properties"] as? [String: Any])
        properties["kernels"] = ["type": "array"]
        schema["properties"] = properties
        try JSONSerialization.data(withJSONObject: schema).write(to: file)
        let outcome = try SchemaValidator.run(["--check-schemas", directory.path])
        #expect(outcome.status == 1 && outcome.output.contains("#/properties/kernels has no description"), "\(outcome)")
    }

    @Test("a run with every optional part matches run.schema.json")
    func richRunIsValid() throws {
        let outcome = try SchemaValidator.validate(JSONReport.encode(Self.richRun), against: "run")
        #expect(outcome.status == 0, "\(outcome)")
    }

    @Test("a run missing a required field, or with one the schema does not know, does not validate")
    func invalidRunsFail() throws {
        var object = try Self.object(JSONReport.encode(ReportFixtures.run))
        object["kernel"] = nil
        let missing = try SchemaValidator.validate(JSONSerialization.data(withJSONObject: object), against: "run")
        #expect(missing.status == 1 && missing.output.contains("'kernel' is a required property"), "\(missing)")

        object = try Self.object(JSONReport.encode(ReportFixtures.run))
        var scenarios = try #require(object["scenarios"] as? [[String: Any]])
        scenarios[0]["seed"] = 42
        object["scenarios"] = scenarios
        let unknown = try SchemaValidator.validate(JSONSerialization.data(withJSONObject: object), against: "run")
        #expect(unknown.status == 1 && unknown.output.contains("scenarios/0") && unknown.output.contains("'seed'"), "\(unknown)")

        object = try Self.object(JSONReport.encode(ReportFixtures.run))
        object["schemaVersion"] = ResultFormat.run.currentVersion + 1
        let newer = try SchemaValidator.validate(JSONSerialization.data(withJSONObject: object), against: "run")
        #expect(newer.status == 1 && newer.output.contains("schemaVersion"), "\(newer)")
    }

    /// The fault engine's fields (fault-runtime): declared in version 1 before that build writes them.
    @Test("a scenario's faultSeed (64-bit) and a fault's reason validate")
    func faultEngineFieldsValidate() throws {
        var object = try Self.object(JSONReport.encode(Self.richRun))
        var scenarios = try #require(object["scenarios"] as? [[String: Any]])
        scenarios[0]["faultSeed"] = UInt64.max
        var faults = try #require(scenarios[0]["faults"] as? [[String: Any]])
        faults[0]["reason"] = "a delay needs sch_fq"
        faults[0]["backend"] = "bpf+fq"
        scenarios[0]["faults"] = faults
        object["scenarios"] = scenarios
        let outcome = try SchemaValidator.validate(JSONSerialization.data(withJSONObject: object), against: "run")
        #expect(outcome.status == 0, "\(outcome)")
    }

    @Test("a sweep matches sweep.schema.json, its points the run's scenario result")
    func sweepIsValid() throws {
        let data = try JSONReport.encode(SweepReportTests.sweep)
        #expect(try Self.object(data)["schemaVersion"] as? Int == ResultFormat.sweep.currentVersion)
        let outcome = try SchemaValidator.validate(data, against: "sweep")
        #expect(outcome.status == 0, "\(outcome)")
        var object = try Self.object(data)
        var points = try #require(object["points"] as? [[String: Any]])
        var result = try #require(points[0]["result"] as? [String: Any])
        result["status"] = "maybe"
        points[0]["result"] = result
        object["points"] = points
        let bad = try SchemaValidator.validate(JSONSerialization.data(withJSONObject: object), against: "sweep")
        #expect(bad.status == 1 && bad.output.contains("points/0/result/status"), "\(bad)")
    }

    static let catalog = [
        Scenario("H1", "handshake", claim: "The handshake takes one round trip.") { },
        Scenario("C7", "refused", claim: "A refused connect fails at once.") { },
    ]

    @Test("claims, with a change between two kernels, match claims.schema.json")
    func claimsAreValid() throws {
        var newer = Self.richRun
        newer.kernel = "6.18.0"
        newer.scenarios[0].status = .failed
        let matrix = ClaimsMatrix(runs: [Self.richRun, newer], catalog: Self.catalog)
        #expect(!matrix.changes.isEmpty)
        let outcome = try SchemaValidator.validate(ResultDocument(.claims, matrix).json(), against: "claims")
        #expect(outcome.status == 0, "\(outcome)")
    }

    @Test("the kernel matrix matches matrix.schema.json and says what the text says")
    func matrixIsValid() throws {
        let other = RunResult(kernel: "6.18.0", startedAt: "", scenarios: [ScenarioResult(id: "K9", name: "new", status: .passed)])
        let matrix = ScenarioMatrix(runs: [ReportFixtures.run, other])
        #expect(matrix.scenarios.map(\.id) == ["H1", "C7", "E2", "T3", "K9"])
        #expect(matrix.scenarios[4].cells.map(\.status) == ["absent", "passed"])
        #expect(matrix.scenarios[3].cells[0].reason == "needs kernel ≥ 6.1")
        #expect(matrix.totals.map(\.failed) == [2, 0] && matrix.anyFailed)
        let data = try ResultDocument(.matrix, matrix).json()
        let outcome = try SchemaValidator.validate(data, against: "matrix")
        #expect(outcome.status == 0, "\(outcome)")
        #expect(try Self.object(data)["schemaVersion"] as? Int == ResultFormat.matrix.currentVersion)
    }

    @Test("the document's keys join the value's own, sorted, slashes unescaped")
    func documentKeys() throws {
        let failed = ScenarioResult(id: "X1", name: "x", status: .failed, expectations: [
            ExpectationResult(description: "d", passed: false, location: "Scenarios/X1.swift:3", expected: "e", observed: "o"),
        ])
        let matrix = ScenarioMatrix(runs: [RunResult(kernel: "6.18.0", startedAt: "", scenarios: [failed])])
        let text = String(decoding: try ResultDocument(.matrix, matrix).json(), as: UTF8.self)
        let order = ["\"kernels\"", "\"netfaultVersion\"", "\"scenarios\"", "\"schemaVersion\"", "\"totals\""]
            .map { text.range(of: $0)?.lowerBound }
        #expect(order.allSatisfy { $0 != nil } && order == order.sorted { $0! < $1! }, "\(text)")
        #expect(text.contains("Scenarios/X1.swift:3: d: expected e, observed o") && !text.contains(#"\/"#))
    }
}
