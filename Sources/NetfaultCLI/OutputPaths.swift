import ArgumentParser
import Foundation
import NetfaultKernel

/// A file or directory an option asks netfault to write: `--json FILE`, `--pcap DIR`…
struct RequestedOutput {
    let option: String
    let path: String?
    let kind: OutputFiles.Kind

    static func file(_ option: String, _ path: String?) -> RequestedOutput { RequestedOutput(option: option, path: path, kind: .file) }
    static func directory(_ option: String, _ path: String?) -> RequestedOutput {
        RequestedOutput(option: option, path: path, kind: .directory)
    }
}

/// Outputs are checked in `validate()`, before any scenario is built, so a typo costs no
/// run: a bad one is bad usage (exit 2) naming the option, the path and the errno. A write
/// that fails after the run (disk full) is the machine's failure (exit 3), not a test's.
enum OutputPaths {
    static func check(_ outputs: [RequestedOutput]) throws {
        var problems: [String] = []
        for output in outputs {
            guard let path = output.path else { continue }
            do {
                try OutputFiles.probe(path, as: output.kind)
            } catch {
                problems.append("\(output.option) \(error)")
            }
        }
        if !problems.isEmpty { throw ValidationError(problems.joined(separator: "\n")) }
    }

    /// Writes each (option, path, contents) that was asked for; every failure is reported,
    /// then the process exits 3.
    static func write(_ outputs: [(option: String, path: String?, contents: () throws -> Data)]) {
        var problems: [String] = []
        for output in outputs {
            guard let path = output.path else { continue }
            do {
                try OutputFiles.write(try output.contents(), to: path)
            } catch {
                problems.append("cannot write \(output.option) \(error)")
            }
        }
        if !problems.isEmpty { Preflight.fail(problems.joined(separator: "\nnetfault: "), ExitStatus.environment) }
    }
}
