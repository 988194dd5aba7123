import Foundation
import Testing

/// scripts/validate-json, run with a python3 that has the jsonschema module (Debian's
/// python3-jsonschema, which scripts/bootstrap.sh installs): the validator the schema tests use.
enum SchemaValidator {
    struct Outcome: CustomStringConvertible {
        let status: Int32
        let output: String
        var description: String { "exit \(status): \(output)" }
    }

    static let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let schemas = package.appendingPathComponent("docs/schemas")
    static let fixtures = package.appendingPathComponent("Tests/ResultFixtures")

    /// Debian's own python3 first (the package's home); else the first on PATH that has the module.
    static let python: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let candidates = ["/usr/bin/python3"] + path.split(separator: ":").map { "\($0)/python3" }
        return candidates.first { candidate in
            FileManager.default.isExecutableFile(atPath: candidate)
                && (try? execute(candidate, ["-c", "import jsonschema"]).status) == 0
        }
    }()

    static func execute(_ executable: String, _ arguments: [String]) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self))
    }

    /// Runs the validator with these arguments; fails the test (with what to install) without one.
    static func run(_ arguments: [String]) throws -> Outcome {
        let python = try #require(python, "no python3 with the jsonschema module: run scripts/bootstrap.sh (python3-jsonschema)")
        return try execute(python, [package.appendingPathComponent("scripts/validate-json").path] + arguments)
    }

    /// Validates `document` against docs/schemas/`schema`.schema.json.
    static func validate(_ document: Data, against schema: String) throws -> Outcome {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("netfault-schema-\(UUID().uuidString).json")
        try document.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return try run([schemas.appendingPathComponent("\(schema).schema.json").path, file.path])
    }
}
