import Foundation
import NetfaultTestSupport

/// Debian's chromium run headless on a file: the one check that a page really parses and renders.
enum HeadlessChromium {
    static let path = "/usr/bin/chromium"
    static let isInstalled = FileManager.default.isExecutableFile(atPath: path)

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs chromium with a fresh HOME and profile (so parallel runs never share a profile lock) and
    /// returns what it printed; output goes to files so no pipe can fill up.
    static func run(_ arguments: [String], timeout: TimeInterval = 60) throws -> String {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("netfault-chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let outcome = try FileOutputProcess.run(
            URL(fileURLWithPath: path),
            ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(home.appendingPathComponent("profile").path)"] + arguments,
            environment: ProcessInfo.processInfo.environment.merging(["HOME": home.path]) { $1 }, timeout: timeout)
        if outcome.timedOut { throw Failure(description: "chromium did not finish within \(timeout) s\n\(outcome.stderr)") }
        guard outcome.status == 0 else { throw Failure(description: "chromium exited \(outcome.status)\n\(outcome.stderr)") }
        return outcome.stdout
    }
}
