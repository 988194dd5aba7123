import ArgumentParser
import Foundation
import Netfault

struct ClaimsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "claims",
        abstract: "The source notes' claims, each with a verdict and the evidence of a real run.",
        discussion: """
            Without --from, runs the catalog's scenarios that test a claim (in parallel) and reports \
            on that run. With --from RESULT.json (from `netfault run --json`), reports on saved runs \
            instead; two of them (e.g. one from scripts/in-vm on Debian's 6.1, one from here) are \
            shown side by side.
            """
    )

    @Argument(help: "Scenario IDs (default: every scenario that tests a claim).")
    var ids: [String] = []

    @Option(name: .customLong("from"), help: "A saved run's JSON; repeat to compare runs side by side.")
    var runs: [String] = []

    @Flag(help: "Print the claims as JSON: a list of {id, claim, verdict, evidence, kernel}.")
    var json = false

    @Option(help: "How many scenarios run at once.")
    var parallel: Int = 11

    func validate() throws {
        if parallel < 1 { throw ValidationError("--parallel must be at least 1") }
    }

    func run() throws {
        let results: [RunResult]
        if runs.isEmpty {
            let scenarios = try Selection.scenarios(ids, all: ids.isEmpty).filter { $0.claim != nil }
            try Preflight.check(scenarios)
            SignalCleanup.install()
            results = [CatalogRunner.run(scenarios, parallel: parallel)]
        } else {
            results = try runs.map(SavedRun.read)
        }
        var claims = results.map { ClaimsReport.entries($0, catalog: CommandCatalog.scenarios) }
        if !ids.isEmpty {
            let wanted = Set(ids.map { $0.uppercased() })
            claims = claims.map { $0.filter { wanted.contains($0.id.uppercased()) } }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(claims.flatMap { $0 }), as: UTF8.self))
        } else {
            print(ClaimsReport.render(claims))
        }
    }
}
