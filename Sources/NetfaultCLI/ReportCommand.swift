import ArgumentParser
import Foundation
import Netfault

/// Renders a result after the fact, e.g. one copied from a CI machine, without running anything.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render a result file written by `netfault run --json`.",
        discussion: """
            Prints every scenario's ladder diagram, or with --html writes the HTML report instead (add --ladder for both). \
            Reads runs of every schemaVersion from \(ResultFormat.run.oldestReadableVersion) (no schemaVersion: before \
            versions) to \(ResultFormat.run.currentVersion); a newer one exits 5.
            """
    )

    @Argument(help: ArgumentHelp("A result file from `netfault run --json`.", valueName: "RESULT.json"))
    var result: String

    @Option(help: "Write a self-contained HTML report to this file.")
    var html: String?

    @Flag(help: "Print a ladder diagram of every scenario's segments.")
    var ladder = false

    func validate() throws {
        try OutputPaths.check([.file("--html", html)])
    }

    func run() throws {
        let decoded = try SavedRun.read(result)
        if html == nil || ladder {
            for scenario in decoded.scenarios { print(LadderDiagram.render(scenario)) }
        }
        OutputPaths.write([("--html", html, { Data(HTMLReport.render(decoded).utf8) })])
    }
}

/// A run saved by `netfault run --json`. A file that cannot be read or is not such a run
/// is bad usage (exit 2), like a bad argument; one of a version this build cannot read
/// (a newer netfault wrote it) exits 5, naming the file and both versions.
enum SavedRun {
    static func read(_ path: String) throws -> RunResult {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read the run \(path): no such file, or not readable")
        }
        do {
            return try JSONReport.decode(data)
        } catch let error as UnreadableResultVersion {
            Preflight.fail("\(path): \(error)", ExitStatus.unreadableVersion)
        } catch {
            throw ValidationError("\(path) is not a run written by `netfault run --json`: \(error)")
        }
    }

    /// Saved runs, one per kernel: shards of one kernel's run are joined.
    static func readPerKernel(_ paths: [String]) throws -> [RunResult] {
        RunResult.joiningShards(try paths.map(read))
    }
}
