import Foundation

/// A program run with stdin /dev/null and its stdout and stderr written to files in a scratch
/// directory of its own, removed after: no pipe can fill up and stall a chatty program. What the
/// CLI tests run `netfault` with and the report tests run chromium with.
public enum FileOutputProcess {
    /// How it ended and what it wrote.
    public struct Outcome: Sendable {
        /// The exit status (or the signal that ended it).
        public let status: Int32
        /// All it wrote to stdout.
        public let stdout: String
        /// All it wrote to stderr.
        public let stderr: String
        /// Whether it was still running at the timeout (then terminated).
        public let timedOut: Bool
    }

    /// Runs `executable ARGS` with `environment` (nil: this process's) until it exits, or until
    /// `timeout` seconds pass, when it is terminated.
    public static func run(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil,
                           timeout: TimeInterval? = nil) throws -> Outcome {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("netfault-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        try process.run()
        let timedOut = timeout.map { finished.wait(timeout: .now() + $0) == .timedOut } ?? false
        if timedOut { process.terminate() }
        process.waitUntilExit()
        try out.close()
        try err.close()
        return Outcome(status: process.terminationStatus,
                       stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                       stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self), timedOut: timedOut)
    }
}
