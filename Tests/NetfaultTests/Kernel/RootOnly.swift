import Foundation
import Testing

/// Kernel tests build real namespaces and need root; without it they are skipped, saying why.
enum RootOnly {
    static let isRoot = getuid() == 0
    static let reason: Comment = "needs root to create network namespaces"

    /// Runs a witness command (iproute2) and returns its stdout.
    static func witness(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// Pids whose /proc/PID/cmdline is exactly these words (like `pgrep -x -f`).
    static func processes(withCommandLine words: [String]) -> [String] {
        let wanted = Data((words.joined(separator: "\0") + "\0").utf8)
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return pids.filter { $0.allSatisfy(\.isNumber) }.filter {
            FileManager.default.contents(atPath: "/proc/\($0)/cmdline") == wanted
        }
    }

    /// What a run must not change on the host: the root namespace's links, addresses,
    /// routes, rules, qdiscs, nft and iptables rulesets, NFQUEUE bindings, net sysctls, and
    /// pins — as scripts/host-state prints them (scripts/reliability diffs the same).
    static func hostSnapshot() throws -> String {
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let snapshot = try witness(["bash", package.appendingPathComponent("scripts/host-state").path])
        #expect(snapshot.contains("## net-sysctls\n/proc/sys/net/"), "scripts/host-state printed the sysctls")
        return snapshot
    }
}
