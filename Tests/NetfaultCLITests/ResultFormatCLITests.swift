import Foundation
import NetfaultTestSupport
import Testing
import Netfault

/// `--version`, versioned saved runs read back (old ones read, newer ones refused with exit 5),
/// and the real JSON of every command validated against its schema in docs/schemas.
@Suite struct ResultVersionCLITests {
    static func fixture(_ name: String) -> String { SchemaValidator.fixtures.appendingPathComponent(name).path }

    @Test func versionPrintsTheOneVersion() throws {
        let result = try CLI.run(["--version"])
        #expect(result.status == 0 && result.stdout == NetfaultVersion.current + "\n", "\(result)")
    }

    @Test("report, claims --from and matrix refuse a newer run: exit 5, the file and both versions named")
    func newerRunIsRefused() throws {
        let path = Self.fixture("run-v2-newer.json")
        let message = "netfault: \(path): schemaVersion 2 (written by netfault 0.2.0) is newer than this netfault "
            + "\(NetfaultVersion.current) reads (≤ \(ResultFormat.run.currentVersion)); upgrade netfault"
        for arguments in [["report", path], ["claims", "--from", Self.fixture("run-v1.json"), path],
                          ["matrix", path], ["matrix", "--json", path]] {
            let result = try CLI.run(arguments)
            #expect(result.status == 5, "\(arguments): \(result)")
            #expect(result.stderr.contains(message), "\(arguments): \(result)")
            #expect(result.stdout.isEmpty, "\(arguments): \(result)")
        }
    }

    @Test("report, claims --from and matrix read every earlier version")
    func earlierVersionsRead() throws {
        let paths = ["run-v0-oldest.json", "run-v0.json", "run-v1.json"].map(Self.fixture)
        for path in paths {
            let report = try CLI.run(["report", path])
            #expect(report.status == 0 && !report.stdout.isEmpty, "\(path): \(report)")
        }
        let claims = try CLI.run(["claims", "--from"] + paths)
        #expect(claims.status == 0, "\(claims)")
        let matrix = try CLI.run(["matrix"] + paths)
        #expect(matrix.status == 0 && matrix.stdout.hasPrefix("scenario "), "\(matrix)")
    }

    @Test("matrix --json over saved runs matches matrix.schema.json and exits as the text does")
    func matrixJSON() throws {
        let paths = ["run-v0-oldest.json", "run-v1.json"].map(Self.fixture)
        let result = try CLI.run(["matrix", "--json"] + paths)
        let text = try CLI.run(["matrix"] + paths)
        #expect(result.status == text.status, "\(result)")
        let outcome = try SchemaValidator.validate(Data(result.stdout.utf8), against: "matrix")
        #expect(outcome.status == 0, "\(outcome)\n\(result)")
        let matrix = try JSONDecoder().decode(ScenarioMatrix.self, from: Data(result.stdout.utf8))
        #expect(matrix.kernels.count == 2 && MatrixSummary.render(matrix) + "\n" == text.stdout)
    }

    @Test("claims --json over saved runs matches claims.schema.json")
    func claimsJSON() throws {
        let paths = ["run-v0-oldest.json", "run-v1.json"].map(Self.fixture)
        let result = try CLI.run(["claims", "--json", "--from"] + paths)
        #expect(result.status == 0, "\(result)")
        let outcome = try SchemaValidator.validate(Data(result.stdout.utf8), against: "claims")
        #expect(outcome.status == 0, "\(outcome)\n\(result)")
    }
}

/// Real outputs, as root: a run with a fault, a sweep, claims from a real run, each benchmark
/// with tiny sizes; each file validated against its schema. Each command makes and removes
/// its own namespaces.
@Suite(.enabled(if: isRoot, "needs root"), .serialized)
struct RealOutputSchemaTests {
    func validated(_ file: URL, _ schema: String) throws {
        let data = try Data(contentsOf: file)
        let outcome = try SchemaValidator.validate(data, against: schema)
        #expect(outcome.status == 0, "\(schema): \(outcome)")
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["netfaultVersion"] as? String == NetfaultVersion.current)
    }

    func withFile(_ name: String, _ body: (URL) throws -> Void) throws {
        let file = CLI.temporaryFile(name)
        defer { try? FileManager.default.removeItem(at: file) }
        try body(file)
    }

    @Test("run --json (a lost SYN and a refused connection) matches run.schema.json and reads back", .timeLimit(.minutes(1)))
    func run() throws {
        try withFile("run.json") { file in
            let result = try CLI.run(["run", "H3", "K6", "--json", file.path])
            #expect(result.status == 0, "\(result)")
            try validated(file, "run")
            let run = try JSONReport.decode(Data(contentsOf: file))
            #expect(run.scenarios.first?.faultDecisions.isEmpty == false, "H3's fault decided nothing")
            let report = try CLI.run(["report", file.path])
            #expect(report.status == 0, "\(report)")
        }
    }

    @Test("sweep --json matches sweep.schema.json", .timeLimit(.minutes(1)))
    func sweep() throws {
        try withFile("sweep.json") { file in
            let result = try CLI.run(["sweep", "K6", "--sysctl", "client:net.ipv4.tcp_syn_retries=1,2", "--json", file.path])
            #expect(result.status == 0, "\(result)")
            try validated(file, "sweep")
        }
    }

    @Test("claims --json from a real run matches claims.schema.json", .timeLimit(.minutes(1)))
    func claims() throws {
        let result = try CLI.run(["claims", "K6", "--json"])
        #expect(result.status == 0, "\(result)")
        try withFile("claims.json") { file in
            try Data(result.stdout.utf8).write(to: file)
            try validated(file, "claims")
        }
    }

    /// Each benchmark at its smallest (the figures mean nothing here; the shape is the point).
    func bench(_ name: String, _ options: [String], then check: ([String: Any]) throws -> Void = { _ in }) throws {
        try withFile("bench-\(name).json") { file in
            let result = try CLI.run(["bench", name] + options + ["--json", file.path])
            #expect(result.status == 0, "\(result)")
            try validated(file, "bench-\(name)")
            try check(try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any]))
        }
    }

    @Test("bench topology --json matches its schema", .timeLimit(.minutes(2)))
    func benchTopology() throws { try bench("topology", ["--pairs", "2", "--rounds", "1", "--baseline", ""]) }

    @Test("bench faults --json matches its schema", .timeLimit(.minutes(2)))
    func benchFaults() throws { try bench("faults", ["--bytes", "1000000", "--rounds", "1"]) }

    @Test("bench faults --sides runs clean and the sides asked for", .timeLimit(.minutes(2)))
    func benchFaultsSides() throws {
        try withFile("bench-faults-sides.json") { file in
            let result = try CLI.run(["bench", "faults", "--sides", "control", "--bytes", "1000000", "--rounds", "2", "--json", file.path])
            #expect(result.status == 0, "\(result)")
            try validated(file, "bench-faults")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
            let sides = try #require(object["sides"] as? [[String: Any]])
            #expect(sides.map { $0["name"] as? String } == ["clean", "SYN/FIN/RST rules"])
            #expect(sides.allSatisfy { ($0["roundsMbps"] as? [Double])?.count == 2 })
        }
    }

    @Test("bench timeline --json matches its schema", .timeLimit(.minutes(2)),
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tcpdump"), "bench timeline needs tcpdump (scripts/bootstrap.sh)"))
    func benchTimeline() throws {
        try bench("timeline", ["--bytes", "1000000", "--rounds", "1"]) { object in
            // The accounted transfer: each capture program once, summed over the hosts; the tc
            // program ran on the transfer's packets.
            let programs = try #require(object["capturePrograms"] as? [[String: Any]])
            let names = programs.compactMap { $0["program"] as? String }
            #expect(names.contains("capture_egress") && Set(names).count == names.count
                    && Set(names).isSubset(of: ["capture_egress", "capture_departure"]), "\(names)")
            #expect(programs.allSatisfy { ($0["runs"] as? Int ?? 0) > 0 }, "\(programs)")
            #expect((object["captureProgramCPUPercent"] as? Double ?? 0) > 0)
            #expect((object["captureReaderCPUPercent"] as? Double ?? 0) > 0, "the readers read the rings")
        }
    }

    @Test("bench output --json matches its schema", .timeLimit(.minutes(2)))
    func benchOutput() throws { try bench("output", ["--bytes", "100000", "--rounds", "1"]) }

    @Test("bench observation --json matches its schema", .timeLimit(.minutes(2)),
          .enabled(if: FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux"), "kernel events need BTF (/sys/kernel/btf/vmlinux)"))
    func benchObservation() throws { try bench("observation", ["--bytes", "1000000", "--rounds", "1", "--scenarios", "K6"]) }
}
