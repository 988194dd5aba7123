import Foundation
import Testing
import Netfault

/// `netfault claims --from A B …` and `netfault matrix A B …` over runs saved on disk, as
/// scripts/kernel-matrix calls them.
@Suite struct ClaimsAcrossKernelsCLITests {
    /// H2 as two kernels saw it: 6.1's doubling schedule, 6.18's linear timeouts first.
    static func run(_ kernel: String, _ times: [Double]) -> RunResult {
        RunResult(kernel: kernel, startedAt: "2026-12-04T00:00:00Z", scenarios: [
            ScenarioResult(id: "H2", name: "lost SYN", status: .passed, expectations: [
                ExpectationResult(description: "SYN from client at client's SYN retransmission schedule", passed: true,
                                  location: "Scenarios/H2_LostSyn.swift:28", expected: "…", observed: "at \(times)",
                                  observedValues: [ObservedValue("count", Double(times.count)), ObservedValue("last", times.last!, unit: "s")],
                                  tolerance: .timer),
            ]),
        ])
    }

    func withRuns(_ body: ([String], URL) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("netfault-claims-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var paths: [String] = []
        for (kernel, times) in [("6.1.0-50-amd64", [0, 1, 3, 7.0]), ("6.18.0", [0, 1, 2, 3, 4, 5, 7.0])] {
            let url = directory.appendingPathComponent("\(kernel).json")
            try JSONReport.encode(Self.run(kernel, times)).write(to: url)
            paths.append(url.path)
        }
        try body(paths, directory)
    }

    @Test func claimsFromSeveralRunsShowsTheTableAndTheChange() throws {
        try withRuns { paths, directory in
            let html = directory.appendingPathComponent("claims.html")
            let result = try CLI.run(["claims", "--from"] + paths + ["--html", html.path])
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout.contains("ID  6.1.0-50-amd64  6.18.0\nH2  partly          partly"), "\(result)")
            #expect(result.stdout.contains("6.1.0-50-amd64 → 6.18.0: count 4 → 7"), "\(result)")
            let page = try String(contentsOf: html, encoding: .utf8)
            #expect(page.contains("<h2>What changed between kernels</h2>") && page.contains("count 4 → 7"))
        }
    }

    @Test func claimsJSONIsTheMatrix() throws {
        try withRuns { paths, _ in
            let result = try CLI.run(["claims", "--json", "--from"] + paths)
            #expect(result.status == 0, "\(result)")
            let matrix = try JSONDecoder().decode(ClaimsMatrix.self, from: Data(result.stdout.utf8))
            #expect(matrix.kernels == ["6.1.0-50-amd64", "6.18.0"])
            #expect(matrix.claims.first { $0.id == "H2" }?.cells.map(\.verdict) == ["partly", "partly"])
            #expect(matrix.changes.map(\.id) == ["H2"])
        }
    }

    @Test func matrixPrintsScenarioByKernel() throws {
        try withRuns { paths, _ in
            let result = try CLI.run(["matrix"] + paths)
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout.hasPrefix("scenario  6.1.0-50-amd64  6.18.0\nH2        passed          passed"), "\(result)")
        }
    }

    @Test func matrixWithoutRunsIsAUsageError() throws {
        let result = try CLI.run(["matrix"])
        #expect(result.status == 2, "\(result)")
    }
}
