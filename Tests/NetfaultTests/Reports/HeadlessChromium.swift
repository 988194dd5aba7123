import Foundation

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
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("netfault-chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu",
                             "--user-data-dir=\(scratch.appendingPathComponent("profile").path)"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["HOME": scratch.path]) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        try process.run()
        let timedOut = finished.wait(timeout: .now() + timeout) == .timedOut
        if timedOut {
            process.terminate()
            process.waitUntilExit()
        }
        try out.close()
        try err.close()
        let stderr = String(decoding: try Data(contentsOf: errURL), as: UTF8.self)
        if timedOut { throw Failure(description: "chromium did not finish within \(timeout) s\n\(stderr)") }
        guard process.terminationStatus == 0 else {
            throw Failure(description: "chromium exited \(process.terminationStatus)\n\(stderr)")
        }
        return String(decoding: try Data(contentsOf: outURL), as: UTF8.self)
    }
}
