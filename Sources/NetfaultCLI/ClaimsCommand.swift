import ArgumentParser
import Foundation
import Netfault

struct ClaimsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "claims",
        abstract: "The source notes' claims, each with a verdict and the evidence of a real run.",
        discussion: """
            Without --from, runs the catalog's scenarios that test a claim (in parallel) and reports \
            on that run. With --from A.json B.json … (from `netfault run --json`, e.g. one per kernel \
            from scripts/kernel-matrix), reports on saved runs instead: claim × kernel, then what \
            changed between the kernels (each expectation that passed on one and not the next, or \
            whose states, errnos or counts differ, or whose timer readings differ beyond its tolerance; \
            instants without a tolerance are not compared).
            """
    )

    @Argument(help: "Scenario IDs (default: every scenario that tests a claim); before --from, which takes every word after it.")
    var ids: [String] = []

    @Option(name: .customLong("from"), parsing: .upToNextOption,
            help: ArgumentHelp("Saved runs' JSON, one per kernel (shards of one kernel's run are joined), compared in the order given.",
                               valueName: "RESULT.json"))
    var runs: [String] = []

    @Flag(help: "Print the claims as JSON: {schemaVersion, netfaultVersion, kernels, claims: [{id, claim, cells: [{kernel, verdict, evidence}]}], changes} (docs/schemas/claims.schema.json).")
    var json = false

    @Option(help: "Also write a self-contained HTML page: the claims against the kernels and what changed between them.")
    var html: String?

    @Option(help: "How many scenarios run at once (default 11; 1 where the CPU is emulated, e.g. QEMU without KVM).")
    var parallel: Int?

    func validate() throws {
        if let parallel, parallel < 1 { throw ValidationError("--parallel must be at least 1") }
        try OutputPaths.check([.file("--html", html)])
    }

    func run() throws {
        let results: [RunResult]
        if runs.isEmpty {
            let scenarios = try Selection.scenarios(ids, all: ids.isEmpty).filter { $0.claim != nil }
            try Preflight.check(scenarios)
            SignalCleanup.install()
            results = [CatalogRunner.run(scenarios, parallel: ParallelDefault.here(requested: parallel, usual: 11).said())]
        } else {
            results = try SavedRun.readPerKernel(runs)
        }
        let matrix = ClaimsMatrix(runs: results, catalog: CommandCatalog.scenarios, ids: ids)
        OutputPaths.write([("--html", html, { Data(ClaimsHTMLReport.render(matrix).utf8) })])
        if json {
            print(String(decoding: try ResultDocument(.claims, matrix).json(), as: UTF8.self))
        } else {
            print(ClaimsReport.render(matrix))
        }
    }
}
