import Foundation

/// scripts/validate-json, run with a python3 that has the jsonschema module (Debian's
/// python3-jsonschema, which scripts/bootstrap.sh installs): the validator the schema tests
/// of NetfaultTests and NetfaultCLITests use.
public enum SchemaValidator {
    /// The validator's exit status and what it printed.
    public struct Outcome: CustomStringConvertible {
        /// Its exit status: 0 when the document is valid.
        public let status: Int32
        /// Its standard output and error.
        public let output: String
        /// "exit N: output".
        public var description: String { "exit \(status): \(output)" }
    }

    /// No python3 with the jsonschema module: what to install.
    public struct Missing: Error, CustomStringConvertible {
        /// The message.
        public var description: String { "no python3 with the jsonschema module: run scripts/bootstrap.sh (python3-jsonschema)" }
    }

    /// The package's root (Tests/Support/ is two folders down).
    public static let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// docs/schemas.
    public static let schemas = package.appendingPathComponent("docs/schemas")
    /// Tests/ResultFixtures.
    public static let fixtures = package.appendingPathComponent("Tests/ResultFixtures")

    /// Debian's own python3 first (the package's home); else the first on PATH that has the module.
    public static let python: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let candidates = ["/usr/bin/python3"] + path.split(separator: ":").map { "\($0)/python3" }
        return candidates.first { candidate in
            FileManager.default.isExecutableFile(atPath: candidate)
                && (try? execute(candidate, ["-c", "import jsonschema"]).status) == 0
        }
    }()

    /// Runs `executable` with `arguments`, its output and error together.
    public static func execute(_ executable: String, _ arguments: [String]) throws -> Outcome {
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

    /// Runs the validator with these arguments; throws `Missing` (what to install) without one.
    public static func run(_ arguments: [String]) throws -> Outcome {
        guard let python else { throw Missing() }
        return try execute(python, [package.appendingPathComponent("scripts/validate-json").path] + arguments)
    }

    /// Validates `document` against docs/schemas/`schema`.schema.json.
    public static func validate(_ document: Data, against schema: String) throws -> Outcome {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("netfault-schema-\(UUID().uuidString).json")
        try document.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return try run([schemas.appendingPathComponent("\(schema).schema.json").path, file.path])
    }
}
