import ArgumentParser
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

    func validate() throws {
        if runs.isEmpty { throw ValidationError("give at least one RESULT.json") }
    }

    func run() throws {
        let results = try SavedRun.readPerKernel(runs)
        print(MatrixSummary.render(results))
        if results.contains(where: { $0.scenarios.contains { $0.status == .failed } }) {
            throw ExitCode(ExitStatus.failed)
        }
    }
}
