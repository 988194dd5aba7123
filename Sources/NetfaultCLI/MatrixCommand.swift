import ArgumentParser
import Foundation
import Netfault

/// The kernel matrix's summary from saved runs (scripts/kernel-matrix prints it after the runs).
struct MatrixCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matrix",
        abstract: "Scenario × kernel: passed, FAILED or skipped in each saved run, with the reasons.",
        discussion: "Exits 1 if a scenario failed in any run (skips allowed)."
    )

    @Argument(help: ArgumentHelp("Saved runs' JSON (`netfault run --json`), one per kernel (shards of one kernel's run are joined).",
                                 valueName: "RESULT.json"))
    var runs: [String]

    @Flag(help: "Print the matrix as JSON instead: {schemaVersion, netfaultVersion, kernels, scenarios: [{id, cells: [{kernel, status, reason}]}], totals} (docs/schemas/matrix.schema.json).")
    var json = false

    func validate() throws {
        if runs.isEmpty { throw ValidationError("give at least one RESULT.json") }
    }

    func run() throws {
        let matrix = ScenarioMatrix(runs: try SavedRun.readPerKernel(runs))
        if json {
            print(String(decoding: try ResultDocument(.matrix, matrix).json(), as: UTF8.self))
        } else {
            print(MatrixSummary.render(matrix))
        }
        if matrix.anyFailed {
            throw ExitCode(ExitStatus.failed)
        }
    }
}
