import ArgumentParser
import Foundation
import Netfault

/// Renders a result after the fact, e.g. one copied from a CI machine, without running anything.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render a result file written by `netfault run --json`.",
        discussion: "Prints every scenario's ladder diagram, or with --html writes the HTML report instead (add --ladder for both)."
    )

    @Argument(help: ArgumentHelp("A result file from `netfault run --json`.", valueName: "RESULT.json"))
    var result: String

    @Option(help: "Write a self-contained HTML report to this file.")
    var html: String?

    @Flag(help: "Print a ladder diagram of every scenario's segments.")
    var ladder = false

    func run() throws {
        // A file that cannot be read or is not a result is bad usage (exit 2), like a bad argument.
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: result))
        } catch {
            throw ValidationError("cannot read \(result): \(error.localizedDescription)")
        }
        let decoded: RunResult
        do {
            decoded = try JSONReport.decode(data)
        } catch {
            throw ValidationError("\(result) is not a netfault result: \(error)")
        }
        if html == nil || ladder {
            for scenario in decoded.scenarios { print(LadderDiagram.render(scenario)) }
        }
        if let html { try Data(HTMLReport.render(decoded).utf8).write(to: URL(fileURLWithPath: html)) }
    }
}
